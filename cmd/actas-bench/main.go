// Command actas-bench drives a running actas over HTTP and reports
// throughput and latency against this machine's crypto bounds, measured in
// the same run. See docs/performance.md.
//
//	actas-bench -db sqlite:/tmp/x/actas.db -url http://127.0.0.1:8080 -setup -scenario refresh -c 16 -d 10s
//	actas-bench seed -db sqlite:/tmp/x/actas.db -sessions 1000000
//	actas-bench tenants -db sqlite:/tmp/x/actas.db -n 10000 -out /tmp/x/tenants.jsonl
//	actas-bench many -url http://127.0.0.1:8080 -tenants /tmp/x/tenants.jsonl -pid PID
//	ACTAS_MASTER_KEY=… actas-bench -db postgres://127.0.0.1/actas -state /tmp/x/pg.json -url … -setup …
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/actas-dev/actas/password"
)

func main() {
	args := os.Args[1:]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch {
	case len(args) > 0 && args[0] == "seed":
		err = seedMain(ctx, args[1:], os.Stdout, os.Stderr)
	case len(args) > 0 && args[0] == "tenants":
		err = tenantsMain(ctx, args[1:], os.Stdout, os.Stderr)
	case len(args) > 0 && args[0] == "many":
		err = manyMain(ctx, args[1:], os.Stdout, os.Stderr)
	case len(args) > 0 && args[0] == "run":
		err = runMain(ctx, args[1:], os.Stdout, os.Stderr)
	default:
		err = runMain(ctx, args, os.Stdout, os.Stderr)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "actas-bench:", err)
		os.Exit(1)
	}
}

// loopbackOnly refuses any target but this machine: a load tool must
// never be pointed at someone else's service by accident.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-url %q: want http://127.0.0.1:PORT", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url %q: actas-bench only targets loopback addresses", raw)
	}
	return nil
}

var scenarios = map[string]map[string]int{
	"signin":      {kSignIn: 1},
	"refresh":     {kRefresh: 1},
	"expire":      {kExpire: 1},
	"impersonate": {kImpersonate: 1},
	"mix":         {kRefresh: 70, kSignIn: 20, kExpire: 5, kImpersonate: 5},
}

func parseMix(s string) (map[string]int, error) {
	m := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 || scenarios[k] == nil || k == "mix" {
			return nil, fmt.Errorf("-mix %q: want e.g. refresh=70,signin=20,expire=5,impersonate=5", s)
		}
		m[k] = n
	}
	return m, nil
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("actas-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		target      = fs.String("url", "http://127.0.0.1:8080", "base URL of the running actas (loopback only)")
		publicURL   = fs.String("public-url", "", "the server's --public-url, which token issuers use (default: -url)")
		dbSpec      = fs.String("db", os.Getenv("ACTAS_DB"), "the server's --db (sqlite:PATH or postgres://…); needed by -setup and to prepare sessions")
		statePath   = fs.String("state", "", "state file written by -setup (default: bench-state.json beside a SQLite database; required on PostgreSQL)")
		doSetup     = fs.Bool("setup", false, "create a fresh tenant and users in the database and write the state file")
		alg         = fs.String("alg", "RS256", "-setup: the tenant's signing algorithm (RS256, ES256, EdDSA)")
		nUsers      = fs.Int("users", 16, "-setup: number of users")
		scenario    = fs.String("scenario", "refresh", "signin | refresh | expire | impersonate | mix")
		mixSpec     = fs.String("mix", "refresh=70,signin=20,expire=5,impersonate=5", "weights of -scenario mix")
		conc        = fs.Int("c", 16, "closed loop: number of concurrent clients")
		rate        = fs.Float64("rate", 0, "open loop: arrivals per second (0: closed loop with -c clients)")
		maxInFlight = fs.Int("max-inflight", 1000, "open loop: at most this many requests in flight; later arrivals are dropped and counted")
		duration    = fs.Duration("d", 10*time.Second, "run for this long (0: until -n requests)")
		nReq        = fs.Int64("n", 0, "stop after this many requests (0: until -d)")
		refreshPool = fs.Int("refresh-sessions", 256, "sessions prepared for refresh (reused round robin)")
		expirePool  = fs.Int("expire-sessions", 0, "sessions prepared for expire, one per request (default: -n, else 20000 for expire, 2000 for mix)")
		timeout     = fs.Duration("timeout", 30*time.Second, "per-request timeout")
		measure     = fs.Bool("bounds", true, "measure this machine's argon2id and signature bounds first")
		hashM       = fs.Uint("hash-m", uint(password.OWASP.Memory), "the server's argon2id memory (KiB)")
		hashT       = fs.Uint("hash-t", uint(password.OWASP.Time), "the server's argon2id iterations")
		pid         = fs.Int("pid", 0, "the server's process id: report its CPU time and peak RSS (VmHWM)")
		jsonOut     = fs.Bool("json", false, "print the summary as one JSON object on stdout")
		csvPath     = fs.String("csv", "", "append one summary row to this CSV file")
		label       = fs.String("label", "", "free text recorded in the JSON/CSV output")
		quiet       = fs.Bool("q", false, "no progress lines")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopbackOnly(*target); err != nil {
		return err
	}
	if *duration <= 0 && *nReq <= 0 {
		return errors.New("give -d or -n: every run is bounded")
	}
	if *duration > time.Hour {
		return errors.New("-d: at most 1h")
	}
	if *conc < 1 || *conc > 20000 || *maxInFlight < 1 || *maxInFlight > 20000 {
		return errors.New("-c and -max-inflight must be between 1 and 20000")
	}
	mix := scenarios[*scenario]
	if mix == nil {
		return fmt.Errorf("-scenario %q: want signin, refresh, expire, impersonate or mix", *scenario)
	}
	if *scenario == "mix" {
		var err error
		if mix, err = parseMix(*mixSpec); err != nil {
			return err
		}
	}
	base := strings.TrimRight(*target, "/")
	if *publicURL == "" {
		*publicURL = base
	}
	params := password.OWASP
	params.Memory, params.Time = uint32(*hashM), uint32(*hashT)
	if *statePath == "" {
		t, err := parseTarget(*dbSpec)
		if err != nil {
			return err
		}
		if *statePath, err = defaultState(t); err != nil {
			return err
		}
	}

	needDB := *doSetup || mix[kRefresh] > 0 || mix[kExpire] > 0 || mix[kImpersonate] > 0
	var e *env
	if needDB {
		var err error
		if e, err = openEnv(ctx, *dbSpec, *publicURL, params); err != nil {
			return err
		}
		defer e.db.Close()
	}
	var st *state
	if *doSetup {
		t0 := time.Now()
		var err error
		if st, err = setup(ctx, e, *alg, *nUsers); err != nil {
			return err
		}
		if err := saveState(*statePath, st); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "setup: tenant %s (%s), %d users, in %s; state in %s\n",
			st.Tenant, st.Alg, len(st.Users)+1, time.Since(t0).Round(time.Millisecond), *statePath)
	} else {
		var err error
		if st, err = loadState(*statePath); err != nil {
			return err
		}
	}

	cfg := &loadConfig{URL: base, APIKey: st.APIKey, Mix: mix, Concurrency: *conc, Rate: *rate,
		MaxInFlight: *maxInFlight, Duration: *duration, Requests: *nReq, Timeout: *timeout, st: st}
	if !*quiet {
		cfg.Progress = stderr
	}
	for _, u := range st.Users {
		b, _ := json.Marshal(map[string]string{"username": u, "password": st.Password})
		cfg.signinBody = append(cfg.signinBody, b)
	}
	cfg.targets = st.Users
	t0 := time.Now()
	if mix[kRefresh] > 0 {
		var err error
		if cfg.refresh, err = prepareSessions(ctx, e, st, *publicURL, st.Users, *refreshPool); err != nil {
			return err
		}
	}
	if mix[kExpire] > 0 {
		n := *expirePool
		if n == 0 {
			switch {
			case *nReq > 0:
				n = int(*nReq)
			case *scenario == "expire":
				n = 20000
			default:
				n = 2000
			}
		}
		var err error
		if cfg.expire, err = prepareSessions(ctx, e, st, *publicURL, st.Users, n); err != nil {
			return err
		}
	}
	if mix[kImpersonate] > 0 {
		p, err := prepareSessions(ctx, e, st, *publicURL, []string{st.Impersonator}, 1)
		if err != nil {
			return err
		}
		cfg.impCaller = p[0]
	}
	if n := len(cfg.refresh) + len(cfg.expire); n > 0 {
		fmt.Fprintf(stderr, "prepared %d sessions in %s\n", n, time.Since(t0).Round(time.Millisecond))
	}

	var b *bounds
	if *measure {
		var err error
		if b, err = measureBounds(params, st.Alg); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "bounds: %d CPUs; argon2id %s %s/hash (%s with %d at once) -> sign-in <= %.1f/s; %s %s/signature -> refresh <= %.0f/s\n",
			b.CPUs, b.HashParam, fmtDur(b.Hash), fmtDur(b.HashParallel), b.CPUs, b.SignIn, b.Alg, fmtDur(b.Sign), b.Refresh)
	}

	var before procStat
	if *pid > 0 {
		before = readProc(*pid)
		if !before.Valid {
			return fmt.Errorf("-pid %d: cannot read /proc/%d", *pid, *pid)
		}
	}
	selfBefore := selfCPU()
	res := newLoader(cfg).run(ctx)
	selfAfter := selfCPU()
	var after procStat
	if *pid > 0 {
		after = readProc(*pid)
	}
	s := summarize(*label, *scenario, st.Alg, cfg, res, b, before, after, selfAfter-selfBefore)
	if *csvPath != "" {
		if err := appendCSV(*csvPath, s); err != nil {
			return err
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	printSummary(stdout, s)
	return nil
}

// summary is the outcome of one run, as printed, and as JSON and CSV.
type summary struct {
	Label       string  `json:"label,omitempty"`
	Scenario    string  `json:"scenario"`
	Alg         string  `json:"alg"`
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency,omitempty"`
	Rate        float64 `json:"rate,omitempty"`
	Elapsed     float64 `json:"elapsedSec"`
	Requests    int64   `json:"requests"`
	OK          int64   `json:"ok"`
	Errors      int64   `json:"errors"`
	ErrorsBy    string  `json:"errorBreakdown,omitempty"`
	Dropped     int64   `json:"dropped,omitempty"`
	Exhausted   bool    `json:"poolExhausted,omitempty"`
	Throughput  float64 `json:"okPerSec"`
	P50         float64 `json:"p50Ms"`
	P90         float64 `json:"p90Ms"`
	P99         float64 `json:"p99Ms"`
	P999        float64 `json:"p999Ms"`
	Max         float64 `json:"maxMs"`

	Bounds   *bounds `json:"bounds,omitempty"`
	Bound    float64 `json:"boundPerSec,omitempty"` // the crypto bound of this scenario
	Ratio    float64 `json:"ratioToBound,omitempty"`
	BoundWhy string  `json:"boundFormula,omitempty"`

	ServerCPU   float64 `json:"serverCpuSec,omitempty"`
	ServerCores float64 `json:"serverCores,omitempty"` // CPU seconds per second
	PerCore     float64 `json:"okPerServerCoreSec,omitempty"`
	ServerHWM   float64 `json:"serverVmHWMMiB,omitempty"`
	// CoreRatio is PerCore against the bound of one core (Bound / CPUs):
	// the share of the server's CPU time spent in the irreducible crypto.
	// It does not depend on how much CPU other processes took.
	CoreRatio float64 `json:"ratioPerServerCore,omitempty"`
	// Sign-in only: PerCore against the bound of one core when every CPU
	// hashes at once (bounds.HashParallel), what the hardware allows a
	// server that keeps all its cores hashing.
	CoreRatioParallel float64 `json:"ratioPerServerCoreParallelHash,omitempty"`
	ClientCores       float64 `json:"clientCores"`

	ByKind map[string]kindSummary `json:"byKind,omitempty"`
}

type kindSummary struct {
	OK       int64   `json:"ok"`
	Errors   int64   `json:"errors"`
	ErrorsBy string  `json:"errorBreakdown,omitempty"`
	PerSec   float64 `json:"okPerSec"`
	P50      float64 `json:"p50Ms"`
	P99      float64 `json:"p99Ms"`
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func summarize(label, scenario, alg string, cfg *loadConfig, r *result, b *bounds, before, after procStat, self time.Duration) *summary {
	el := r.Elapsed.Seconds()
	t := r.Total
	s := &summary{Label: label, Scenario: scenario, Alg: alg, Elapsed: el,
		OK: t.ok.Load(), Errors: t.errors(), ErrorsBy: t.breakdown(), Dropped: r.Dropped, Exhausted: r.Exhausted,
		P50: ms(t.hist.Quantile(0.5)), P90: ms(t.hist.Quantile(0.9)), P99: ms(t.hist.Quantile(0.99)),
		P999: ms(t.hist.Quantile(0.999)), Max: ms(t.hist.Max()), Bounds: b,
		ClientCores: self.Seconds() / el}
	s.Requests = s.OK + s.Errors
	s.Throughput = float64(s.OK) / el
	if cfg.Rate > 0 {
		s.Mode, s.Rate = "open", cfg.Rate
	} else {
		s.Mode, s.Concurrency = "closed", cfg.Concurrency
	}
	if len(r.ByKind) > 1 {
		s.ByKind = map[string]kindSummary{}
		for k, kr := range r.ByKind {
			s.ByKind[k] = kindSummary{OK: kr.ok.Load(), Errors: kr.errors(), ErrorsBy: kr.breakdown(),
				PerSec: float64(kr.ok.Load()) / el, P50: ms(kr.hist.Quantile(0.5)), P99: ms(kr.hist.Quantile(0.99))}
		}
	}
	if b != nil {
		switch scenario {
		case "signin":
			s.Bound, s.BoundWhy = b.SignIn, "CPUs / argon2id hash time"
		case "refresh":
			s.Bound, s.BoundWhy = b.Refresh, "CPUs / (2 x signature time)"
		case "impersonate":
			s.Bound, s.BoundWhy = b.Refresh, "CPUs / (2 x signature time)"
		case "mix":
			// Crypto cost of the average operation: sign-in one hash and two
			// signatures, refresh and impersonation two signatures.
			var w, cost float64
			for k, n := range cfg.Mix {
				w += float64(n)
				switch k {
				case kSignIn:
					cost += float64(n) * (b.Hash + 2*b.Sign).Seconds()
				case kRefresh, kImpersonate:
					cost += float64(n) * (2 * b.Sign).Seconds()
				}
			}
			if cost > 0 {
				s.Bound, s.BoundWhy = float64(b.CPUs)*w/cost, "CPUs / weighted crypto cost per operation"
			}
		}
		if s.Bound > 0 {
			s.Ratio = s.Throughput / s.Bound
		}
	}
	if before.Valid && after.Valid {
		s.ServerCPU = (after.CPU - before.CPU).Seconds()
		s.ServerCores = s.ServerCPU / el
		if s.ServerCPU > 0 {
			s.PerCore = float64(s.OK) / s.ServerCPU
		}
		s.ServerHWM = float64(after.HWM) / (1 << 20)
		if s.Bound > 0 && b != nil {
			s.CoreRatio = s.PerCore / (s.Bound / float64(b.CPUs))
		}
		if scenario == "signin" && b != nil && b.HashParallel > 0 {
			s.CoreRatioParallel = s.PerCore * b.HashParallel.Seconds()
		}
	}
	return s
}

func printSummary(w io.Writer, s *summary) {
	mode := fmt.Sprintf("closed loop, %d clients", s.Concurrency)
	if s.Mode == "open" {
		mode = fmt.Sprintf("open loop, %.0f/s offered", s.Rate)
	}
	fmt.Fprintf(w, "scenario %s (%s), %s, %.1fs, %d CPUs (%s)\n", s.Scenario, s.Alg, mode, s.Elapsed, runtime.NumCPU(), cpuModel())
	fmt.Fprintf(w, "requests   %d ok, %d errors", s.OK, s.Errors)
	if s.ErrorsBy != "" {
		fmt.Fprintf(w, " (%s)", s.ErrorsBy)
	}
	if s.Dropped > 0 {
		fmt.Fprintf(w, ", %d arrivals dropped at the in-flight cap", s.Dropped)
	}
	if s.Exhausted {
		fmt.Fprintf(w, ", expire pool exhausted (raise -expire-sessions)")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "throughput %.1f ok/s\n", s.Throughput)
	fmt.Fprintf(w, "latency    p50 %.2fms  p90 %.2fms  p99 %.2fms  p99.9 %.2fms  max %.2fms\n", s.P50, s.P90, s.P99, s.P999, s.Max)
	if s.Bounds != nil {
		fmt.Fprintf(w, "bounds     argon2id %s %.1fms/hash (%.1fms with %d at once); %s %.3fms/signature\n", s.Bounds.HashParam, ms(s.Bounds.Hash),
			ms(s.Bounds.HashParallel), s.Bounds.CPUs, s.Bounds.Alg, ms(s.Bounds.Sign))
	}
	if s.Bound > 0 {
		fmt.Fprintf(w, "vs bound   %.1f/s = %s -> ratio %.2f\n", s.Bound, s.BoundWhy, s.Ratio)
	}
	if s.ServerCPU > 0 {
		fmt.Fprintf(w, "server     %.1f CPU-s (%.2f cores) -> %.0f ok per server core-second; peak RSS (VmHWM) %.1f MiB\n",
			s.ServerCPU, s.ServerCores, s.PerCore, s.ServerHWM)
		if s.CoreRatio > 0 {
			fmt.Fprintf(w, "per core   %.0f ok/core-s vs bound %.0f/core-s -> ratio %.2f (independent of other processes' CPU use)\n",
				s.PerCore, s.Bound/float64(s.Bounds.CPUs), s.CoreRatio)
		}
		if s.CoreRatioParallel > 0 {
			fmt.Fprintf(w, "per core   vs the hash cost with all %d CPUs hashing (%.1fms): ratio %.2f\n",
				s.Bounds.CPUs, ms(s.Bounds.HashParallel), s.CoreRatioParallel)
		}
	}
	fmt.Fprintf(w, "client     %.2f cores used by actas-bench itself\n", s.ClientCores)
	for _, k := range kinds {
		if ks, ok := s.ByKind[k]; ok {
			fmt.Fprintf(w, "  %-12s %7d ok %5d err  %8.1f/s  p50 %.2fms  p99 %.2fms  %s\n", k, ks.OK, ks.Errors, ks.PerSec, ks.P50, ks.P99, ks.ErrorsBy)
		}
	}
}

var csvHeader = []string{"label", "scenario", "alg", "mode", "concurrency", "rate", "elapsed_s", "requests", "ok", "errors",
	"ok_per_s", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "bound_per_s", "ratio", "server_cores",
	"ok_per_server_core_s", "ratio_per_server_core", "server_vmhwm_mib", "client_cores", "error_breakdown",
	"ratio_per_server_core_parallel_hash"}

func appendCSV(path string, s *summary) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	if os.IsNotExist(statErr) {
		_ = w.Write(csvHeader)
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	_ = w.Write([]string{s.Label, s.Scenario, s.Alg, s.Mode, strconv.Itoa(s.Concurrency), g(s.Rate), g(s.Elapsed),
		strconv.FormatInt(s.Requests, 10), strconv.FormatInt(s.OK, 10), strconv.FormatInt(s.Errors, 10),
		g(s.Throughput), g(s.P50), g(s.P90), g(s.P99), g(s.P999), g(s.Max), g(s.Bound), g(s.Ratio), g(s.ServerCores),
		g(s.PerCore), g(s.CoreRatio), g(s.ServerHWM), g(s.ClientCores), s.ErrorsBy, g(s.CoreRatioParallel)})
	w.Flush()
	return w.Error()
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
