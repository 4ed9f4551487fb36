package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// auditInsertQ appends an event of sqlrow.AuditArgs and returns its id.
var auditInsertQ = `INSERT INTO audit_events (` + strings.Join(sqlrow.AuditInsertCols, ", ") + `) VALUES (` +
	placeholders(1, len(sqlrow.AuditInsertCols)) + `) RETURNING id`

// insertAudit appends ev and returns the id the database gave it.
func insertAudit(ctx context.Context, tx pgx.Tx, ev *actas.AuditEvent) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, auditInsertQ, sqlrow.AuditArgs(ev)...).Scan(&id)
	return id, err
}

// AppendAudit appends an audit event and sets ev.ID.
func (db *DB) AppendAudit(ctx context.Context, ev *actas.AuditEvent) error {
	var id int64
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
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
//
// IDs come from an identity column: increasing in the order rows were
// inserted, not committed, so a reader following AfterID while replicas
// write may see a smaller id appear after a larger one (see
// docs/deployment.md). Revocations, which replicas follow by cursor, are
// numbered differently (see insertRevocations).
func (db *DB) AuditEvents(ctx context.Context, f actas.AuditFilter) ([]*actas.AuditEvent, error) {
	query, a := sqlrow.AuditQuery(f, pgPlaceholder)
	var out []*actas.AuditEvent
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, query, a...)
		if err != nil {
			return err
		}
		out, err = collect(rows, sqlrow.ScanAuditEvent)
		return err
	})
	return out, wrap("audit events", err)
}
