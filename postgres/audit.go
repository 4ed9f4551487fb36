package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
)

const auditCols = `id, occurred_at, tenant_id, action, actor_id, actor, subject_id, subject, session_id, parent_id,
	api_key_id, ip, user_agent, outcome, reason, details`

// insertAudit appends ev and returns the id the database gave it.
func insertAudit(ctx context.Context, tx pgx.Tx, ev *actas.AuditEvent) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO audit_events (occurred_at, tenant_id, action, actor_id, actor,
		subject_id, subject, session_id, parent_id, api_key_id, ip, user_agent, outcome, reason, details)
		VALUES (`+placeholders(1, 15)+`) RETURNING id`,
		ms(ev.Time), ev.TenantID, ev.Action, ev.ActorID, ev.Actor, ev.SubjectID, ev.Subject, ev.SessionID,
		ev.ParentID, ev.APIKeyID, ev.IP, ev.UserAgent, ev.Outcome, ev.Reason, ev.Details).Scan(&id)
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
	var a args
	where := []string{"id > " + a.add(f.AfterID)}
	if f.TenantID != "" {
		where = append(where, "tenant_id = "+a.add(f.TenantID))
	}
	if f.Action != "" {
		where = append(where, "action = "+a.add(f.Action))
	}
	if !f.Since.IsZero() {
		where = append(where, "occurred_at >= "+a.add(ms(f.Since)))
	}
	if f.BeforeID > 0 {
		where = append(where, "id < "+a.add(f.BeforeID))
	}
	if f.Subject != "" {
		where = append(where, "subject = "+a.add(f.Subject))
	}
	order := " ORDER BY id"
	if f.NewestFirst {
		order += " DESC"
	}
	var out []*actas.AuditEvent
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT `+auditCols+` FROM audit_events WHERE `+
			strings.Join(where, " AND ")+order+limitClause(f.Limit), a...)
		if err != nil {
			return err
		}
		out, err = collect(rows, func(row scanner) (*actas.AuditEvent, error) {
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
		return err
	})
	return out, wrap("audit events", err)
}
