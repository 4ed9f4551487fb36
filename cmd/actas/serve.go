package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas/httpapi"
	"github.com/actas-dev/actas/issuer"
)

func (m *Main) logger(format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts))
}

type serveFlags struct {
	addr       string
	publicURL  string
	dev        bool
	production bool
	logFormat  string
	drain      time.Duration
}

func (m *Main) serveCommand(g *globals) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run the HTTP service",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.serve(cmd.Context(), g, f)
		},
	}
	cmd.Flags().StringVar(&f.addr, "addr", ":8080", "address to listen on")
	cmd.Flags().StringVar(&f.publicURL, "public-url", "", "base URL clients reach actas at; issuers are <public-url>/<userPoolId> (default http://<addr>)")
	cmd.Flags().BoolVar(&f.dev, "dev", false, "on an empty database, create a demo tenant and users and print their credentials")
	cmd.Flags().BoolVar(&f.production, "production", false, "production mode: refuse to start without ACTAS_MASTER_KEY, refuse --dev (env ACTAS_PRODUCTION=true)")
	cmd.Flags().StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	cmd.Flags().DurationVar(&f.drain, "drain-timeout", 30*time.Second, "on SIGTERM, how long to let in-flight requests finish")
	return cmd
}

// defaultPublicURL turns a listen address into a URL clients can use.
func defaultPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func (m *Main) serve(ctx context.Context, g *globals, f *serveFlags) error {
	if f.logFormat != "text" && f.logFormat != "json" {
		return usageError{fmt.Errorf("--log-format must be text or json")}
	}
	if f.production || m.Getenv("ACTAS_PRODUCTION") == "true" || m.Getenv("ACTAS_PRODUCTION") == "1" {
		switch {
		case f.dev:
			return usageError{fmt.Errorf("--dev cannot be used in production mode")}
		case m.Getenv("ACTAS_MASTER_KEY") == "":
			return fmt.Errorf("production mode requires ACTAS_MASTER_KEY (actas keys genmaster prints one); refusing to start")
		}
	}
	log := m.logger(f.logFormat)
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	defer ln.Close()
	publicURL := strings.TrimRight(f.publicURL, "/")
	if publicURL == "" {
		publicURL = defaultPublicURL(ln.Addr().String())
	}
	e, err := m.open(ctx, g, publicURL)
	if err != nil {
		return err
	}
	defer e.Close()
	iss := e.issuer
	if err := iss.Start(ctx); err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	if f.dev {
		if err := m.devSetup(ctx, iss, publicURL); err != nil {
			return err
		}
	}
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	go iss.Maintain(bg, time.Second, 10*time.Minute)

	api := &httpapi.Server{Issuer: iss, Logger: log}
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(iss.Revocations().StopWaiters) // end revocation feed long polls
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("actas serving", "addr", ln.Addr().String(), "public_url", publicURL, "db", redactDSN(m.dbSpec(g)))
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "timeout", f.drain)
	dctx, cancel := context.WithTimeout(context.Background(), f.drain)
	defer cancel()
	if err := srv.Shutdown(dctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("drain incomplete", "err", err)
	}
	stopBG()
	log.Info("stopped")
	return nil
}

// redactDSN hides a password in a database URL.
func redactDSN(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s, "@"); at > i {
			creds := s[i+3 : at]
			if c := strings.Index(creds, ":"); c >= 0 {
				return s[:i+3] + creds[:c] + ":REDACTED" + s[at:]
			}
		}
	}
	return s
}

func (m *Main) migrateCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "create or upgrade the database schema",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := m.open(cmd.Context(), g, "")
			if err != nil {
				return err
			}
			defer e.Close()
			// Opening migrates; say so.
			if g.json {
				return m.printJSON(map[string]any{"migrated": true, "db": redactDSN(m.dbSpec(g))})
			}
			fmt.Fprintf(m.Stdout, "database %s is up to date\n", redactDSN(m.dbSpec(g)))
			return nil
		},
	}
}

// devSetup creates, on an empty database, a demo tenant with an
// impersonator and an ordinary user, and prints what to paste.
func (m *Main) devSetup(ctx context.Context, iss *issuer.Issuer, publicURL string) error {
	tenants, err := iss.Store().Tenants(ctx)
	if err != nil {
		return err
	}
	if len(tenants) > 0 {
		fmt.Fprintf(m.Stdout, "--dev: the database already has tenants; not creating demo data (credentials were printed at first start).\n")
		return nil
	}
	t, key, err := iss.CreateTenant(ctx, issuer.CreateTenantRequest{Name: "demo", EndpointURL: publicURL})
	if err != nil {
		return err
	}
	demoPW, alicePW := devPassword(), devPassword()
	if _, err := iss.CreateUser(ctx, issuer.CreateUserRequest{Tenant: "demo", Username: "demo", Password: demoPW,
		Email: "demo@example.com", EmailVerified: true, Groups: []string{"impersonator"}}); err != nil {
		return err
	}
	if _, err := iss.CreateUser(ctx, issuer.CreateUserRequest{Tenant: "demo", Username: "alice", Password: alicePW,
		Email: "alice@example.com", EmailVerified: true}); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, `actas --dev: created tenant "demo" (shown once, keep it):
  API key:     %s
  userPoolId:  %s
  clientId:    %s
  issuer:      %s/%s
  user demo  (group impersonator)  password %s
  user alice                       password %s

Sign in:
  curl -s -X POST %s/auth/token -H 'X-API-Key: %s' -H 'Content-Type: application/json' \
    -d '{"username":"alice","password":"%s"}'
Discovery:
  curl -s %s/%s/.well-known/openid-configuration

`, key, t.UserPoolID, t.ClientID, publicURL, t.UserPoolID, demoPW, alicePW,
		publicURL, key, alicePW, publicURL, t.UserPoolID)
	return nil
}

func devPassword() string {
	// 16 lowercase alphanumerics: ~82 bits, easy to paste.
	id := issuerRandom(16)
	return id
}
