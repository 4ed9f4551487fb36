package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func (m *Main) apikeyCommand(g *globals) *cobra.Command {
	cmd := parent("apikey", "manage API keys")
	var tenant, name string
	create := &cobra.Command{
		Use:   "create --tenant NAME [--name LABEL]",
		Short: "create an API key (printed once)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag("tenant", tenant); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				k, secret, err := e.issuer.CreateAPIKey(ctx, tenant, name)
				if err != nil {
					return err
				}
				return m.emit(g, map[string]string{"id": k.ID, "apiKey": secret}, func() {
					fmt.Fprintf(m.Stdout, "API key %s created for tenant %s (shown once):\n%s\n", k.ID, tenant, secret)
				})
			})
		},
	}
	create.Flags().StringVar(&tenant, "tenant", "", "tenant name")
	create.Flags().StringVar(&name, "name", "", "a label for the key")

	var listTenant string
	list := &cobra.Command{
		Use:   "list --tenant NAME",
		Short: "list a tenant's API keys",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag("tenant", listTenant); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				t, err := e.issuer.TenantByName(ctx, listTenant)
				if err != nil {
					return err
				}
				keys, err := e.issuer.APIKeys(ctx, t.ID)
				if err != nil {
					return err
				}
				type keyJSON struct {
					ID         string `json:"id"`
					Prefix     string `json:"prefix"`
					Name       string `json:"name"`
					CreatedAt  any    `json:"createdAt"`
					LastUsedAt any    `json:"lastUsedAt"`
					RevokedAt  any    `json:"revokedAt"`
				}
				out := make([]keyJSON, 0, len(keys))
				var rows [][]string
				for _, k := range keys {
					prefix := "actas_" + k.ID
					out = append(out, keyJSON{k.ID, prefix, k.Name, timeOrNil(k.CreatedAt), timeOrNil(k.LastUsedAt), timeOrNil(k.RevokedAt)})
					rows = append(rows, []string{k.ID, prefix + "…", k.Name, fmtTime(k.CreatedAt), fmtTime(k.LastUsedAt), fmtTime(k.RevokedAt)})
				}
				return m.emit(g, map[string]any{"apiKeys": out}, func() {
					m.table("ID\tPREFIX\tNAME\tCREATED\tLAST USED\tREVOKED", rows)
				})
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "tenant name")

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "revoke an API key",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				if err := e.issuer.RevokeAPIKey(ctx, args[0]); err != nil {
					return err
				}
				return m.emit(g, map[string]any{"id": args[0], "revoked": true}, func() {
					fmt.Fprintf(m.Stdout, "API key %s revoked\n", args[0])
				})
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
