package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/httpapi"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/metrics"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/postgres"
)

type serveFlags struct {
	dev bool
}

func (m *Main) serveCommand(g *globals) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run the HTTP service",
		Long: "Run the HTTP service. Settings come from flags, else ACTAS_* environment variables,\n" +
			"else the --config file, else defaults; `actas config print` shows the result and\n" +
			"docs/operations.md describes each. SIGTERM drains; SIGHUP reloads the log level,\n" +
			"the trusted proxies and the TLS certificate.\n\n" +
			"Unless GOMEMLIMIT is set, serve sets the Go runtime's soft memory limit to\n" +
			"32 MiB + 2 × hash_concurrency × the argon2id memory + 4 KiB a tenant cached\n" +
			"+ 6 KiB a private key cached (108 MiB at start on two CPUs; at most 122 MiB with\n" +
			"the default caches full), so that a flood of sign-ins does not let the heap double.",
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.serve(cmd.Context(), cmd, g, f)
		},
	}
	cmd.Flags().BoolVar(&f.dev, "dev", false, "on an empty database, create a demo tenant and users and print their credentials")
	addConfigFlags(cmd)
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

func (m *Main) serve(ctx context.Context, cmd *cobra.Command, g *globals, f *serveFlags) error {
	cfg, err := m.loadConfig(cmd)
	if err != nil {
		return err
	}
	if cfg.Production {
		switch {
		case f.dev:
			return usageError{fmt.Errorf("--dev cannot be used in production mode")}
		case cfg.MasterKey == "":
			return fmt.Errorf("production mode requires ACTAS_MASTER_KEY (actas keys genmaster prints one); refusing to start")
		}
	}
	lv := &live{level: new(slog.LevelVar), proxies: &httpapi.ProxyList{}}
	level, _ := parseLevel(cfg.LogLevel)
	lv.level.Set(level)
	proxies, _ := httpapi.ParseProxies(cfg.TrustedProxies) // validated
	lv.proxies.Set(proxies)
	scheme := "http"
	if cfg.TLSCert != "" {
		lv.certs = &certHolder{}
		if err := lv.certs.load(cfg.TLSCert, cfg.TLSKey); err != nil {
			return err
		}
		scheme = "https"
	}
	log := m.newLogger(cfg.LogFormat, lv.level)
	g.db, g.cfg, g.log = cfg.DB, cfg, log

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	publicURL := strings.TrimRight(cfg.PublicURL, "/")
	if publicURL == "" {
		publicURL = scheme + strings.TrimPrefix(defaultPublicURL(ln.Addr().String()), "http")
	}
	e, err := m.open(ctx, g, publicURL)
	if err != nil {
		return err
	}
	closeStore := sync.OnceValue(e.Close)
	defer closeStore()
	iss := e.issuer
	m.followMemoryLimit(ctx, iss, log)
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

	ready := &httpapi.Readiness{Checks: append(readinessChecks(e), writeCheck(e)), Logger: log}
	api := &httpapi.Server{Issuer: iss, Logger: log, TrustedProxy: lv.proxies.Contains, Readiness: ready}
	var metricsAddr string // metrics_addr's listener, if any
	if cfg.Metrics {
		ver, commit := buildInfo()
		opts := metrics.Options{Revocations: iss.Revocations(), Hasher: iss.Hasher(), Version: ver, Commit: commit}
		if e.sqlite != nil {
			opts.DBPools = e.sqlite.Pools()
		}
		if pg, ok := e.store.(*postgres.DB); ok {
			opts.Pool = func() metrics.PoolStats { return metrics.PoolStats(pg.PoolStats()) }
		}
		mx := metrics.New(opts)
		if cfg.MetricsAddr == "" {
			api.Metrics = mx.Handler()
		} else {
			msrv, addr, err := serveMetrics(cfg.MetricsAddr, mx.Handler(), log)
			if err != nil {
				return err
			}
			defer msrv.Close()
			metricsAddr = addr
		}
		api.Observer = httpapi.Observer{Request: mx.ObserveRequest, Outcome: mx.ObserveOutcome}
		iss.Hasher().SetObserver(password.Observer{Wait: mx.ObserveHashWait})
	}
	srv := newHTTPServer(api.Handler(), log)
	srv.RegisterOnShutdown(iss.Revocations().StopWaiters) // end revocation feed long polls
	errc := make(chan error, 1)
	if lv.certs != nil {
		srv.TLSConfig = lv.certs.tlsConfig()
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	log.Info("actas serving", "addr", ln.Addr().String(), "public_url", publicURL, "db", redactDSN(m.dbSpec(g)),
		"tls", lv.certs != nil, "metrics", cfg.Metrics, "metrics_addr", metricsAddr, "trusted_proxies", len(proxies))
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	hup := m.Hangup
	if hup == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGHUP)
		defer signal.Stop(ch)
		hup = ch
	}
wait:
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-hup:
			cfg = m.reload(cmd, cfg, lv, log)
		case <-ctx.Done():
			break wait
		}
	}

	// Drain (SPEC §6): stop being ready at once, keep serving for the
	// drain delay so load balancers notice, then stop accepting and let
	// every request already received finish, within the drain timeout.
	ready.Drain()
	log.Info("shutting down: not ready; draining in-flight requests", "delay", cfg.DrainDelay.String(), "timeout", cfg.DrainTimeout.String())
	if cfg.DrainDelay > 0 {
		select {
		case <-time.After(cfg.DrainDelay):
		case err := <-errc:
			log.Error("server stopped during drain delay", "err", err)
		}
	}
	dctx, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	defer cancel()
	if err := srv.Shutdown(dctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("drain incomplete: closing the remaining connections", "err", err)
		_ = srv.Close()
	}
	stopBG()
	if err := closeStore(); err != nil {
		log.Error("closing the database failed", "err", err)
		return fmt.Errorf("close database: %w", err)
	}
	log.Info("stopped")
	return nil
}

// redactDSN hides a password in a database URL: in its user info, and
// in a password query parameter (which pgx accepts too).
func redactDSN(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s, "@"); at > i {
			creds := s[i+3 : at]
			if c := strings.Index(creds, ":"); c >= 0 {
				s = s[:i+3] + creds[:c] + ":REDACTED" + s[at:]
			}
		}
		if q := strings.IndexByte(s, '?'); q > i {
			params := strings.Split(s[q+1:], "&")
			for j, p := range params {
				if k, _, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "password") {
					params[j] = k + "=REDACTED"
				}
			}
			s = s[:q+1] + strings.Join(params, "&")
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
			// Opening migrates; say so.
			return m.withEnv(cmd, g, func(context.Context, *env) error {
				db := redactDSN(m.dbSpec(g))
				return m.emit(g, map[string]any{"migrated": true, "db": db}, func() {
					fmt.Fprintf(m.Stdout, "database %s is up to date\n", db)
				})
			})
		},
	}
}

// devSetup creates, on an empty database, a demo tenant with an
// impersonator and an ordinary user, and prints what to paste.
func (m *Main) devSetup(ctx context.Context, iss *issuer.Issuer, publicURL string) error {
	tenants, err := iss.Tenants(ctx)
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
	id := actas.RandomLower(16)
	return id
}
