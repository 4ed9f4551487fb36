package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
)

type tenantJSON struct {
	Name        string       `json:"name"`
	UserPoolID  string       `json:"userPoolId"`
	ClientID    string       `json:"clientId"`
	Issuer      string       `json:"issuer"`
	EndpointURL string       `json:"endpointUrl"`
	Settings    settingsJSON `json:"settings"`
	CreatedAt   any          `json:"createdAt"`
}

// settingsJSON is every key of tenant set (SPEC §6), endpoint_url included.
type settingsJSON struct {
	EndpointURL string `json:"endpoint_url"`
	actas.TenantSettings
}

func tenantView(t *actas.Tenant, publicURL string) tenantJSON {
	return tenantJSON{
		Name: t.Name, UserPoolID: t.UserPoolID, ClientID: t.ClientID,
		Issuer: strings.TrimRight(publicURL, "/") + "/" + t.UserPoolID, EndpointURL: t.EndpointURL,
		Settings: settingsJSON{t.EndpointURL, t.Settings.WithDefaults()}, CreatedAt: timeOrNil(t.CreatedAt),
	}
}

func (m *Main) tenantCommand(g *globals) *cobra.Command {
	cmd := parent("tenant", "manage tenants")
	var endpoint, region, publicURL string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "create a tenant; prints its ids and a first API key (shown once)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Not withEnv: the issuer is built with this command's public URL.
			e, err := m.open(cmd.Context(), g, publicURL)
			if err != nil {
				return err
			}
			defer e.Close()
			t, key, err := e.issuer.CreateTenant(cmd.Context(), issuer.CreateTenantRequest{Name: args[0], EndpointURL: endpoint, Region: region})
			if err != nil {
				return err
			}
			v := tenantView(t, publicURL)
			return m.emit(g, map[string]string{
				"name": v.Name, "userPoolId": v.UserPoolID, "clientId": v.ClientID,
				"issuer": v.Issuer, "endpointUrl": v.EndpointURL, "apiKey": key,
			}, func() {
				fmt.Fprintf(m.Stdout, "tenant %s created\n  userPoolId:  %s\n  clientId:    %s\n  issuer:      %s\n  endpointUrl: %s\n  API key:     %s  (shown once)\n",
					v.Name, v.UserPoolID, v.ClientID, v.Issuer, v.EndpointURL, key)
			})
		},
	}
	create.Flags().StringVar(&endpoint, "endpoint-url", "", "the customer's API base URL, returned to clients")
	create.Flags().StringVar(&region, "region", "local", "region part of the userPoolId")
	create.Flags().StringVar(&publicURL, "public-url", defaultPublicURL(":8080"), "public URL of actas, for the printed issuer")

	var listURL string
	list := &cobra.Command{
		Use:   "list",
		Short: "list tenants",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				ts, err := e.issuer.Tenants(ctx)
				if err != nil {
					return err
				}
				views := make([]tenantJSON, 0, len(ts))
				var rows [][]string
				for _, t := range ts {
					v := tenantView(t, listURL)
					views = append(views, v)
					rows = append(rows, []string{v.Name, v.UserPoolID, v.ClientID, v.EndpointURL, fmtTime(t.CreatedAt)})
				}
				return m.emit(g, map[string]any{"tenants": views}, func() {
					m.table("NAME\tUSER POOL ID\tCLIENT ID\tENDPOINT URL\tCREATED", rows)
				})
			})
		},
	}
	list.Flags().StringVar(&listURL, "public-url", defaultPublicURL(":8080"), "public URL of actas, for the printed issuers")

	var showURL string
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "show a tenant and its settings",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				t, err := e.issuer.TenantByName(ctx, args[0])
				if err != nil {
					return err
				}
				return m.printTenant(g, tenantView(t, showURL))
			})
		},
	}
	show.Flags().StringVar(&showURL, "public-url", defaultPublicURL(":8080"), "public URL of actas, for the printed issuer")

	set := &cobra.Command{
		Use:   "set NAME KEY=VALUE...",
		Short: "change tenant settings (" + strings.Join(settingKeys, ", ") + ")",
		Args:  minArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			changes, err := parseSettings(args[1:])
			if err != nil {
				return usageError{err}
			}
			return m.withEnv(cmd, g, func(ctx context.Context, e *env) error {
				t, err := e.issuer.SetTenant(ctx, args[0], func(t *actas.Tenant) error {
					for _, c := range changes {
						if err := c(t); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					return err
				}
				return m.printTenant(g, tenantView(t, showURL))
			})
		},
	}
	cmd.AddCommand(create, list, show, set)
	return cmd
}

func (m *Main) printTenant(g *globals, v tenantJSON) error {
	return m.emit(g, v, func() {
		s := v.Settings
		fmt.Fprintf(m.Stdout, "name:                          %s\nuserPoolId:                    %s\nclientId:                      %s\nissuer:                        %s\nendpointUrl:                   %s\n"+
			"access_ttl:                    %s\nrefresh_ttl:                   %s\nrefresh_rotation:              %t\nrotation_grace:                %s\nsigning_alg:                   %s\n"+
			"impersonation_disabled:        %t\nimpersonation_ttl:             %s\nimpersonation_require_reason:  %t\n"+
			"throttle_pair_failures:        %d\nthrottle_ip_failures:          %d\nthrottle_user_failures:        %d\nthrottle_max_delay:            %s\n"+
			"key_rotation_period:           %s\nkey_rotation_delay:            %s\npassword_min_length:           %d\n",
			v.Name, v.UserPoolID, v.ClientID, v.Issuer, v.EndpointURL,
			s.AccessTTL, s.RefreshTTL, s.RefreshRotation, s.RotationGrace, s.SigningAlg,
			s.ImpersonationDisabled, s.ImpersonationTTL, s.ImpersonationRequireReason,
			s.ThrottlePairFailures, s.ThrottleIPFailures, s.ThrottleUserFailures, s.ThrottleMaxDelay,
			s.KeyRotationPeriod, s.KeyRotationDelay, s.PasswordMinLength)
		fmt.Fprintf(m.Stdout, "access_token_audience:         %s\n", s.AccessTokenAudience)
	})
}

var settingKeys = []string{"endpoint_url", "access_ttl", "refresh_ttl", "refresh_rotation", "rotation_grace",
	"signing_alg", "impersonation_disabled", "impersonation_ttl", "impersonation_require_reason",
	"throttle_pair_failures", "throttle_ip_failures", "throttle_user_failures", "throttle_max_delay",
	"key_rotation_period", "key_rotation_delay", "password_min_length", "access_token_audience"}

// parseSettings turns KEY=VALUE arguments into changes, reporting every
// malformed one at once.
func parseSettings(args []string) ([]func(*actas.Tenant) error, error) {
	var out []func(*actas.Tenant) error
	var probs []string
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			probs = append(probs, fmt.Sprintf("%q is not KEY=VALUE", a))
			continue
		}
		dur := func(dst func(*actas.TenantSettings) *actas.Duration) {
			d, err := actas.ParseDuration(v)
			if err != nil {
				probs = append(probs, fmt.Sprintf("%s: %v", k, err))
				return
			}
			out = append(out, func(t *actas.Tenant) error { *dst(&t.Settings) = actas.Duration(d); return nil })
		}
		flag := func(dst func(*actas.TenantSettings) *bool) {
			b, err := strconv.ParseBool(v)
			if err != nil {
				probs = append(probs, fmt.Sprintf("%s: %q is not true or false", k, v))
				return
			}
			out = append(out, func(t *actas.Tenant) error { *dst(&t.Settings) = b; return nil })
		}
		switch k {
		case "endpoint_url":
			out = append(out, func(t *actas.Tenant) error { t.EndpointURL = v; return nil })
		case "access_ttl":
			dur(func(s *actas.TenantSettings) *actas.Duration { return &s.AccessTTL })
		case "refresh_ttl":
			dur(func(s *actas.TenantSettings) *actas.Duration { return &s.RefreshTTL })
		case "rotation_grace":
			dur(func(s *actas.TenantSettings) *actas.Duration { return &s.RotationGrace })
		case "impersonation_ttl":
			dur(func(s *actas.TenantSettings) *actas.Duration { return &s.ImpersonationTTL })
		case "refresh_rotation":
			flag(func(s *actas.TenantSettings) *bool { return &s.RefreshRotation })
		case "impersonation_disabled":
			flag(func(s *actas.TenantSettings) *bool { return &s.ImpersonationDisabled })
		case "impersonation_require_reason":
			flag(func(s *actas.TenantSettings) *bool { return &s.ImpersonationRequireReason })
		case "key_rotation_period":
			dur(func(s *actas.TenantSettings) *actas.Duration { return &s.KeyRotationPeriod })
		case "key_rotation_delay":
			dur(func(s *actas.TenantSettings) *actas.Duration { return &s.KeyRotationDelay })
		case "throttle_max_delay":
			dur(func(s *actas.TenantSettings) *actas.Duration { return &s.ThrottleMaxDelay })
		case "password_min_length":
			n, err := strconv.Atoi(v)
			if err != nil {
				probs = append(probs, fmt.Sprintf("%s: %q is not a whole number", k, v))
				continue
			}
			out = append(out, func(t *actas.Tenant) error { t.Settings.PasswordMinLength = n; return nil })
		case "throttle_pair_failures", "throttle_ip_failures", "throttle_user_failures":
			n, err := strconv.Atoi(v)
			if err != nil {
				probs = append(probs, fmt.Sprintf("%s: %q is not a whole number", k, v))
				continue
			}
			key := k
			out = append(out, func(t *actas.Tenant) error {
				switch key {
				case "throttle_pair_failures":
					t.Settings.ThrottlePairFailures = n
				case "throttle_ip_failures":
					t.Settings.ThrottleIPFailures = n
				default:
					t.Settings.ThrottleUserFailures = n
				}
				return nil
			})
		case "signing_alg":
			out = append(out, func(t *actas.Tenant) error { t.Settings.SigningAlg = v; return nil })
		case "access_token_audience":
			out = append(out, func(t *actas.Tenant) error { t.Settings.AccessTokenAudience = v; return nil })
		default:
			probs = append(probs, fmt.Sprintf("unknown setting %q (known: %s)", k, strings.Join(settingKeys, ", ")))
		}
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(probs, "; "))
	}
	return out, nil
}
