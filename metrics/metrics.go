package metrics

import (
	"database/sql"
	"errors"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/revocation"
)

// Options are what the metrics read when scraped. Every field is optional.
type Options struct {
	Revocations *revocation.Set
	Hasher      *password.Hasher
	// DBPools are database/sql pools by role; their statistics are
	// exported as go_sql_* with the label db_name.
	DBPools map[string]*sql.DB
	// Pool, if set, reads a connection pool that is not a database/sql
	// pool (the PostgreSQL store's pgx pool).
	Pool func() PoolStats
	// Version and Commit label actas_build_info.
	Version, Commit string
}

// PoolStats is a snapshot of a connection pool.
type PoolStats struct {
	Acquired, Idle, Total, Max int64
	Acquires                   int64         // connections handed out, ever
	EmptyAcquires              int64         // of those, how many had to wait for a free connection
	AcquireWait                time.Duration // total time spent waiting
}

// Metrics is a Prometheus registry with actas's collectors. Its Observe
// methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	signIns        *prometheus.CounterVec
	refreshes      *prometheus.CounterVec
	expires        *prometheus.CounterVec
	impersonations *prometheus.CounterVec
	throttled      *prometheus.CounterVec
	hashWait       prometheus.Histogram
	hashRejected   *prometheus.CounterVec
}

const ns = "actas"

// New returns the metrics of one process.
func New(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "http_requests_total",
		Help: "HTTP requests answered, by method, route pattern and status.",
	}, []string{"method", "route", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "http_request_duration_seconds",
		Help:    "Time from receiving a request to the end of its answer, by method and route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"method", "route"})
	m.signIns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "sign_ins_total",
		Help: "Sign-ins (POST /auth/token with credentials) by outcome.",
	}, []string{"outcome"})
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "refreshes_total",
		Help: "Refreshes (POST /auth/token with a refresh token) by outcome.",
	}, []string{"outcome"})
	m.expires = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "expires_total",
		Help: "Session expiries (DELETE /auth/token) by outcome.",
	}, []string{"outcome"})
	m.impersonations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "impersonations_total",
		Help: "Impersonation attempts by route (impersonate: /auth/impersonate; token_exchange: RFC 8693) and outcome (allowed, denied, …).",
	}, []string{"via", "outcome"})
	m.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "throttled_total",
		Help: "Attempts refused with 429 by the password-guessing throttle, by operation.",
	}, []string{"op"})
	m.hashWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "password_hash_wait_seconds",
		Help:    "Time callers waited for an argon2id slot (0 when one was free).",
		Buckets: []float64{.0005, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2, 5},
	})
	m.hashRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "password_hash_rejected_total",
		Help: "Hash requests refused (busy: queue full or waited too long, answered 503) or abandoned (canceled).",
	}, []string{"reason"})
	m.reg.MustRegister(m.requests, m.duration, m.signIns, m.refreshes, m.expires,
		m.impersonations, m.throttled, m.hashWait, m.hashRejected)

	// Pre-create the common series, so that dashboards and alerts see
	// zeros rather than absent series on a fresh process.
	for _, out := range []string{"ok", "bad_credentials", "throttled", "unavailable"} {
		m.signIns.WithLabelValues(out)
	}
	for _, out := range []string{"ok", "invalid_token"} {
		m.refreshes.WithLabelValues(out)
	}
	for _, via := range []string{"impersonate", "token_exchange"} {
		for _, out := range []string{"allowed", "denied"} {
			m.impersonations.WithLabelValues(via, out)
		}
	}
	m.throttled.WithLabelValues("sign_in")
	m.hashRejected.WithLabelValues("busy")

	v, c := o.Version, o.Commit
	if v == "" {
		v = "dev"
	}
	if c == "" {
		c = "unknown"
	}
	bi := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: ns, Name: "build_info",
		Help: "Always 1; labels say which build is running.",
	}, []string{"version", "commit", "goversion"})
	bi.WithLabelValues(v, c, runtime.Version()).Set(1)
	m.reg.MustRegister(bi)

	if r := o.Revocations; r != nil {
		m.reg.MustRegister(
			gaugeFunc("revocations", "Revoked session and token ids held in memory (each until its tokens expire).",
				func() float64 { return float64(r.Len()) }),
			gaugeFunc("revocation_cursor", "Highest revocation-log sequence number applied by this process.",
				func() float64 { return float64(r.Cursor()) }),
			gaugeFunc("revocation_sync_age_seconds", "Seconds since this process last completed a sync of the revocation log (-1 before the first). Above a few seconds, revocations made by other replicas are not enforced here.",
				func() float64 {
					t := r.LastSync()
					if t.IsZero() {
						return -1
					}
					return time.Since(t).Seconds()
				}),
			gaugeFunc("revocation_feed_waiters", "Revocation feed long polls waiting now.",
				func() float64 { return float64(r.FeedWaiters()) }),
		)
	}
	if h := o.Hasher; h != nil {
		conc, queue := h.Limits()
		m.reg.MustRegister(
			gaugeFunc("password_hash_in_flight", "argon2id hash callers running or waiting (the queue depth including running hashes).",
				func() float64 { return float64(h.InFlight()) }),
			gaugeFunc("password_hash_running", "argon2id hashes running now.",
				func() float64 { return float64(h.Running()) }),
			gaugeFunc("password_hash_concurrency", "How many argon2id hashes may run at once.",
				func() float64 { return float64(conc) }),
			gaugeFunc("password_hash_queue_capacity", "How many callers may wait for a hash slot beyond those running.",
				func() float64 { return float64(queue) }),
		)
	}
	names := make([]string, 0, len(o.DBPools))
	for name := range o.DBPools {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if db := o.DBPools[name]; db != nil {
			m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
		}
	}
	if o.Pool != nil {
		pool := o.Pool
		counterFunc := func(name, help string, f func() float64) prometheus.CounterFunc {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, f)
		}
		m.reg.MustRegister(
			gaugeFunc("db_pool_acquired_connections", "PostgreSQL connections in use now.", func() float64 { return float64(pool().Acquired) }),
			gaugeFunc("db_pool_idle_connections", "PostgreSQL connections idle now.", func() float64 { return float64(pool().Idle) }),
			gaugeFunc("db_pool_max_connections", "The PostgreSQL pool's bound.", func() float64 { return float64(pool().Max) }),
			counterFunc("db_pool_acquires_total", "PostgreSQL connections handed out.", func() float64 { return float64(pool().Acquires) }),
			counterFunc("db_pool_empty_acquires_total", "PostgreSQL connection requests that had to wait for a free connection.", func() float64 { return float64(pool().EmptyAcquires) }),
			counterFunc("db_pool_acquire_wait_seconds_total", "Time spent waiting for a PostgreSQL connection.", func() float64 { return pool().AcquireWait.Seconds() }),
		)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func gaugeFunc(name, help string, f func() float64) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, f)
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry returns the registry (for tests and for adding collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveRequest records one answered request (an httpapi.Observer
// Request hook).
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// ObserveOutcome records the outcome of one operation (an
// httpapi.Observer Outcome hook). op is sign_in, refresh, expire,
// impersonate or token_exchange.
func (m *Metrics) ObserveOutcome(op, outcome string) {
	switch op {
	case "sign_in":
		m.signIns.WithLabelValues(outcome).Inc()
	case "refresh":
		m.refreshes.WithLabelValues(outcome).Inc()
	case "expire":
		m.expires.WithLabelValues(outcome).Inc()
	case "impersonate", "token_exchange":
		m.impersonations.WithLabelValues(op, outcome).Inc()
	default:
		return
	}
	if outcome == "throttled" {
		m.throttled.WithLabelValues(op).Inc()
	}
}

// ObserveHashWait records one wait for a hashing slot (a
// password.Observer Wait hook).
func (m *Metrics) ObserveHashWait(d time.Duration, err error) {
	m.hashWait.Observe(d.Seconds())
	switch {
	case err == nil:
	case errors.Is(err, password.ErrBusy):
		m.hashRejected.WithLabelValues("busy").Inc()
	default:
		m.hashRejected.WithLabelValues("canceled").Inc()
	}
}
