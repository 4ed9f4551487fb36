package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
)

type sessionJSON struct {
	ID             string `json:"id"`
	Sub            string `json:"sub"`
	AuthTime       any    `json:"authTime"`
	ExpiresAt      any    `json:"expiresAt"`
	LastRefreshAt  any    `json:"lastRefreshAt"`
	RevokedAt      any    `json:"revokedAt"`
	RevokeReason   string `json:"revokeReason,omitempty"`
	ClientIP       string `json:"clientIp"`
	UserAgent      string `json:"userAgent"`
	ImpersonatorID string `json:"impersonator,omitempty"`
	ParentID       string `json:"parent,omitempty"`
}

func sessionView(s *actas.Session) sessionJSON {
	return sessionJSON{s.ID, s.UserID, timeOrNil(s.AuthTime), timeOrNil(s.ExpiresAt), timeOrNil(s.LastRefreshAt),
		timeOrNil(s.RevokedAt), s.RevokeReason, s.ClientIP, s.UserAgent, s.ImpersonatorID, s.ParentID}
}

func (m *Main) sessionCommand(g *globals) *cobra.Command {
	cmd := parent("session", "list and revoke sessions")
	var tenant, username string
	var all bool
	list := &cobra.Command{
		Use:   "list --tenant NAME [--username U]",
		Short: "list active sessions (--all: also revoked and expired ones)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag("tenant", tenant); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				f := actas.SessionFilter{}
				if username != "" {
					t, u, err := e.issuer.UserByName(ctx, tenant, username)
					if err != nil {
						return err
					}
					f.TenantID, f.UserID = t.ID, u.ID
				} else {
					t, err := e.issuer.TenantByName(ctx, tenant)
					if err != nil {
						return err
					}
					f.TenantID = t.ID
				}
				if !all {
					f.ActiveAt = m.Now()
				}
				list, err := e.issuer.Sessions(ctx, f)
				if err != nil {
					return err
				}
				out := make([]sessionJSON, 0, len(list))
				var rows [][]string
				for _, s := range list {
					out = append(out, sessionView(s))
					state := "active"
					if s.Revoked() {
						state = "revoked"
					} else if !m.Now().Before(s.ExpiresAt) {
						state = "expired"
					}
					rows = append(rows, []string{s.ID, s.UserID, state, fmtTime(s.AuthTime), fmtTime(s.ExpiresAt), s.ClientIP, s.ImpersonatorID})
				}
				return m.emit(g, map[string]any{"sessions": out}, func() {
					m.table("ID\tSUB\tSTATE\tAUTH TIME\tEXPIRES\tCLIENT IP\tIMPERSONATOR", rows)
				})
			})
		},
	}
	list.Flags().StringVar(&tenant, "tenant", "", "tenant name")
	list.Flags().StringVar(&username, "username", "", "only this user's sessions")
	list.Flags().BoolVar(&all, "all", false, "include revoked and expired sessions")

	var rvTenant, rvUsername string
	var rvAll bool
	revoke := &cobra.Command{
		Use:   "revoke ID | --tenant NAME (--all | --username U)",
		Short: "revoke a session and the impersonation sessions started from it; or every session of a tenant or of a user",
		Args: func(cmd *cobra.Command, args []string) error {
			return revokeUsage(args, rvTenant, rvUsername, rvAll)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				if len(args) == 0 {
					return m.revokeMany(ctx, g, e, rvTenant, rvUsername)
				}
				s, err := e.issuer.RevokeSession(ctx, args[0])
				if err != nil {
					return err
				}
				return m.emit(g, sessionView(s), func() {
					fmt.Fprintf(m.Stdout, "session %s revoked at %s\n", s.ID, fmtTime(s.RevokedAt))
				})
			})
		},
	}
	revoke.Flags().StringVar(&rvTenant, "tenant", "", "with --all or --username: the tenant")
	revoke.Flags().StringVar(&rvUsername, "username", "", "revoke every session of this user (and the impersonations it started)")
	revoke.Flags().BoolVar(&rvAll, "all", false, "revoke every session of the tenant (everyone signs in again)")
	cmd.AddCommand(list, revoke)
	return cmd
}
