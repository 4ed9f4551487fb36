package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/token"
)

// keys retire (withdraw a compromised key) and keys rewrap (master key
// rotation).

func (m *Main) keysRetireCommand(g *globals) *cobra.Command {
	var revokeSessions bool
	cmd := &cobra.Command{
		Use:   "retire KID [--revoke-sessions]",
		Short: "withdraw a signing key at once (compromise): out of JWKS now, never signs again, its tokens refused",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				ctx, cancel := context.WithTimeout(ctx, bulkTimeout) // may revoke every session of a tenant
				defer cancel()
				res, err := e.issuer.WithdrawKey(ctx, args[0], revokeSessions)
				if err != nil {
					return err
				}
				return m.printWithdrawn(g, res, revokeSessions)
			})
		},
	}
	cmd.Flags().BoolVar(&revokeSessions, "revoke-sessions", false, "also revoke every session of the key's tenant (everyone signs in again)")
	return cmd
}

// printWithdrawn reports what keys retire did.
func (m *Main) printWithdrawn(g *globals, res *issuer.WithdrawResult, revokeSessions bool) error {
	k := res.Key
	out := map[string]any{
		"tenant": res.Tenant.Name, "kid": k.KID, "use": k.Use, "alg": k.Alg, "state": k.State,
		"retireUntil": timeOrNil(k.RetireUntil), "alreadyWithdrawn": res.Already,
		"replacement": nil, "revokedSessions": res.Revoked,
	}
	if r := res.Replacement; r != nil {
		st := issuer.KeyStates([]*actas.SigningKey{r, k}, m.Now())[r.KID]
		out["replacement"] = keyView(res.Tenant.Name, r, st)
	}
	return m.emit(g, out, func() {
		if res.Already {
			fmt.Fprintf(m.Stdout, "tenant %s: signing key %s was already withdrawn (at %s)\n", res.Tenant.Name, k.KID, fmtTime(k.RetireUntil))
		} else {
			fmt.Fprintf(m.Stdout, "tenant %s: signing key %s (%s) withdrawn at %s: out of JWKS, no longer signing, its tokens refused\n",
				res.Tenant.Name, k.KID, k.Use, fmtTime(k.RetireUntil))
		}
		if r := res.Replacement; r != nil {
			since := r.ActivateAt
			if since.IsZero() {
				since = r.CreatedAt
			}
			fmt.Fprintf(m.Stdout, "tenant %s: replacement key %s signs %s tokens from %s\n", res.Tenant.Name, r.KID, r.Use, fmtTime(since))
		}
		if revokeSessions {
			fmt.Fprintf(m.Stdout, "tenant %s: %d sessions revoked\n", res.Tenant.Name, res.Revoked)
		} else {
			fmt.Fprintf(m.Stdout, "tenant %s: sessions were not revoked (--revoke-sessions); resource servers may accept the key's tokens until they fetch JWKS again\n", res.Tenant.Name)
		}
	})
}

func (m *Main) keysRewrapCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rewrap",
		Short: "re-encrypt every signing key from the current master key to ACTAS_NEW_MASTER_KEY",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := m.Getenv("ACTAS_NEW_MASTER_KEY")
			if v == "" {
				return usageError{fmt.Errorf("ACTAS_NEW_MASTER_KEY is required: the master key to re-encrypt under (actas keys genmaster prints one)")}
			}
			nk, err := token.ParseMasterKey(v)
			if err != nil {
				return fmt.Errorf("ACTAS_NEW_MASTER_KEY: %w", err)
			}
			next, err := token.NewSealer(nk)
			clear(nk)
			if err != nil {
				return fmt.Errorf("ACTAS_NEW_MASTER_KEY: %w", err)
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				res, err := e.issuer.RewrapKeys(ctx, next)
				if err != nil {
					if res != nil && res.Tenants > 0 {
						return fmt.Errorf("%w (the keys of %d tenants were already rewrapped; fix the cause and run it again)", err, res.Tenants)
					}
					return err
				}
				return m.emit(g, map[string]int{"tenants": res.Tenants, "rewrapped": res.Rewrapped, "alreadyRewrapped": res.Already}, func() {
					fmt.Fprintf(m.Stdout, "rewrapped %d signing keys of %d tenants under the new master key", res.Rewrapped, res.Tenants)
					if res.Already > 0 {
						fmt.Fprintf(m.Stdout, " (%d already were)", res.Already)
					}
					fmt.Fprintln(m.Stdout)
					fmt.Fprintln(m.Stdout, "next: run actas with ACTAS_MASTER_KEY set to the new key (see docs/operations.md, master key rotation)")
				})
			})
		},
	}
}
