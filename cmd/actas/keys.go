package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

type keyJSON struct {
	Tenant      string `json:"tenant"`
	KID         string `json:"kid"`
	Use         string `json:"use"`
	Alg         string `json:"alg"`
	State       string `json:"state"`
	CreatedAt   any    `json:"createdAt"`
	ActivateAt  any    `json:"activateAt"`
	RetireUntil any    `json:"retireUntil"`
}

func keyView(tenant string, k *actas.SigningKey, state string) keyJSON {
	return keyJSON{tenant, k.KID, k.Use, k.Alg, state, timeOrNil(k.CreatedAt), timeOrNil(k.ActivateAt), timeOrNil(k.RetireUntil)}
}

// keyStates returns the state of each of a tenant's keys at now, by the
// rule the issuer signs with: "next" until it activates; "active" for
// the last activated key of its use and algorithm; "retired" for older
// ones still published; "expired" once out of JWKS; "withdrawn" for a
// key taken out of service by keys retire.
func keyStates(keys []*actas.SigningKey, now time.Time) map[string]string {
	since := func(k *actas.SigningKey) time.Time {
		if k.ActivateAt.IsZero() {
			return k.CreatedAt
		}
		return k.ActivateAt
	}
	newest := map[string]*actas.SigningKey{}
	for _, k := range keys {
		if since(k).After(now) || k.State == actas.KeyWithdrawn {
			continue
		}
		if b := newest[k.Use+k.Alg]; b == nil || since(k).After(since(b)) ||
			(since(k).Equal(since(b)) && b.State == actas.KeyRetired && k.State != actas.KeyRetired) { // a replacement wins a tie
			newest[k.Use+k.Alg] = k
		}
	}
	st := make(map[string]string, len(keys))
	for _, k := range keys {
		switch {
		case k.State == actas.KeyWithdrawn:
			st[k.KID] = actas.KeyWithdrawn
		case since(k).After(now):
			st[k.KID] = actas.KeyNext
		case newest[k.Use+k.Alg] == k:
			st[k.KID] = actas.KeyActive
		case !k.RetireUntil.IsZero() && !k.RetireUntil.After(now):
			st[k.KID] = "expired"
		default:
			st[k.KID] = actas.KeyRetired
		}
	}
	return st
}

func (m *Main) keysCommand(g *globals) *cobra.Command {
	cmd := parent("keys", "signing keys and the master key")
	var tenant string
	list := &cobra.Command{
		Use:   "list [--tenant NAME]",
		Short: "list signing keys",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				ts, err := e.store.Tenants(ctx)
				if err != nil {
					return err
				}
				if tenant != "" {
					t, err := e.issuer.TenantByName(ctx, tenant)
					if err != nil {
						return err
					}
					ts = []*actas.Tenant{t}
				}
				out := []keyJSON{}
				var rows [][]string
				now := m.Now()
				for _, t := range ts {
					keys, err := e.store.SigningKeys(ctx, t.ID)
					if err != nil {
						return err
					}
					states := keyStates(keys, now)
					for _, k := range keys {
						st := states[k.KID]
						out = append(out, keyView(t.Name, k, st))
						rows = append(rows, []string{t.Name, k.KID, k.Use, k.Alg, st, fmtTime(k.CreatedAt), fmtTime(k.ActivateAt), fmtTime(k.RetireUntil)})
					}
				}
				return m.emit(g, map[string]any{"keys": out}, func() {
					m.table("TENANT\tKID\tUSE\tALG\tSTATE\tCREATED\tACTIVATES\tIN JWKS UNTIL", rows)
				})
			})
		},
	}
	list.Flags().StringVar(&tenant, "tenant", "", "only this tenant's keys")

	var rotTenant string
	var delay time.Duration
	rotate := &cobra.Command{
		Use:   "rotate [--tenant NAME] [--delay D]",
		Short: "publish new signing keys now; they sign after --delay (all tenants if --tenant is not given)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if delay < 0 {
				return usageError{fmt.Errorf("--delay must not be negative")}
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				names := []string{rotTenant}
				if rotTenant == "" {
					ts, err := e.store.Tenants(ctx)
					if err != nil {
						return err
					}
					names = names[:0]
					for _, t := range ts {
						names = append(names, t.Name)
					}
				}
				out := []keyJSON{}
				now := m.Now()
				for _, name := range names {
					keys, err := e.issuer.RotateKeys(ctx, name, delay)
					if err != nil {
						return err
					}
					states := keyStates(keys, now)
					for _, k := range keys {
						out = append(out, keyView(name, k, states[k.KID]))
					}
					if !g.json {
						fmt.Fprintf(m.Stdout, "tenant %s: new keys published, signing from %s\n", name, fmtTime(now.Add(delay)))
					}
				}
				if g.json {
					return m.printJSON(map[string]any{"keys": out})
				}
				return nil
			})
		},
	}
	rotate.Flags().StringVar(&rotTenant, "tenant", "", "tenant name")
	rotate.Flags().DurationVar(&delay, "delay", 0, "how long new keys are published before they sign (let verifiers fetch them first)")

	genmaster := &cobra.Command{
		Use:   "genmaster",
		Short: "print a fresh master key for ACTAS_MASTER_KEY",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			k := token.GenerateMasterKey()
			return m.emit(g, map[string]string{"masterKey": k}, func() { fmt.Fprintln(m.Stdout, k) })
		},
	}
	cmd.AddCommand(list, rotate, genmaster, m.keysRetireCommand(g), m.keysRewrapCommand(g))
	return cmd
}
