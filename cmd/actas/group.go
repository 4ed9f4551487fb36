package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

type groupJSON struct {
	GroupID   string `json:"groupId"`
	GroupName string `json:"groupName"`
	Members   int    `json:"members"`
}

// groupCommand is actas group list|create|delete (SPEC §10).
func (m *Main) groupCommand(g *globals) *cobra.Command {
	cmd := parent("group", "manage a tenant's groups")
	var tenant string
	list := &cobra.Command{
		Use:   "list --tenant NAME",
		Short: "list a tenant's groups with their member counts",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag("tenant", tenant); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				t, err := e.issuer.TenantByName(ctx, tenant)
				if err != nil {
					return err
				}
				gs, err := e.issuer.TenantGroups(ctx, t)
				if err != nil {
					return err
				}
				out := make([]groupJSON, 0, len(gs))
				var rows [][]string
				for _, gr := range gs {
					out = append(out, groupJSON{gr.ID, gr.Name, gr.Members})
					rows = append(rows, []string{gr.Name, gr.ID, strconv.Itoa(gr.Members)})
				}
				return m.emit(g, map[string]any{"groups": out}, func() {
					m.table("NAME\tID\tMEMBERS", rows)
				})
			})
		},
	}
	list.Flags().StringVar(&tenant, "tenant", "", "tenant name")

	var createTenant string
	create := &cobra.Command{
		Use:   "create --tenant NAME GROUP",
		Short: "create a group",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag("tenant", createTenant); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				gr, err := e.issuer.CreateGroup(ctx, createTenant, args[0])
				if err != nil {
					return err
				}
				return m.emit(g, map[string]any{"groupId": gr.ID, "groupName": gr.Name}, func() {
					fmt.Fprintf(m.Stdout, "group %s created in tenant %s (id %s)\n", gr.Name, createTenant, gr.ID)
				})
			})
		},
	}
	create.Flags().StringVar(&createTenant, "tenant", "", "tenant name")

	var deleteTenant string
	del := &cobra.Command{
		Use:   "delete --tenant NAME GROUP",
		Short: "delete a group, removing it from every user",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag("tenant", deleteTenant); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				if err := e.issuer.DeleteGroup(ctx, deleteTenant, args[0]); err != nil {
					return err
				}
				return m.emit(g, map[string]any{"groupName": args[0], "deleted": true}, func() {
					fmt.Fprintf(m.Stdout, "group %s deleted from tenant %s\n", args[0], deleteTenant)
				})
			})
		},
	}
	del.Flags().StringVar(&deleteTenant, "tenant", "", "tenant name")
	cmd.AddCommand(list, create, del)
	return cmd
}
