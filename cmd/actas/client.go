package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

// actas client: the OAuth clients of browser sign-in (SPEC §9, §10).

type clientJSON struct {
	ClientID     string   `json:"clientId"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirectUris"`
	Public       bool     `json:"public"`
}

type clientShowJSON struct {
	clientJSON
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris"`
	CreatedAt              any      `json:"createdAt"`
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func toClientJSON(c *actas.OAuthClient) clientJSON {
	return clientJSON{ClientID: c.ID, Name: c.Name, RedirectURIs: nonNil(c.RedirectURIs), Public: c.Public}
}

func (m *Main) clientCommand(g *globals) *cobra.Command {
	cmd := parent("client", "manage OAuth clients for browser sign-in")

	var (
		tenant, name           string
		redirects, postLogouts []string
		public                 bool
	)
	create := &cobra.Command{
		Use:   "create --tenant NAME --name LABEL --redirect-uri URI… [--post-logout-redirect-uri URI…] [--public]",
		Short: "register an OAuth client (a confidential client's secret is printed once)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag("tenant", tenant); err != nil {
				return err
			}
			if err := requireFlag("name", name); err != nil {
				return err
			}
			if len(redirects) == 0 {
				return usageError{fmt.Errorf("--redirect-uri is required")}
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				c, secret, err := e.issuer.CreateClient(ctx, issuer.CreateClientRequest{
					Tenant: tenant, Name: name, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogouts, Public: public,
				})
				if err != nil {
					return err
				}
				return m.emit(g, map[string]string{"clientId": c.ID, "clientSecret": secret}, func() {
					fmt.Fprintf(m.Stdout, "client %s (%s) created for tenant %s\n", c.ID, c.Name, tenant)
					if secret != "" {
						fmt.Fprintf(m.Stdout, "client secret (shown once):\n%s\n", secret)
					} else {
						fmt.Fprintln(m.Stdout, "public client: no secret; it must use PKCE (as every client does)")
					}
				})
			})
		},
	}
	create.Flags().StringVar(&tenant, "tenant", "", "tenant name")
	create.Flags().StringVar(&name, "name", "", "a label shown on the sign-in page")
	create.Flags().StringArrayVar(&redirects, "redirect-uri", nil, "a redirect URI (repeatable; https, or http on a loopback host)")
	create.Flags().StringArrayVar(&postLogouts, "post-logout-redirect-uri", nil, "a redirect URI after logout (repeatable)")
	create.Flags().BoolVar(&public, "public", false, "a public client (no secret: a SPA or a native app)")

	var listTenant string
	list := &cobra.Command{
		Use:   "list --tenant NAME",
		Short: "list a tenant's OAuth clients",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag("tenant", listTenant); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				cs, err := e.issuer.Clients(ctx, listTenant)
				if err != nil {
					return err
				}
				out := make([]clientJSON, 0, len(cs))
				var rows [][]string
				for _, c := range cs {
					out = append(out, toClientJSON(c))
					kind := "confidential"
					if c.Public {
						kind = "public"
					}
					rows = append(rows, []string{c.ID, c.Name, kind, strings.Join(c.RedirectURIs, " ")})
				}
				return m.emit(g, map[string]any{"clients": out}, func() {
					m.table("CLIENT ID\tNAME\tTYPE\tREDIRECT URIS", rows)
				})
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "tenant name")

	var showTenant string
	show := &cobra.Command{
		Use:   "show --tenant NAME ID",
		Short: "show one OAuth client",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag("tenant", showTenant); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				c, err := e.issuer.ClientByID(ctx, showTenant, args[0])
				if err != nil {
					return err
				}
				v := clientShowJSON{toClientJSON(c), nonNil(c.PostLogoutRedirectURIs), timeOrNil(c.CreatedAt)}
				return m.emit(g, v, func() {
					kind := "confidential"
					if c.Public {
						kind = "public"
					}
					fmt.Fprintf(m.Stdout, "client id:      %s\nname:           %s\ntype:           %s\ncreated:        %s\n",
						c.ID, c.Name, kind, fmtTime(c.CreatedAt))
					for _, u := range c.RedirectURIs {
						fmt.Fprintf(m.Stdout, "redirect URI:   %s\n", u)
					}
					for _, u := range c.PostLogoutRedirectURIs {
						fmt.Fprintf(m.Stdout, "logout URI:     %s\n", u)
					}
				})
			})
		},
	}
	show.Flags().StringVar(&showTenant, "tenant", "", "tenant name")

	var delTenant string
	del := &cobra.Command{
		Use:   "delete --tenant NAME ID",
		Short: "delete an OAuth client (it can start no new sign-in and refresh nothing)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlag("tenant", delTenant); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				if err := e.issuer.DeleteClient(ctx, delTenant, args[0]); err != nil {
					return err
				}
				return m.emit(g, map[string]any{"clientId": args[0], "deleted": true}, func() {
					fmt.Fprintf(m.Stdout, "client %s deleted\n", args[0])
				})
			})
		},
	}
	del.Flags().StringVar(&delTenant, "tenant", "", "tenant name")

	cmd.AddCommand(create, list, show, del)
	return cmd
}
