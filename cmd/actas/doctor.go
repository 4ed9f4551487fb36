package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/postgres"
	"github.com/actas-dev/actas/sqlite"
)

// doctorCommand checks a database for what would stop migration 00003:
// users whose names have one canonical form (RFC 8265). It reads the
// database as it is, without migrating it, so it works on a database the
// migration refused. Exit 1 when it finds any.
func (m *Main) doctorCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "list users whose usernames collide under RFC 8265 (what migration 00003 refuses)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			spec := m.dbSpec(g)
			var cs []actas.UsernameCollision
			var err error
			if strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://") {
				cs, err = postgres.UsernameCollisions(ctx, spec)
				if err != nil {
					return fmt.Errorf("doctor %s: %w", redactDSN(spec), err)
				}
			} else {
				path := strings.TrimPrefix(spec, "sqlite:")
				if _, err := os.Stat(path); err != nil {
					return fmt.Errorf("doctor: no database at %s", path)
				}
				if cs, err = sqlite.UsernameCollisions(ctx, path); err != nil {
					return fmt.Errorf("doctor %s: %w", path, err)
				}
			}
			type user struct {
				Sub      string `json:"sub"`
				Username string `json:"username"`
			}
			type collision struct {
				Tenant string `json:"tenant"`
				Key    string `json:"canonical"`
				Users  []user `json:"users"`
			}
			out := struct {
				Collisions []collision `json:"collisions"`
			}{Collisions: []collision{}}
			var rows [][]string
			for _, c := range cs {
				v := collision{Tenant: c.Tenant, Key: c.Key}
				for i, id := range c.UserIDs {
					v.Users = append(v.Users, user{id, c.Usernames[i]})
					rows = append(rows, []string{c.Tenant, c.Key, fmt.Sprintf("%+q", c.Usernames[i]), id})
				}
				out.Collisions = append(out.Collisions, v)
			}
			if err := m.emit(g, out, func() {
				if len(rows) == 0 {
					fmt.Fprintln(m.Stdout, "no username collisions")
					return
				}
				m.table("TENANT\tCANONICAL\tUSERNAME\tSUB", rows)
			}); err != nil {
				return err
			}
			if len(cs) > 0 {
				return errors.New("doctor: usernames collide; delete all but one user of each set, then migrate")
			}
			return nil
		},
	}
}
