package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/postgres"
	"github.com/actas-dev/actas/sqlite"
	"github.com/actas-dev/actas/token"
)

// Main is the whole program, with its outside world injected so that
// end-to-end tests run it in-process: arguments, standard streams,
// environment and clock.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time
	// Ready, if set, is called with the listening address once serve
	// accepts connections.
	Ready func(addr string)
	// HashParams overrides the argon2id parameters (tests use cheap ones).
	HashParams *password.Params
	// Hangup, if set, replaces SIGHUP for serve's reload (tests send on it).
	Hangup <-chan os.Signal
	// WrapStore, if set, wraps the store serve's issuer uses, under its
	// storeguard (tests inject storage faults with it; faults.go).
	WrapStore func(actas.Store) actas.Store
	// SetMemoryLimit, if set, is how serve sets the Go runtime's soft
	// memory limit (memlimit.go); NewMain sets debug.SetMemoryLimit.
	// Tests leave it nil, so that no server run in a test changes the
	// test process's limit, or record the value.
	SetMemoryLimit func(int64) int64
	// MemoryLimitEvery, if set, is how often serve derives the limit
	// again from what the caches hold (10 s otherwise).
	MemoryLimitEvery time.Duration
}

// NewMain returns a Main wired to the process.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now,
		SetMemoryLimit: debug.SetMemoryLimit}
}

// Exit statuses of the scripting contract (SPEC §6).
const (
	exitOK      = 0
	exitFailure = 1 // the user can fix it; one line on stderr
	exitUsage   = 2
)

type usageError struct{ error }

// Run runs one command line and returns the exit status.
func (m *Main) Run(ctx context.Context, args []string) int {
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Getenv == nil {
		m.Getenv = os.Getenv
	}
	root := m.rootCommand()
	root.SetArgs(args)
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ce configError
	if errors.As(err, &ce) { // every problem, on one line
		fmt.Fprintf(m.Stderr, "actas: %s\n", oneLine(ce.Error()))
		return exitUsage
	}
	// Flag errors arrive as usageError (SetFlagErrorFunc below). A command
	// line naming no command fails cobra's lookup with an untyped error:
	// ask the lookup again rather than read the error's text.
	var ue usageError
	if _, _, lookupErr := root.Find(args); errors.As(err, &ue) || lookupErr != nil {
		fmt.Fprintf(m.Stderr, "actas: %v\nRun 'actas --help' for usage.\n", err)
		return exitUsage
	}
	fmt.Fprintf(m.Stderr, "actas: %s\n", oneLine(errText(err)))
	return exitFailure
}

// errText is what the operator sees: the safe message of a domain error,
// or the error itself (the operator owns the machine; it never includes
// secrets because no error text in actas is built from one).
func errText(err error) string {
	var e *actas.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// global flags
type globals struct {
	db   string
	json bool
	// Set by serve before open (lifecycle.go): its configuration and logger.
	cfg *Config
	log *slog.Logger
}

func (m *Main) rootCommand() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "actas",
		Short:         "actas: a self-hosted authentication token service",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&g.db, "db", "", "database: sqlite:PATH, a bare PATH, or postgres://… (env ACTAS_DB; default sqlite under ./actas-data/)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print data as JSON")
	root.AddCommand(
		m.serveCommand(g),
		m.migrateCommand(g),
		m.tenantCommand(g),
		m.apikeyCommand(g),
		m.clientCommand(g),
		m.userCommand(g),
		m.groupCommand(g),
		m.sessionCommand(g),
		m.auditCommand(g),
		m.keysCommand(g),
		m.versionCommand(g),
		m.configCommand(g),
		m.doctorCommand(g),
	)
	return root
}

// parent returns a command that only groups subcommands. Run bare, or
// with a subcommand that does not exist, it is bad usage (exit 2) rather
// than help on standard output with status 0.
func parent(use, short string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
			}
			return usageError{fmt.Errorf("%s needs a subcommand (see %s --help)", cmd.CommandPath(), cmd.CommandPath())}
		}}
}

// args validators that report usage errors (exit 2).
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))}
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError{fmt.Errorf("%s takes at least %d argument(s)", cmd.CommandPath(), n)}
		}
		return nil
	}
}

func requireFlag(name, val string) error {
	if val == "" {
		return usageError{fmt.Errorf("--%s is required", name)}
	}
	return nil
}

const defaultDB = "sqlite:actas-data/actas.db"

// dbSpec returns the database location: --db, else ACTAS_DB, else the
// default SQLite file.
func (m *Main) dbSpec(g *globals) string {
	switch {
	case g.db != "":
		return g.db
	case m.Getenv("ACTAS_DB") != "":
		return m.Getenv("ACTAS_DB")
	}
	return defaultDB
}

// otherURL matches a --db that is a URL (mysql://…). One of another scheme
// than postgres:// or postgresql:// (or sqlite:, whose PATH is taken as
// given) is refused rather than taken for a file path named like the URL.
var otherURL = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// env is an opened store with the issuer on top.
type env struct {
	store  actas.Store
	issuer *issuer.Issuer
	sqlite *sqlite.DB // nil on PostgreSQL
}

func (e *env) Close() error { return e.store.Close() }

// open opens and migrates the store, loads the master key and builds an
// issuer. publicURL may be empty for commands that mint no tokens.
func (m *Main) open(ctx context.Context, g *globals, publicURL string) (*env, error) {
	spec := m.dbSpec(g)
	var e env
	var keyFile string
	switch {
	case strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://"):
		// Refuse before touching the shared database.
		if _, err := m.masterKey("", nil); err != nil {
			return nil, err
		}
		db, err := postgres.Open(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", redactDSN(spec), err)
		}
		e.store = db // keyFile stays empty: replicas must share ACTAS_MASTER_KEY
	case otherURL.MatchString(spec) && !strings.HasPrefix(spec, "sqlite:"):
		return nil, usageError{fmt.Errorf("--db %s: want sqlite:PATH, a bare PATH, or a postgres:// URL", redactDSN(spec))}
	default:
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return nil, usageError{errors.New("--db sqlite: needs a path")}
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		e.store, e.sqlite = db, db
		keyFile = filepath.Join(filepath.Dir(path), token.MasterKeyFileName)
	}
	master, err := m.masterKey(keyFile, func() (bool, error) {
		return issuer.HoldsSealedKeys(ctx, e.store)
	})
	if err != nil {
		e.store.Close()
		return nil, err
	}
	sealer, err := token.NewSealer(master)
	if err != nil {
		e.store.Close()
		return nil, err
	}
	params := password.OWASP
	if m.HashParams != nil {
		params = *m.HashParams
	}
	ic := issuer.Config{
		Store:     m.guardStore(g, e.store),
		Sealer:    sealer,
		Hasher:    g.newHasher(params),
		PublicURL: publicURL,
		Now:       m.Now,
		Logger:    m.openLogger(g),
	}
	if c := g.cfg; c != nil {
		ic.TenantCache, ic.SigningKeyCache = c.TenantCache, c.SigningKeyCache
	}
	e.issuer = issuer.New(ic)
	return &e, nil
}

// masterKey returns ACTAS_MASTER_KEY, or on SQLite a key kept in a file
// beside the database (created on first use, with a warning).
// hasKeys, if not nil, reports whether the database already holds sealed
// keys: then a missing key file is an error, never a reason to make a new
// key that could open none of them.
func (m *Main) masterKey(keyFile string, hasKeys func() (bool, error)) ([]byte, error) {
	if v := m.Getenv("ACTAS_MASTER_KEY"); v != "" {
		k, err := token.ParseMasterKey(v)
		if err != nil {
			return nil, fmt.Errorf("ACTAS_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	if keyFile == "" {
		return nil, errors.New("ACTAS_MASTER_KEY is required on PostgreSQL: every replica must share it (actas keys genmaster prints one)")
	}
	k, created, err := token.LoadMasterKeyFile(keyFile, hasKeys)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(m.Stderr, "WARNING: ACTAS_MASTER_KEY is not set; generated a master key in %s: anyone who can read it can decrypt the signing keys; set ACTAS_MASTER_KEY in production.\n", keyFile)
	}
	return k, nil
}

// withEnv opens the store for one command, runs fn with the command's
// context, and closes the store. Commands check their flags and
// arguments before, so that a usage error touches no database.
func (m *Main) withEnv(cmd *cobra.Command, g *globals, fn func(ctx context.Context, e *env) error) error {
	ctx := cmd.Context()
	e, err := m.open(ctx, g, "")
	if err != nil {
		return err
	}
	defer e.Close()
	return fn(ctx, e)
}

// emit prints v as JSON with --json, and otherwise calls text.
func (m *Main) emit(g *globals, v any, text func()) error {
	if g.json {
		return m.printJSON(v)
	}
	text()
	return nil
}

func (m *Main) printJSON(v any) error {
	enc := json.NewEncoder(m.Stdout)
	return enc.Encode(v)
}

func (m *Main) table(header string, rows [][]string) {
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (m *Main) versionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, c := buildInfo()
			return m.emit(g, map[string]string{"version": v, "commit": c, "go": runtime.Version()}, func() {
				fmt.Fprintf(m.Stdout, "actas %s (commit %s, %s)\n", v, c, runtime.Version())
			})
		},
	}
}
