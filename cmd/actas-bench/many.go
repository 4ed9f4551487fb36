package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// actas-bench many: what a server with many tenants costs per tenant,
// against the tenants of `actas-bench tenants` (docs/performance.md, many
// tenants). In order:
//
//  1. first and repeat JWKS: for -sample tenants never requested yet,
//     the first JWKS request and an immediate repeat, medians;
//  2. every tenant served once: JWKS, a sign-in and a refresh, with the
//     server's RSS (-pid) before and after;
//  3. uncached /readyz: -probes probes spaced past the readiness cache's
//     one-second TTL, median.
//
// Each line it prints is "name value", for scripts/manytenants.sh.

func manyMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("actas-bench many", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		base    = fs.String("url", "http://127.0.0.1:8080", "the server (loopback only)")
		file    = fs.String("tenants", "", "tenants file of actas-bench tenants (required)")
		pid     = fs.Int("pid", 0, "the server's process id, to read its RSS (0: skip)")
		sample  = fs.Int("sample", 200, "tenants whose first and repeat JWKS are timed")
		probes  = fs.Int("probes", 5, "uncached /readyz probes")
		workers = fs.Int("c", 4, "requests at once while serving every tenant")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopbackOnly(*base); err != nil {
		return err
	}
	tenants, err := readBenchTenants(*file)
	if err != nil {
		return err
	}
	cl := &http.Client{Timeout: 30 * time.Second}
	do := func(method, path, apiKey string, body []byte) ([]byte, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, method, *base+path, bytes.NewReader(body))
		if err != nil {
			return nil, 0, err
		}
		if apiKey != "" {
			req.Header.Set("X-API-Key", apiKey)
			req.Header.Set("Content-Type", "application/json")
		}
		t0 := time.Now()
		resp, err := cl.Do(req)
		if err != nil {
			return nil, 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		el := time.Since(t0)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b, el, err
	}
	// A warm connection, so the first timed request pays no dial.
	if _, _, err := do(http.MethodGet, "/healthz", "", nil); err != nil {
		return err
	}

	// 1. First and repeat JWKS.
	n := min(*sample, len(tenants))
	var first, repeat []time.Duration
	for _, t := range tenants[:n] {
		path := "/" + t.UserPoolID + "/.well-known/jwks.json"
		_, d1, err := do(http.MethodGet, path, "", nil)
		if err != nil {
			return err
		}
		_, d2, err := do(http.MethodGet, path, "", nil)
		if err != nil {
			return err
		}
		first, repeat = append(first, d1), append(repeat, d2)
	}
	f, r := median(first), median(repeat)
	fmt.Fprintf(stdout, "jwks_first_us %d\njwks_repeat_us %d\njwks_first_over_repeat %.2f\n",
		f.Microseconds(), r.Microseconds(), float64(f)/float64(r))

	// 2. Every tenant served once.
	rss0, _ := rssKiB(*pid)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	t0 := time.Now()
	for range max(1, *workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(tenants) || ctx.Err() != nil {
					return
				}
				if err := serveOnce(do, tenants[i]); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	rss1, _ := rssKiB(*pid)
	hwm, _ := procStatusKiB(*pid, "VmHWM:")
	fmt.Fprintf(stdout, "served_tenants %d\nserve_seconds %.1f\nrss_before_kib %d\nrss_after_kib %d\nrss_peak_kib %d\n",
		len(tenants), time.Since(t0).Seconds(), rss0, rss1, hwm)

	// 3. Uncached /readyz.
	var ready []time.Duration
	for range *probes {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(1100 * time.Millisecond):
		}
		_, d, err := do(http.MethodGet, "/readyz", "", nil)
		if err != nil {
			return err
		}
		ready = append(ready, d)
	}
	fmt.Fprintf(stdout, "readyz_uncached_us %d\n", median(ready).Microseconds())
	return nil
}

// serveOnce makes the requests of one tenant's client and verifier:
// JWKS, a sign-in and a refresh.
func serveOnce(do func(method, path, apiKey string, body []byte) ([]byte, time.Duration, error), t benchTenant) error {
	if _, _, err := do(http.MethodGet, "/"+t.UserPoolID+"/.well-known/jwks.json", "", nil); err != nil {
		return err
	}
	body := fmt.Appendf(nil, `{"username":%q,"password":%q}`, t.Username, t.Password)
	signedIn, _, err := do(http.MethodPost, "/auth/token", t.APIKey, body)
	if err != nil {
		return fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	if _, _, err := do(http.MethodPost, "/auth/token", t.APIKey, signedIn); err != nil {
		return fmt.Errorf("tenant %s refresh: %w", t.Name, err)
	}
	return nil
}

func readBenchTenants(path string) ([]benchTenant, error) {
	if path == "" {
		return nil, errors.New("-tenants is required")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []benchTenant
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var t benchTenant
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, t)
	}
	if len(out) == 0 && sc.Err() == nil {
		return nil, fmt.Errorf("%s: no tenants", path)
	}
	return out, sc.Err()
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// rssKiB reads a process's resident set size from /proc (Linux).
func rssKiB(pid int) (int64, error) { return procStatusKiB(pid, "VmRSS:") }

// procStatusKiB reads a size field of /proc/PID/status (Linux).
func procStatusKiB(pid int, field string) (int64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s", field)
}
