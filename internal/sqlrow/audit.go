package sqlrow

import (
	"strings"

	"github.com/actas-dev/actas"
)

// AuditInsertCols are the audit_events columns an insert fills (the
// database numbers the id), in AuditArgs's order.
var AuditInsertCols = []string{"occurred_at", "tenant_id", "action", "actor_id", "actor", "subject_id", "subject",
	"session_id", "parent_id", "api_key_id", "ip", "user_agent", "outcome", "reason", "details"}

// AuditCols is the audit_events table's column list as read: id, then
// AuditInsertCols.
var AuditCols = "id, " + strings.Join(AuditInsertCols, ", ")

// ScanAuditEvent scans a row of AuditCols.
func ScanAuditEvent(row Scanner) (*actas.AuditEvent, error) {
	var (
		ev actas.AuditEvent
		at int64
	)
	if err := row.Scan(&ev.ID, &at, &ev.TenantID, &ev.Action, &ev.ActorID, &ev.Actor, &ev.SubjectID,
		&ev.Subject, &ev.SessionID, &ev.ParentID, &ev.APIKeyID, &ev.IP, &ev.UserAgent, &ev.Outcome,
		&ev.Reason, &ev.Details); err != nil {
		return nil, err
	}
	ev.Time = FromMS(at)
	return &ev, nil
}

// AuditArgs returns the values of AuditInsertCols for ev.
func AuditArgs(ev *actas.AuditEvent) []any {
	return []any{MS(ev.Time), ev.TenantID, ev.Action, ev.ActorID, ev.Actor, ev.SubjectID, ev.Subject, ev.SessionID,
		ev.ParentID, ev.APIKeyID, ev.IP, ev.UserAgent, ev.Outcome, ev.Reason, ev.Details}
}

// AuditQuery returns the query of AuditEventStore.AuditEvents for f and its
// arguments: f's fields (Since inclusive, AfterID and BeforeID exclusive),
// in id order, p giving the driver's placeholder of the n-th argument.
func AuditQuery(f actas.AuditFilter, p func(n int) string) (string, []any) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+p(len(args)))
	}
	add("id > ", f.AfterID)
	if f.TenantID != "" {
		add("tenant_id = ", f.TenantID)
	}
	if f.Action != "" {
		add("action = ", f.Action)
	}
	if !f.Since.IsZero() {
		add("occurred_at >= ", MS(f.Since))
	}
	if f.BeforeID > 0 {
		add("id < ", f.BeforeID)
	}
	if f.Subject != "" {
		add("subject = ", f.Subject)
	}
	order := " ORDER BY id"
	if f.NewestFirst {
		order += " DESC"
	}
	return `SELECT ` + AuditCols + ` FROM audit_events WHERE ` + strings.Join(where, " AND ") + order +
		LimitClause(f.Limit), args
}
