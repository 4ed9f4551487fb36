package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
)

func (m *Main) auditCommand(g *globals) *cobra.Command {
	var tenant, since, action string
	var limit int
	cmd := &cobra.Command{
		Use:   "audit [--tenant NAME] [--since T] [--action A] [--json]",
		Short: "print audit events (--json: JSON Lines)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := actas.AuditFilter{Action: action, Limit: limit}
			if since != "" {
				t, err := parseSince(since, m.Now())
				if err != nil {
					return usageError{err}
				}
				f.Since = t
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				names := map[string]string{}
				if tenant != "" {
					t, err := e.issuer.TenantByName(ctx, tenant)
					if err != nil {
						return err
					}
					f.TenantID = t.ID
				}
				ts, err := e.issuer.Tenants(ctx)
				if err != nil {
					return err
				}
				for _, t := range ts {
					names[t.ID] = t.Name
				}
				events, err := e.issuer.AuditEvents(ctx, f)
				if err != nil {
					return err
				}
				var rows [][]string
				for _, ev := range events {
					if g.json { // JSON Lines: one object an event
						if err := m.printJSON(auditView(ev, names[ev.TenantID])); err != nil {
							return err
						}
						continue
					}
					rows = append(rows, []string{fmtTime(ev.Time), names[ev.TenantID], ev.Action, ev.Actor, ev.Subject, ev.Outcome, ev.Reason, ev.Details})
				}
				if !g.json {
					m.table("TIME\tTENANT\tACTION\tACTOR\tSUBJECT\tOUTCOME\tREASON\tDETAILS", rows)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's events")
	cmd.Flags().StringVar(&since, "since", "", "only events at or after T (RFC 3339 time, or a duration ago such as 24h or 7d)")
	cmd.Flags().StringVar(&action, "action", "", "only this action (signin, impersonate, token_exchange, refresh_reuse)")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many events (0: all)")
	return cmd
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := actas.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time or a duration such as 24h or 7d", s)
}

type auditJSON struct {
	ID        int64  `json:"id"`
	Time      string `json:"time"`
	Tenant    string `json:"tenant"`
	Action    string `json:"action"`
	Actor     string `json:"actor"`
	ActorSub  string `json:"actorSub"`
	Subject   string `json:"subject"`
	SubjectID string `json:"subjectSub"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason"`
	Details   string `json:"details"`
	Session   string `json:"session"`
	Parent    string `json:"parentSession"`
	APIKeyID  string `json:"apiKeyId"`
	IP        string `json:"ip"`
	UserAgent string `json:"userAgent"`
}

func auditView(ev *actas.AuditEvent, tenant string) auditJSON {
	return auditJSON{ev.ID, ev.Time.UTC().Format(time.RFC3339Nano), tenant, ev.Action, ev.Actor, ev.ActorID,
		ev.Subject, ev.SubjectID, ev.Outcome, ev.Reason, ev.Details, ev.SessionID, ev.ParentID, ev.APIKeyID, ev.IP, ev.UserAgent}
}
