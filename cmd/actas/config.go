package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas/httpapi"
	"github.com/actas-dev/actas/token"
)

//go:generate go test -run TestConfigReferenceInDocs -update .

// Configuration of `actas serve`, in layers: each setting comes from its
// flag if given, else its environment variable, else the configuration
// file (--config, JSON), else its default. The table configFields is the
// one description of every setting: flags, environment, file keys, the
// validation, `actas config print` and the reference in
// docs/operations.md are all derived from it.

// Config is the effective configuration of serve.
type Config struct {
	DB              string
	Addr            string
	PublicURL       string
	Production      bool
	LogFormat       string
	LogLevel        string
	DrainTimeout    time.Duration
	DrainDelay      time.Duration
	TLSCert         string
	TLSKey          string
	TrustedProxies  []string
	MasterKey       string
	HashConcurrency int // 0: one per CPU
	HashQueue       int // -1: 64 per hashing slot
	HashMaxWait     time.Duration
	Metrics         bool
	MetricsAddr     string
	StoreTimeout    time.Duration
	TenantCache     int // tenants whose configuration is kept in memory
	SigningKeyCache int // unsealed private signing keys kept in memory

	source map[string]string // setting name -> default, file, env or flag
}

// configField is one setting. get and set convert between the typed
// field and its text form (the text form is what flags, environment and
// file values are parsed from, and what config print shows).
type configField struct {
	Name    string // key in the configuration file
	Flag    string // "" if the setting has no flag
	Env     string
	Default string
	Desc    string
	Secret  bool // never printed; never accepted from a file or a flag
	Reload  bool // SIGHUP applies a change without a restart
	get     func(*Config) string
	set     func(*Config, string) error
}

// Setting names that code refers to.
const (
	cfgDB         = "db"
	cfgMasterKey  = "master_key"
	cfgLogLevel   = "log_level"
	cfgTLSCert    = "tls_cert"
	cfgTLSKey     = "tls_key"
	cfgProxies    = "trusted_proxies"
	cfgPublicURL  = "public_url"
	cfgProduction = "production"
)

var configFields = []configField{
	{Name: cfgDB, Flag: "db", Env: "ACTAS_DB", Default: defaultDB,
		Desc: "Database: `sqlite:PATH`, a bare PATH, or a `postgres://` URL. A password in the URL is redacted when printed.",
		get:  func(c *Config) string { return c.DB }, set: setString(func(c *Config) *string { return &c.DB })},
	{Name: "addr", Flag: "addr", Env: "ACTAS_ADDR", Default: ":8080",
		Desc: "Address to listen on, host:port.",
		get:  func(c *Config) string { return c.Addr }, set: setString(func(c *Config) *string { return &c.Addr })},
	{Name: cfgPublicURL, Flag: "public-url", Env: "ACTAS_PUBLIC_URL", Default: "",
		Desc: "Base URL clients reach actas at; issuers are `<public-url>/<userPoolId>`. Empty: `http(s)://<addr>`.",
		get:  func(c *Config) string { return c.PublicURL }, set: setString(func(c *Config) *string { return &c.PublicURL })},
	{Name: cfgProduction, Flag: "production", Env: "ACTAS_PRODUCTION", Default: "false",
		Desc: "Production mode: refuse to start without ACTAS_MASTER_KEY, refuse `--dev`.",
		get:  func(c *Config) string { return strconv.FormatBool(c.Production) }, set: setBool(func(c *Config) *bool { return &c.Production })},
	{Name: "log_format", Flag: "log-format", Env: "ACTAS_LOG_FORMAT", Default: "text",
		Desc: "Log format: `text` or `json` (log/slog).",
		get:  func(c *Config) string { return c.LogFormat }, set: setString(func(c *Config) *string { return &c.LogFormat })},
	{Name: cfgLogLevel, Flag: "log-level", Env: "ACTAS_LOG_LEVEL", Default: "info", Reload: true,
		Desc: "Least severe level logged: `debug`, `info`, `warn` or `error`.",
		get:  func(c *Config) string { return c.LogLevel }, set: setString(func(c *Config) *string { return &c.LogLevel })},
	{Name: "drain_timeout", Flag: "drain-timeout", Env: "ACTAS_DRAIN_TIMEOUT", Default: "30s",
		Desc: "On SIGTERM, how long in-flight requests may take to finish before connections are closed.",
		get:  func(c *Config) string { return c.DrainTimeout.String() }, set: setDuration(func(c *Config) *time.Duration { return &c.DrainTimeout })},
	{Name: "drain_delay", Flag: "drain-delay", Env: "ACTAS_DRAIN_DELAY", Default: "0s",
		Desc: "On SIGTERM, how long to keep serving with /readyz failing before the listener closes, so that load balancers stop sending first (e.g. 5s behind one).",
		get:  func(c *Config) string { return c.DrainDelay.String() }, set: setDuration(func(c *Config) *time.Duration { return &c.DrainDelay })},
	{Name: cfgTLSCert, Flag: "tls-cert", Env: "ACTAS_TLS_CERT", Default: "", Reload: true,
		Desc: "PEM certificate chain file: serve HTTPS (TLS 1.2 or later) directly. Needs `tls_key`. SIGHUP re-reads both files.",
		get:  func(c *Config) string { return c.TLSCert }, set: setString(func(c *Config) *string { return &c.TLSCert })},
	{Name: cfgTLSKey, Flag: "tls-key", Env: "ACTAS_TLS_KEY", Default: "", Reload: true,
		Desc: "PEM private key file of `tls_cert`.",
		get:  func(c *Config) string { return c.TLSKey }, set: setString(func(c *Config) *string { return &c.TLSKey })},
	{Name: cfgProxies, Flag: "trusted-proxies", Env: "ACTAS_TRUSTED_PROXIES", Default: "", Reload: true,
		Desc: "Comma-separated CIDR prefixes or addresses of reverse proxies whose `X-Forwarded-For` (or, without it, RFC 7239 `Forwarded`) is believed (walked right to left, skipping trusted hops). Empty: the direct peer is the client.",
		get:  func(c *Config) string { return strings.Join(c.TrustedProxies, ",") },
		set: func(c *Config, s string) error {
			c.TrustedProxies = nil
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					c.TrustedProxies = append(c.TrustedProxies, p)
				}
			}
			return nil
		}},
	{Name: cfgMasterKey, Env: "ACTAS_MASTER_KEY", Default: "", Secret: true,
		Desc: "32 random bytes, base64 (`actas keys genmaster`), that encrypt the signing keys. Environment only. Unset on SQLite: a key file beside the database, with a warning; required on PostgreSQL and in production mode.",
		get:  func(c *Config) string { return c.MasterKey }, set: setString(func(c *Config) *string { return &c.MasterKey })},
	{Name: "hash_concurrency", Flag: "hash-concurrency", Env: "ACTAS_HASH_CONCURRENCY", Default: "auto",
		Desc: "argon2id hashes run at once (each takes about 19 MiB; serve's soft memory limit is derived from it unless `GOMEMLIMIT` is set). `auto`: one per CPU.",
		get: func(c *Config) string {
			if c.HashConcurrency == 0 {
				return "auto"
			}
			return strconv.Itoa(c.HashConcurrency)
		},
		set: setAutoInt(func(c *Config) *int { return &c.HashConcurrency }, 0)},
	{Name: "hash_queue", Flag: "hash-queue", Env: "ACTAS_HASH_QUEUE", Default: "auto",
		Desc: "Sign-ins that may wait for a hashing slot beyond those running; more are answered 503 at once. `auto`: 64 per slot.",
		get: func(c *Config) string {
			if c.HashQueue < 0 {
				return "auto"
			}
			return strconv.Itoa(c.HashQueue)
		},
		set: setAutoInt(func(c *Config) *int { return &c.HashQueue }, -1)},
	{Name: "hash_max_wait", Flag: "hash-max-wait", Env: "ACTAS_HASH_MAX_WAIT", Default: "2s",
		Desc: "Longest a sign-in waits for a hashing slot before it is answered 503.",
		get:  func(c *Config) string { return c.HashMaxWait.String() }, set: setDuration(func(c *Config) *time.Duration { return &c.HashMaxWait })},
	{Name: "tenant_cache", Flag: "tenant-cache", Env: "ACTAS_TENANT_CACHE", Default: "2000",
		Desc: "Tenants whose configuration (tenant, API keys, public signing keys, JWKS and discovery) is kept in memory, least recently used evicted first; about 4 KiB each. A request of a tenant not cached reads it with its keys (one store read).",
		get:  func(c *Config) string { return strconv.Itoa(c.TenantCache) }, set: setAutoInt(func(c *Config) *int { return &c.TenantCache }, 2000)},
	{Name: "signing_key_cache", Flag: "signing-key-cache", Env: "ACTAS_SIGNING_KEY_CACHE", Default: "1000",
		Desc: "Private signing keys kept unsealed in memory (two per tenant that signs), least recently used evicted first; about 5 KiB each for RS256.",
		get:  func(c *Config) string { return strconv.Itoa(c.SigningKeyCache) }, set: setAutoInt(func(c *Config) *int { return &c.SigningKeyCache }, 1000)},
	{Name: "metrics", Flag: "metrics", Env: "ACTAS_METRICS", Default: "true",
		Desc: "Serve Prometheus metrics at `GET /metrics`.",
		get:  func(c *Config) string { return strconv.FormatBool(c.Metrics) }, set: setBool(func(c *Config) *bool { return &c.Metrics })},
	{Name: "metrics_addr", Flag: "metrics-addr", Env: "ACTAS_METRICS_ADDR", Default: "",
		Desc: "Serve `GET /metrics` on a listener of its own at this host:port (recommended in production: keep it off the public port), and answer 404 for it on `addr`. Empty: on `addr`.",
		get:  func(c *Config) string { return c.MetricsAddr }, set: setString(func(c *Config) *string { return &c.MetricsAddr })},
	{Name: "store_timeout", Flag: "store-timeout", Env: "ACTAS_STORE_TIMEOUT", Default: "2s",
		Desc: "Longest one database call of a request may take; past it the request gets 503 and, until the database answers again, requests that need it get 503 at once.",
		get:  func(c *Config) string { return c.StoreTimeout.String() }, set: setDuration(func(c *Config) *time.Duration { return &c.StoreTimeout })},
}

func setString(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, s string) error { *p(c) = strings.TrimSpace(s); return nil }
}

func setBool(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, s string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		*p(c) = b
		return nil
	}
}

func setDuration(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, s string) error {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30s or 1m", s)
		}
		*p(c) = d
		return nil
	}
}

func setAutoInt(p func(*Config) *int, auto int) func(*Config, string) error {
	return func(c *Config, s string) error {
		s = strings.TrimSpace(s)
		if s == "auto" {
			*p(c) = auto
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not a whole number or auto", s)
		}
		*p(c) = n
		return nil
	}
}

func fieldByName(name string) *configField {
	for i := range configFields {
		if configFields[i].Name == name {
			return &configFields[i]
		}
	}
	return nil
}

// configError lists every configuration problem; it exits 2 with one
// line on stderr.
type configError struct{ problems []string }

func (e configError) Error() string {
	return "invalid configuration: " + strings.Join(e.problems, "; ")
}

// addConfigFlags defines the flags of every setting that has one (but
// --db, which every command shares) and --config. Flags are strings, so
// that a malformed value is reported with every other problem rather
// than alone by the flag parser.
func addConfigFlags(cmd *cobra.Command) {
	cmd.Flags().String("config", "", "configuration file (JSON); flags and ACTAS_* variables override it (env ACTAS_CONFIG)")
	for _, f := range configFields {
		if f.Flag == "" || f.Flag == "db" {
			continue
		}
		help := strings.ReplaceAll(f.Desc, "`", "")
		if f.Env != "" {
			help += " (env " + f.Env + ")"
		}
		cmd.Flags().String(f.Flag, f.Default, help)
		if f.Default == "true" || f.Default == "false" {
			cmd.Flags().Lookup(f.Flag).NoOptDefVal = "true" // --metrics alone means true
		}
	}
}

// loadConfig resolves the configuration of cmd: defaults, then the file,
// then the environment, then flags. It reports every problem at once.
func (m *Main) loadConfig(cmd *cobra.Command) (*Config, error) {
	c := &Config{source: map[string]string{}}
	var problems []string
	for _, f := range configFields {
		if err := f.set(c, f.Default); err != nil {
			panic("config default of " + f.Name + ": " + err.Error())
		}
		c.source[f.Name] = "default"
	}
	file := m.Getenv("ACTAS_CONFIG")
	if fl := cmd.Flag("config"); fl != nil && fl.Changed {
		file = fl.Value.String()
	}
	if file != "" {
		problems = append(problems, c.applyFile(file)...)
	}
	for _, f := range configFields {
		if v := m.Getenv(f.Env); f.Env != "" && v != "" {
			if err := f.set(c, v); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", f.Env, err))
			}
			c.source[f.Name] = "env"
		}
	}
	for _, f := range configFields {
		if f.Flag == "" {
			continue
		}
		if fl := cmd.Flag(f.Flag); fl != nil && fl.Changed {
			if err := f.set(c, fl.Value.String()); err != nil {
				problems = append(problems, fmt.Sprintf("--%s: %v", f.Flag, err))
			}
			c.source[f.Name] = "flag"
		}
	}
	problems = append(problems, c.Validate()...)
	if len(problems) > 0 {
		return nil, configError{problems}
	}
	return c, nil
}

// applyFile reads a JSON object of settings keyed by name. Unknown keys
// are problems (a typo must not silently fall back to a default); so are
// secrets, which belong in the environment.
func (c *Config) applyFile(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return []string{fmt.Sprintf("config file: %v", err)}
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return []string{fmt.Sprintf("config file %s: not a JSON object: %v", path, err)}
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var problems []string
	for _, k := range keys {
		f := fieldByName(k)
		switch {
		case f == nil:
			problems = append(problems, fmt.Sprintf("config file: unknown setting %q", k))
			continue
		case f.Secret:
			problems = append(problems, fmt.Sprintf("config file: %s may only be set in the environment (%s)", k, f.Env))
			continue
		}
		s, err := jsonText(raw[k])
		if err == nil {
			err = f.set(c, s)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("config file: %s: %v", k, err))
			continue
		}
		c.source[k] = "file"
	}
	return problems
}

// jsonText turns a JSON string, number, boolean or array of strings into
// the text form of a setting.
func jsonText(v json.RawMessage) (string, error) {
	var x any
	if err := json.Unmarshal(v, &x); err != nil {
		return "", err
	}
	switch x := x.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return "", errors.New("a list must hold strings")
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("unsupported value %s", v)
}

// Validate reports every problem of c, one message each.
func (c *Config) Validate() []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if c.DB == "" {
		add("db: must not be empty")
	} else if strings.HasPrefix(c.DB, "sqlite:") && strings.TrimPrefix(c.DB, "sqlite:") == "" {
		add("db: sqlite: needs a path")
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		add("addr: %q is not host:port", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		add("addr: %q has no valid port", c.Addr)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			add("public_url: %q is not an absolute http or https URL", c.PublicURL)
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			add("public_url: %q must have no query, fragment or user", c.PublicURL)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		add("log_format: %q is not text or json", c.LogFormat)
	}
	if _, ok := parseLevel(c.LogLevel); !ok {
		add("log_level: %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.DrainTimeout <= 0 {
		add("drain_timeout: must be positive")
	}
	if c.DrainDelay < 0 {
		add("drain_delay: must not be negative")
	}
	if c.DrainDelay > time.Minute {
		add("drain_delay: at most 1m")
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		add("tls_cert and tls_key: give both or neither")
	case c.TLSCert != "":
		if _, err := loadCertificate(c.TLSCert, c.TLSKey); err != nil {
			add("tls_cert/tls_key: %v", err)
		}
	}
	if _, err := httpapi.ParseProxies(c.TrustedProxies); err != nil {
		add("trusted_proxies: %v", err)
	}
	if c.MasterKey != "" {
		if _, err := token.ParseMasterKey(c.MasterKey); err != nil {
			add("ACTAS_MASTER_KEY: %v", err)
		}
	}
	if c.HashConcurrency < 0 || c.HashConcurrency > 4096 {
		add("hash_concurrency: %d is not auto or 1 to 4096", c.HashConcurrency)
	}
	if c.HashQueue < -1 || c.HashQueue > 1_000_000 {
		add("hash_queue: %d is not auto or 0 to 1000000", c.HashQueue)
	}
	if c.StoreTimeout < 10*time.Millisecond || c.StoreTimeout > time.Minute {
		add("store_timeout: %s is not between 10ms and 1m", c.StoreTimeout)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			add("metrics_addr: %q is not host:port", c.MetricsAddr)
		}
		if !c.Metrics {
			add("metrics_addr: set while metrics is false")
		}
	}
	if c.TenantCache < 1 || c.TenantCache > 10_000_000 {
		add("tenant_cache: %d is not between 1 and 10000000", c.TenantCache)
	}
	if c.SigningKeyCache < 1 || c.SigningKeyCache > 10_000_000 {
		add("signing_key_cache: %d is not between 1 and 10000000", c.SigningKeyCache)
	}
	if c.HashMaxWait <= 0 || c.HashMaxWait > time.Minute {
		add("hash_max_wait: %s is not between 0 and 1m", c.HashMaxWait)
	}
	return p
}

// printable returns the text form of a setting for display: secrets and
// database passwords redacted.
func (c *Config) printable(f configField) string {
	v := f.get(c)
	switch {
	case f.Secret && v != "":
		return "REDACTED"
	case f.Name == cfgDB:
		return redactDSN(v)
	}
	return v
}

func (m *Main) configCommand(g *globals) *cobra.Command {
	cmd := parent("config", "show the configuration of serve")
	print := &cobra.Command{
		Use:   "print",
		Short: "print the effective configuration of serve (flags > ACTAS_* > --config file > defaults), secrets redacted",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := m.loadConfig(cmd)
			if err != nil {
				return err
			}
			if g.json {
				out := map[string]any{}
				for _, f := range configFields {
					out[f.Name] = c.printable(f)
				}
				return m.printJSON(out)
			}
			rows := make([][]string, 0, len(configFields))
			for _, f := range configFields {
				v := c.printable(f)
				if v == "" {
					v = "-"
				}
				rows = append(rows, []string{f.Name, v, c.source[f.Name]})
			}
			m.table("SETTING\tVALUE\tFROM", rows)
			return nil
		},
	}
	addConfigFlags(print)
	cmd.AddCommand(print)
	return cmd
}

// configReference is the configuration table of docs/operations.md,
// generated from configFields (TestConfigReferenceInDocs keeps the file
// equal to it; `go generate ./cmd/actas` rewrites it).
func configReference() string {
	var b strings.Builder
	b.WriteString("| setting (file key) | flag | environment | default | SIGHUP | description |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, f := range configFields {
		flag, def, reload := "—", "`"+f.Default+"`", "restart"
		if f.Flag != "" {
			flag = "`--" + f.Flag + "`"
		}
		if f.Default == "" {
			def = "empty"
		}
		if f.Reload {
			reload = "reloads"
		}
		name := "`" + f.Name + "`"
		if f.Secret {
			name += " (secret, environment only)"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s | %s |\n", name, flag, f.Env, def, reload, f.Desc)
	}
	return b.String()
}
