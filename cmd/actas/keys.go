package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
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

func (m *Main) keysCommand(g *globals) *cobra.Command {
	cmd := parent("keys", "signing keys and the master key")
	var tenant string
	list := &cobra.Command{
		Use:   "list [--tenant NAME]",
		Short: "list signing keys",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				ts, err := e.issuer.Tenants(ctx)
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
					keys, err := e.issuer.SigningKeys(ctx, t.ID)
					if err != nil {
						return err
					}
					states := issuer.KeyStates(keys, now)
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
				var results []issuer.RotateResult
				if rotTenant != "" {
					keys, err := e.issuer.RotateKeys(ctx, rotTenant, delay)
					if err != nil {
						return err
					}
					results = []issuer.RotateResult{{Tenant: &actas.Tenant{Name: rotTenant}, Keys: keys}}
				} else {
					// Every tenant, a few at a time: generating keys is
					// CPU-bound, so one per core.
					ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
					defer cancel()
					var err error
					if results, err = e.issuer.RotateAllKeys(ctx, delay, runtime.GOMAXPROCS(0)); err != nil {
						return err
					}
				}
				out := []keyJSON{}
				now := m.Now()
				var failed []error
				for _, r := range results {
					name := r.Tenant.Name
					if r.Err != nil {
						failed = append(failed, fmt.Errorf("tenant %s: %w", name, r.Err))
						continue
					}
					states := issuer.KeyStates(r.Keys, now)
					for _, k := range r.Keys {
						out = append(out, keyView(name, k, states[k.KID]))
					}
					if !g.json {
						fmt.Fprintf(m.Stdout, "tenant %s: new keys published, signing from %s\n", name, fmtTime(now.Add(delay)))
					}
				}
				if g.json {
					if err := m.printJSON(map[string]any{"keys": out}); err != nil {
						return err
					}
				}
				return errors.Join(failed...)
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
