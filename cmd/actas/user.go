package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

type userJSON struct {
	Sub                string   `json:"sub"`
	Username           string   `json:"username"`
	Email              string   `json:"email"`
	EmailVerified      bool     `json:"emailVerified"`
	Status             string   `json:"status"`
	MustChangePassword bool     `json:"mustChangePassword"`
	Groups             []string `json:"groups"`
	CreatedAt          any      `json:"createdAt"`
	FirstName          string   `json:"firstName"`
	LastName           string   `json:"lastName"`
}

func userView(u *actas.User) userJSON {
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	return userJSON{u.ID, u.Username, u.Email, u.EmailVerified, u.Status, u.MustChangePassword, groups, timeOrNil(u.CreatedAt),
		u.FirstName, u.LastName}
}

// userFlags are --tenant and --username, which name one user.
type userFlags struct{ tenant, username string }

func (f *userFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.tenant, "tenant", "", "tenant name")
	cmd.Flags().StringVar(&f.username, "username", "", "username")
}

// check reports every missing one of the two at once, as a usage error.
func (f *userFlags) check() error {
	if err := errors.Join(requireFlag("tenant", f.tenant), requireFlag("username", f.username)); err != nil {
		return usageError{err}
	}
	return nil
}

// readPassword takes the password from --password or, with
// --password-stdin, from the first line of standard input.
func (m *Main) readPassword(flag string, fromStdin bool) (string, error) {
	switch {
	case fromStdin && flag != "":
		return "", usageError{errors.New("give --password or --password-stdin, not both")}
	case fromStdin:
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	case flag != "":
		return flag, nil
	}
	return "", usageError{errors.New("--password-stdin or --password is required")}
}

func (m *Main) userCommand(g *globals) *cobra.Command {
	cmd := parent("user", "manage users")

	var c struct {
		userFlags
		password, email             string
		stdin, verified, mustChange bool
		groups                      []string
		firstName, lastName         string
	}
	create := &cobra.Command{
		Use:   "create --tenant NAME --username U (--password-stdin | --password P) [--email E] [--group G]...",
		Short: "create a user",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.check(); err != nil {
				return err
			}
			pw, err := m.readPassword(c.password, c.stdin)
			if err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				r := userCreateRequest(c.tenant, c.username, pw, c.email, c.verified, c.groups, c.mustChange)
				r.FirstName, r.LastName = c.firstName, c.lastName
				u, err := e.issuer.CreateUser(ctx, r)
				if err != nil {
					return err
				}
				v := userView(u)
				return m.emit(g, map[string]any{"sub": v.Sub, "username": v.Username, "groups": v.Groups}, func() {
					fmt.Fprintf(m.Stdout, "user %s created in tenant %s (sub %s)\n", u.Username, c.tenant, u.ID)
				})
			})
		},
	}
	c.add(create)
	f := create.Flags()
	f.StringVar(&c.password, "password", "", "password (visible to other local users; prefer --password-stdin)")
	f.BoolVar(&c.stdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&c.email, "email", "", "email address")
	f.BoolVar(&c.verified, "email-verified", false, "mark the email address verified")
	f.BoolVar(&c.mustChange, "must-change-password", false, "refuse sign-in (422) until the password is changed")
	f.StringArrayVar(&c.groups, "group", nil, "group (repeatable; created if it does not exist)")
	f.StringVar(&c.firstName, "first-name", "", "first name (the ID token's given_name)")
	f.StringVar(&c.lastName, "last-name", "", "last name (the ID token's family_name)")

	var listTenant string
	list := &cobra.Command{
		Use:   "list --tenant NAME",
		Short: "list a tenant's users",
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
				users, err := e.issuer.Users(ctx, t.ID)
				if err != nil {
					return err
				}
				out := make([]userJSON, 0, len(users))
				var rows [][]string
				for _, u := range users {
					out = append(out, userView(u))
					rows = append(rows, []string{u.Username, u.ID, u.Status, u.Email, strings.Join(u.Groups, ",")})
				}
				return m.emit(g, map[string]any{"users": out}, func() {
					m.table("USERNAME\tSUB\tSTATUS\tEMAIL\tGROUPS", rows)
				})
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "tenant name")

	cmd.AddCommand(create, list,
		m.userAction(g, "show", "show a user", nil),
		m.userAction(g, "disable", "disable a user and revoke its sessions and impersonations", func(u *actas.User) error {
			u.Status = actas.UserDisabled
			return nil
		}),
		m.userAction(g, "enable", "enable a user", func(u *actas.User) error {
			u.Status = actas.UserActive
			return nil
		}),
		m.userDelete(g),
		m.userPasswd(g),
		m.userGroups(g),
	)
	return cmd
}

// userAction is show, disable or enable: --tenant and --username, an
// optional change, then the user printed.
func (m *Main) userAction(g *globals, name, short string, change func(*actas.User) error) *cobra.Command {
	var uf userFlags
	cmd := &cobra.Command{
		Use:   name + " --tenant NAME --username U",
		Short: short,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := uf.check(); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				var u *actas.User
				var err error
				if change == nil {
					_, u, err = e.issuer.UserByName(ctx, uf.tenant, uf.username)
				} else {
					u, err = e.issuer.UpdateUser(ctx, uf.tenant, uf.username, change)
				}
				if err != nil {
					return err
				}
				return m.printUser(g, u)
			})
		},
	}
	uf.add(cmd)
	return cmd
}

func (m *Main) printUser(g *globals, u *actas.User) error {
	v := userView(u)
	return m.emit(g, v, func() {
		fmt.Fprintf(m.Stdout, "username:              %s\nsub:                   %s\nstatus:                %s\nemail:                 %s\nemail_verified:        %t\nmust_change_password:  %t\ngroups:                %s\ncreated:               %s\n",
			v.Username, v.Sub, v.Status, v.Email, v.EmailVerified, v.MustChangePassword, strings.Join(v.Groups, ","), fmtTime(u.CreatedAt))
	})
}

func (m *Main) userDelete(g *globals) *cobra.Command {
	var uf userFlags
	cmd := &cobra.Command{
		Use:   "delete --tenant NAME --username U",
		Short: "revoke a user's sessions and delete it",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := uf.check(); err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				if err := e.issuer.DeleteUser(ctx, uf.tenant, uf.username); err != nil {
					return err
				}
				return m.emit(g, map[string]any{"username": uf.username, "deleted": true}, func() {
					fmt.Fprintf(m.Stdout, "user %s deleted\n", uf.username)
				})
			})
		},
	}
	uf.add(cmd)
	return cmd
}

func (m *Main) userPasswd(g *globals) *cobra.Command {
	var uf userFlags
	var password string
	var stdin bool
	cmd := &cobra.Command{
		Use:   "passwd --tenant NAME --username U (--password-stdin | --password P)",
		Short: "set a user's password and revoke its sessions",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := uf.check(); err != nil {
				return err
			}
			pw, err := m.readPassword(password, stdin)
			if err != nil {
				return err
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				u, err := e.issuer.SetPassword(ctx, uf.tenant, uf.username, pw)
				if err != nil {
					return err
				}
				return m.printUser(g, u)
			})
		},
	}
	uf.add(cmd)
	cmd.Flags().StringVar(&password, "password", "", "new password")
	cmd.Flags().BoolVar(&stdin, "password-stdin", false, "read the new password from standard input")
	return cmd
}

func (m *Main) userGroups(g *globals) *cobra.Command {
	cmd := parent("groups", "add or remove groups")
	for _, op := range []string{"add", "remove"} {
		var uf userFlags
		sub := &cobra.Command{
			Use:   op + " --tenant NAME --username U GROUP...",
			Short: op + " groups",
			Args:  minArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := uf.check(); err != nil {
					return err
				}
				return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
					names := args
					if op == "add" { // a group that does not exist is created
						t, err := e.issuer.TenantByName(ctx, uf.tenant)
						if err != nil {
							return err
						}
						if names, err = e.issuer.EnsureGroupNames(ctx, t, args); err != nil {
							return err
						}
					}
					u, err := e.issuer.UpdateUser(ctx, uf.tenant, uf.username, func(u *actas.User) error {
						if op == "add" {
							u.Groups = append(u.Groups, names...)
						} else {
							u.Groups = slices.DeleteFunc(u.Groups, func(g string) bool {
								return slices.ContainsFunc(names, func(n string) bool { return actas.GroupKey(n) == actas.GroupKey(g) })
							})
						}
						return nil
					})
					if err != nil {
						return err
					}
					return m.printUser(g, u)
				})
			},
		}
		uf.add(sub)
		cmd.AddCommand(sub)
	}
	return cmd
}

func userCreateRequest(tenant, username, pw, email string, verified bool, groups []string, mustChange bool) issuer.CreateUserRequest {
	return issuer.CreateUserRequest{Tenant: tenant, Username: username, Password: pw, Email: email,
		EmailVerified: verified, Groups: groups, MustChangePassword: mustChange}
}
