package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas/httpapi"
	"github.com/actas-dev/actas/password"
)

// The parts of serve that outlive its start: the logger and its level,
// the trusted proxies and the TLS certificate (all three replaced on
// SIGHUP), and the readiness checks.

func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, true
	case "info", "":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

// newLogger returns a log/slog logger on stderr in format (text or json)
// whose level can change while it runs.
func (m *Main) newLogger(format string, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts))
}

// logger is a text or json logger at info, for commands other than serve.
func (m *Main) logger(format string) *slog.Logger { return m.newLogger(format, slog.LevelInfo) }

// openLogger is the issuer's logger: serve's when serving.
func (m *Main) openLogger(g *globals) *slog.Logger {
	if g.log != nil {
		return g.log
	}
	return m.logger("text")
}

// newHasher bounds argon2id work as serve's configuration says, or by
// the defaults for other commands.
func (g *globals) newHasher(p password.Params) *password.Hasher {
	conc, queue, wait := 0, -1, 2*time.Second
	if c := g.cfg; c != nil {
		conc, queue, wait = c.HashConcurrency, c.HashQueue, c.HashMaxWait
	}
	if conc <= 0 {
		conc = runtime.GOMAXPROCS(0)
	}
	if queue < 0 {
		queue = 64 * conc
	}
	return password.NewHasher(p, conc, queue, wait)
}

// loadCertificate loads a PEM certificate chain and its key.
func loadCertificate(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		// The error names the files, never key material.
		return nil, fmt.Errorf("load certificate: %w", err)
	}
	return &c, nil
}

// certHolder serves the current certificate; SIGHUP replaces it (a
// renewed certificate needs no restart).
type certHolder struct {
	c atomic.Pointer[tls.Certificate]
}

func (h *certHolder) load(certFile, keyFile string) error {
	c, err := loadCertificate(certFile, keyFile)
	if err != nil {
		return err
	}
	h.c.Store(c)
	return nil
}

func (h *certHolder) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return h.c.Load(), nil }

// tlsConfig is TLS 1.2 or later with Go's default (modern) cipher suites.
func (h *certHolder) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: h.get}
}

// live is what a reload can change in a running server.
type live struct {
	level   *slog.LevelVar
	proxies *httpapi.ProxyList
	certs   *certHolder // nil without TLS
}

// reload re-reads the configuration (flags as given at start, the
// environment, the file) and applies what can change while running: the
// log level, the trusted proxies and the TLS certificate files. Anything
// else that changed is logged as needing a restart. An invalid
// configuration changes nothing.
func (m *Main) reload(cmd *cobra.Command, cur *Config, lv *live, log *slog.Logger) *Config {
	next, err := m.loadConfig(cmd)
	if err != nil {
		log.Error("reload rejected; configuration unchanged", "err", oneLine(err.Error()))
		return cur
	}
	tlsState := "off"
	if lv.certs != nil {
		if next.TLSCert == "" {
			log.Warn("reload: turning TLS off needs a restart; still serving the current certificate")
		} else if err := lv.certs.load(next.TLSCert, next.TLSKey); err != nil {
			log.Error("reload rejected; configuration unchanged", "err", err.Error())
			return cur
		}
		tlsState = "reloaded"
	} else if next.TLSCert != "" {
		log.Warn("reload: turning TLS on needs a restart")
	}
	level, _ := parseLevel(next.LogLevel)
	lv.level.Set(level)
	proxies, _ := httpapi.ParseProxies(next.TrustedProxies)
	lv.proxies.Set(proxies)
	for _, f := range configFields {
		if !f.Reload && f.get(cur) != f.get(next) {
			log.Warn("reload: setting changed; it takes effect on restart", "setting", f.Name)
		}
	}
	log.Info("configuration reloaded", "log_level", level.String(), "trusted_proxies", len(proxies), "tls_certificate", tlsState)
	return next
}

// readinessChecks are what /readyz checks: the store answers (and, on
// SQLite, its file is still the one open), its schema is current, the
// master key opens the signing keys, and the revocation log was synced
// recently (else revocations made by other replicas are not enforced).
func readinessChecks(e *env) []httpapi.Check {
	checks := []httpapi.Check{{Name: "database", Fn: func(ctx context.Context) error {
		if err := e.store.Ping(ctx); err != nil {
			return err
		}
		if e.sqlite != nil {
			return e.sqlite.CheckFile()
		}
		return nil
	}}}
	if mc, ok := e.store.(interface {
		MigrationsCurrent(context.Context) (bool, error)
	}); ok {
		checks = append(checks, httpapi.Check{Name: "migrations", Fn: func(ctx context.Context) error {
			current, err := mc.MigrationsCurrent(ctx)
			if err == nil && !current {
				err = errors.New("the database schema is older than this binary: run actas migrate")
			}
			return err
		}})
	}
	checks = append(checks,
		httpapi.Check{Name: "signing_keys", Fn: e.issuer.CheckSigningKeys},
		httpapi.Check{Name: "revocation_sync", Fn: func(context.Context) error {
			last := e.issuer.Revocations().LastSync()
			if age := time.Since(last); age > maxSyncAge {
				return fmt.Errorf("revocation log last synced %s ago", age.Round(time.Second))
			}
			return nil
		}},
	)
	return checks
}

// maxSyncAge is how stale the revocation set may be before the replica
// reports unready. The sync runs every second.
const maxSyncAge = 15 * time.Second
