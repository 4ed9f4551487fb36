package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/actas-dev/actas"
)

const auditCols = `id, occurred_at, tenant_id, action, actor_id, actor, subject_id, subject, session_id, parent_id,
	api_key_id, ip, user_agent, outcome, reason, details`

// insertAudit appends ev and returns the id the database gave it.
func insertAudit(ctx context.Context, tx *sql.Tx, ev *actas.AuditEvent) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_events (occurred_at, tenant_id, action, actor_id, actor,
		subject_id, subject, session_id, parent_id, api_key_id, ip, user_agent, outcome, reason, details)
		VALUES (`+placeholders(15)+`)`,
		ms(ev.Time), ev.TenantID, ev.Action, ev.ActorID, ev.Actor, ev.SubjectID, ev.Subject, ev.SessionID,
		ev.ParentID, ev.APIKeyID, ev.IP, ev.UserAgent, ev.Outcome, ev.Reason, ev.Details)
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
	where, args := []string{"id > ?"}, []any{f.AfterID}
	if f.TenantID != "" {
		where, args = append(where, "tenant_id = ?"), append(args, f.TenantID)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "occurred_at >= ?"), append(args, ms(f.Since))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	if f.Subject != "" {
		where, args = append(where, "subject = ?"), append(args, f.Subject)
	}
	order := " ORDER BY id"
	if f.NewestFirst {
		order += " DESC"
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_events WHERE `+
		strings.Join(where, " AND ")+order+limitClause(f.Limit), args...)
	if err != nil {
		return nil, wrap("audit events", err)
	}
	out, err := collect(rows, func(row scanner) (*actas.AuditEvent, error) {
		var (
			ev actas.AuditEvent
			at int64
		)
		if err := row.Scan(&ev.ID, &at, &ev.TenantID, &ev.Action, &ev.ActorID, &ev.Actor, &ev.SubjectID,
			&ev.Subject, &ev.SessionID, &ev.ParentID, &ev.APIKeyID, &ev.IP, &ev.UserAgent, &ev.Outcome,
			&ev.Reason, &ev.Details); err != nil {
			return nil, err
		}
		ev.Time = fromMS(at)
		return &ev, nil
	})
	return out, wrap("audit events", err)
}
