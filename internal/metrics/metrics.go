// Package metrics is what licensesd exports to Prometheus (issue 16), with
// the official client library, on its own listen address: request
// durations by route and status, requests in flight, the database pools'
// use and waits, and the group-commit batches. Nothing here is global: the
// daemon builds one Metrics and hands its parts to the layers it observes.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors on their own registry.
type Metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.HistogramVec
	inFlight       prometheus.Gauge
	batchSize      *prometheus.HistogramVec
	commit         *prometheus.HistogramVec
	graphCalls     *prometheus.HistogramVec
	graphRetries   *prometheus.CounterVec
	graphThrottled *prometheus.CounterVec
}

// New registers the collectors, the Go runtime's and the process's too.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "licenses_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by route template, method and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "licenses_http_requests_in_flight",
			Help: "Requests being served right now.",
		}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "licenses_group_commit_batch_size",
			Help:    "Updates that shared one commit (group commit), by store.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}, []string{"store"}),
		commit: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "licenses_group_commit_duration_seconds",
			Help:    "Time of one group-commit batch, from BEGIN to the durable COMMIT, by store.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"store"}),
	}
	m.graphCalls = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "licenses_graph_call_duration_seconds",
		Help:    "Microsoft Graph call attempts by operation and Graph's status (0: unreachable), with their time.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20},
	}, []string{"operation", "status"})
	m.graphRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "licenses_graph_retries_total",
		Help: "Graph call attempts after the first (retries on 429, 503, 504 or no answer), by operation.",
	}, []string{"operation"})
	m.graphThrottled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "licenses_graph_throttled_total",
		Help: "Graph answers 429 (throttled), by operation.",
	}, []string{"operation"})
	m.reg.MustRegister(m.graphCalls, m.graphRetries, m.graphThrottled)
	m.reg.MustRegister(m.requests, m.inFlight, m.batchSize, m.commit,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// RequestStarted and RequestDone bracket one HTTP request. route is the
// route template (never the caller's path, which would make a series per
// id).
func (m *Metrics) RequestStarted() { m.inFlight.Inc() }

// RequestDone records a finished request.
func (m *Metrics) RequestDone(route, method string, status int, d time.Duration) {
	m.inFlight.Dec()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// BatchObserver returns the function a store calls after each
// group-commit batch.
func (m *Metrics) BatchObserver(store string) func(size int, d time.Duration) {
	size, dur := m.batchSize.WithLabelValues(store), m.commit.WithLabelValues(store)
	return func(n int, d time.Duration) {
		size.Observe(float64(n))
		dur.Observe(d.Seconds())
	}
}

// GraphObserver returns the function the Graph client calls after every
// attempt of a call.
func (m *Metrics) GraphObserver() func(op string, status, attempt int, took time.Duration) {
	return func(op string, status, attempt int, took time.Duration) {
		m.graphCalls.WithLabelValues(op, strconv.Itoa(status)).Observe(took.Seconds())
		if attempt > 1 {
			m.graphRetries.WithLabelValues(op).Inc()
		}
		if status == http.StatusTooManyRequests {
			m.graphThrottled.WithLabelValues(op).Inc()
		}
	}
}

// AddViewCache exports a store's counts of user views served from its
// cache and read from the database.
func (m *Metrics) AddViewCache(store string, lookups func() (hits, misses uint64)) {
	m.addLookups("licenses_view_cache_lookups_total",
		"Reads of a user's licenses view (GET of a user's licenses, deciding a PATCH), by store and whether the cache served it.",
		store, lookups)
}

// AddReadCache exports a store's counts of the other reads (customer,
// provider instance, licenses, users and audit pages) served from its
// cache and read from the database.
func (m *Metrics) AddReadCache(store string, lookups func() (hits, misses uint64)) {
	m.addLookups("licenses_read_cache_lookups_total",
		"Reads of a customer, a provider instance, a customer's licenses or a users or audit page, by store and whether the cache served it.",
		store, lookups)
}

func (m *Metrics) addLookups(name, help, store string, lookups func() (hits, misses uint64)) {
	for _, result := range []string{"hit", "miss"} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        name,
			Help:        help,
			ConstLabels: prometheus.Labels{"store": store, "result": result},
		}, func() float64 {
			h, mi := lookups()
			if result == "hit" {
				return float64(h)
			}
			return float64(mi)
		}))
	}
}

// AddSQLPool exports a database/sql pool's use and waits
// (go_sql_* with db_name=name).
func (m *Metrics) AddSQLPool(name string, db *sql.DB) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// AddPgxPool exports a pgx pool's use and waits.
func (m *Metrics) AddPgxPool(name string, p *pgxpool.Pool) {
	m.reg.MustRegister(&pgxCollector{name: name, pool: p})
}

var (
	pgxLabels      = []string{"db_name"}
	pgxMaxConns    = prometheus.NewDesc("licenses_pgx_max_conns", "Maximum connections of the pool.", pgxLabels, nil)
	pgxTotalConns  = prometheus.NewDesc("licenses_pgx_total_conns", "Connections open (idle, in use or being opened).", pgxLabels, nil)
	pgxInUse       = prometheus.NewDesc("licenses_pgx_acquired_conns", "Connections in use.", pgxLabels, nil)
	pgxIdle        = prometheus.NewDesc("licenses_pgx_idle_conns", "Idle connections.", pgxLabels, nil)
	pgxAcquires    = prometheus.NewDesc("licenses_pgx_acquire_total", "Connections acquired.", pgxLabels, nil)
	pgxWaits       = prometheus.NewDesc("licenses_pgx_empty_acquire_total", "Acquires that had to wait for a connection.", pgxLabels, nil)
	pgxWaitSeconds = prometheus.NewDesc("licenses_pgx_empty_acquire_wait_seconds_total", "Time spent waiting for a connection.", pgxLabels, nil)
)

type pgxCollector struct {
	name string
	pool *pgxpool.Pool
}

func (c *pgxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{pgxMaxConns, pgxTotalConns, pgxInUse, pgxIdle, pgxAcquires, pgxWaits, pgxWaitSeconds} {
		ch <- d
	}
}

func (c *pgxCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(pgxMaxConns, prometheus.GaugeValue, float64(s.MaxConns()), c.name)
	ch <- prometheus.MustNewConstMetric(pgxTotalConns, prometheus.GaugeValue, float64(s.TotalConns()), c.name)
	ch <- prometheus.MustNewConstMetric(pgxInUse, prometheus.GaugeValue, float64(s.AcquiredConns()), c.name)
	ch <- prometheus.MustNewConstMetric(pgxIdle, prometheus.GaugeValue, float64(s.IdleConns()), c.name)
	ch <- prometheus.MustNewConstMetric(pgxAcquires, prometheus.CounterValue, float64(s.AcquireCount()), c.name)
	ch <- prometheus.MustNewConstMetric(pgxWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()), c.name)
	ch <- prometheus.MustNewConstMetric(pgxWaitSeconds, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds(), c.name)
}
