package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request kinds.
const (
	kSignIn      = "signin"
	kRefresh     = "refresh"
	kExpire      = "expire"
	kImpersonate = "impersonate"
)

var kinds = []string{kSignIn, kRefresh, kExpire, kImpersonate}

// loadConfig is one load run.
type loadConfig struct {
	URL         string
	APIKey      string
	Mix         map[string]int // kind -> weight
	Concurrency int            // closed loop: this many clients
	Rate        float64        // open loop: arrivals per second (0: closed loop)
	MaxInFlight int            // open loop cap
	Duration    time.Duration
	Requests    int64
	Timeout     time.Duration
	Progress    io.Writer

	st         *state
	refresh    []*prepared // reused round robin
	expire     []*prepared // consumed
	impCaller  *prepared   // the impersonator's session
	targets    []string    // impersonation targets
	signinBody [][]byte
}

// result of a run, per kind and overall.
type result struct {
	Elapsed   time.Duration
	Total     *kindResult
	ByKind    map[string]*kindResult
	Dropped   int64 // open loop: arrivals refused because MaxInFlight requests were in flight
	Exhausted bool  // the expire pool ran out
}

type kindResult struct {
	hist     hist
	ok       atomic.Int64
	mu       sync.Mutex
	statuses map[string]int64 // non-200 outcomes: "401", "503", "transport: timeout", …
}

func newKindResult() *kindResult { return &kindResult{statuses: map[string]int64{}} }

func (k *kindResult) fail(s string) {
	k.mu.Lock()
	k.statuses[s]++
	k.mu.Unlock()
}

func (k *kindResult) errors() int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	var n int64
	for _, v := range k.statuses {
		n += v
	}
	return n
}

func (k *kindResult) breakdown() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var keys []string
	for s := range k.statuses {
		keys = append(keys, s)
	}
	sort.Strings(keys)
	var parts []string
	for _, s := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", s, k.statuses[s]))
	}
	return strings.Join(parts, " ")
}

var errExhausted = errors.New("expire pool exhausted")

type loader struct {
	cfg       *loadConfig
	client    *http.Client
	res       *result
	picks     []string // weighted kinds, 100 slots
	nextRef   atomic.Int64
	nextExp   atomic.Int64
	nextUsr   atomic.Int64
	exhausted atomic.Bool
}

func newLoader(cfg *loadConfig) *loader {
	conns := cfg.Concurrency
	if cfg.Rate > 0 {
		conns = cfg.MaxInFlight
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	l := &loader{cfg: cfg, client: &http.Client{Transport: tr, Timeout: cfg.Timeout},
		res: &result{Total: newKindResult(), ByKind: map[string]*kindResult{}}}
	total := 0
	for _, k := range kinds {
		total += cfg.Mix[k]
	}
	for _, k := range kinds {
		if w := cfg.Mix[k]; w > 0 {
			l.res.ByKind[k] = newKindResult()
			for range max(1, w*1000/total) {
				l.picks = append(l.picks, k)
			}
		}
	}
	return l
}

func (l *loader) pick() string {
	if len(l.picks) == 1 {
		return l.picks[0]
	}
	return l.picks[rand.IntN(len(l.picks))]
}

// build returns the request for one operation of kind k.
func (l *loader) build(ctx context.Context, k string) (*http.Request, error) {
	c := l.cfg
	var method, path string
	var body []byte
	hdr := map[string]string{}
	switch k {
	case kSignIn:
		method, path = http.MethodPost, "/auth/token"
		body = c.signinBody[int(l.nextUsr.Add(1))%len(c.signinBody)]
	case kRefresh:
		method, path = http.MethodPost, "/auth/token"
		body = c.refresh[int(l.nextRef.Add(1))%len(c.refresh)].Body
	case kExpire:
		i := l.nextExp.Add(1) - 1
		if i >= int64(len(c.expire)) {
			return nil, errExhausted
		}
		p := c.expire[i]
		method, path, body = http.MethodDelete, "/auth/token", p.Body
		hdr["AccessToken"] = p.AccessToken
	case kImpersonate:
		method, path = http.MethodPost, "/auth/impersonate"
		body = fmt.Appendf(nil, `{"username":%q,"reason":"bench"}`, c.targets[int(l.nextUsr.Add(1))%len(c.targets)])
		hdr["Authorization"] = c.impCaller.IDToken
		hdr["AccessToken"] = c.impCaller.AccessToken
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-API-Key", c.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "actas-bench")
	for h, v := range hdr {
		req.Header.Set(h, v)
	}
	return req, nil
}

// do runs one operation; start is when it should have started (open
// loop: its scheduled arrival, so queueing delay counts as latency).
func (l *loader) do(ctx context.Context, start time.Time) error {
	k := l.pick()
	kr := l.res.ByKind[k]
	req, err := l.build(ctx, k)
	if err != nil {
		if errors.Is(err, errExhausted) {
			return err
		}
		kr.fail("build")
		l.res.Total.fail("build")
		return nil
	}
	resp, err := l.client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	d := time.Since(start)
	if ctx.Err() != nil {
		return nil // cut off by the end of the run: not counted
	}
	switch {
	case err != nil:
		s := "transport"
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			s = "timeout"
		}
		kr.fail(s)
		l.res.Total.fail(s)
	case resp.StatusCode != http.StatusOK:
		s := fmt.Sprint(resp.StatusCode)
		kr.fail(s)
		l.res.Total.fail(s)
	default:
		kr.ok.Add(1)
		l.res.Total.ok.Add(1)
	}
	kr.hist.Record(d)
	l.res.Total.hist.Record(d)
	return nil
}

func (l *loader) run(parent context.Context) *result {
	c := l.cfg
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	if c.Duration > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.Duration)
		defer cancel()
	}
	var issued atomic.Int64
	take := func() bool { // bounded by -n
		return c.Requests <= 0 || issued.Add(1) <= c.Requests
	}
	begin := time.Now()
	stopProgress := l.progress(ctx, begin)
	var wg sync.WaitGroup
	if c.Rate <= 0 {
		for range c.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil && take() {
					if errors.Is(l.do(ctx, time.Now()), errExhausted) {
						l.exhausted.Store(true)
						cancel()
						return
					}
				}
			}()
		}
	} else {
		sem := make(chan struct{}, c.MaxInFlight)
		interval := time.Duration(float64(time.Second) / c.Rate)
		for i := int64(0); ctx.Err() == nil && take(); i++ {
			at := begin.Add(time.Duration(i) * interval)
			if d := time.Until(at); d > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(d):
				}
				if ctx.Err() != nil {
					break
				}
			}
			select {
			case sem <- struct{}{}:
			default:
				l.res.Dropped++
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if errors.Is(l.do(ctx, at), errExhausted) {
					l.exhausted.Store(true)
					cancel()
				}
			}()
		}
	}
	wg.Wait()
	l.res.Elapsed = time.Since(begin)
	l.res.Exhausted = l.exhausted.Load()
	stopProgress()
	return l.res
}

// progress prints one line a second to c.Progress until stopped.
func (l *loader) progress(ctx context.Context, begin time.Time) func() {
	if l.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last int64
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			n := int64(l.res.Total.hist.Count())
			fmt.Fprintf(l.cfg.Progress, "%5.0fs  %8d done  %8.0f/s  errors %d  p99 %s\n",
				time.Since(begin).Seconds(), n, float64(n-last), l.res.Total.errors(), fmtDur(l.res.Total.hist.Quantile(0.99)))
			last = n
		}
	}()
	return func() { close(done); <-stopped }
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/1e6)
}
