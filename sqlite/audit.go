package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// auditInsertQ appends an event of sqlrow.AuditArgs.
var auditInsertQ = `INSERT INTO audit_events (` + strings.Join(sqlrow.AuditInsertCols, ", ") + `) VALUES (` +
	placeholders(len(sqlrow.AuditInsertCols)) + `)`

// insertAudit appends ev and returns the id the database gave it.
func insertAudit(ctx context.Context, tx *sql.Tx, ev *actas.AuditEvent) (int64, error) {
	res, err := tx.ExecContext(ctx, auditInsertQ, sqlrow.AuditArgs(ev)...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// AppendAudit appends an audit event and sets ev.ID.
func (db *DB) AppendAudit(ctx context.Context, ev *actas.AuditEvent) error {
	var id int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = insertAudit(ctx, tx, ev)
		return err
	})
	if err != nil {
		return wrap("append audit", err)
	}
	ev.ID = id
	return nil
}

// AuditEvents returns the events matching f in ID order. Since is
// inclusive, AfterID exclusive.
func (db *DB) AuditEvents(ctx context.Context, f actas.AuditFilter) ([]*actas.AuditEvent, error) {
	query, args := sqlrow.AuditQuery(f, func(int) string { return "?" })
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap("audit events", err)
	}
	out, err := collect(rows, sqlrow.ScanAuditEvent)
	return out, wrap("audit events", err)
}
