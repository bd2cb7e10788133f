// Package metrics defines the server's Prometheus metrics on a registry
// owned by the server (never the global default registry), and the HTTP
// middleware that records requests by route pattern and status.
//
// Dependency: github.com/prometheus/client_golang, the reference client,
// for the exposition format and histograms.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector.
type Metrics struct {
	Registry *prometheus.Registry

	Requests        *prometheus.CounterVec
	RequestDuration *prometheus.HistogramVec
	BytesIn         prometheus.Counter
	BytesOut        prometheus.Counter
	OpenUploads     prometheus.Gauge
	ChangesStreams  prometheus.Gauge
	RateLimited     prometheus.Counter
	BusyRefused     prometheus.Counter
	GCDeleted       prometheus.Counter
	GCDeletedBytes  prometheus.Counter
	GCRuns          *prometheus.CounterVec
	StoreOps        *prometheus.HistogramVec
}

// New registers the metrics on a fresh registry, with Go runtime and
// process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clouddrive_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "clouddrive_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		BytesIn:        prometheus.NewCounter(prometheus.CounterOpts{Name: "clouddrive_upload_bytes_total", Help: "Content bytes received by uploads and overwrites."}),
		BytesOut:       prometheus.NewCounter(prometheus.CounterOpts{Name: "clouddrive_download_bytes_total", Help: "Content bytes sent by downloads and temp links."}),
		OpenUploads:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "clouddrive_open_uploads", Help: "Uploads and overwrites in progress."}),
		ChangesStreams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "clouddrive_changes_streams", Help: "Changes-feed requests in progress, long polls included."}),
		RateLimited:    prometheus.NewCounter(prometheus.CounterOpts{Name: "clouddrive_rate_limited_total", Help: "Requests refused with 429."}),
		BusyRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "clouddrive_busy_refused_total",
			Help: "Requests without credentials refused with 503 over the cap on them (serve --max-unauthenticated)."}),
		GCDeleted:      prometheus.NewCounter(prometheus.CounterOpts{Name: "clouddrive_gc_deleted_blobs_total", Help: "Unreferenced blobs deleted by garbage collection."}),
		GCDeletedBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "clouddrive_gc_deleted_bytes_total", Help: "Bytes of unreferenced blobs deleted."}),
		GCRuns:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clouddrive_gc_runs_total", Help: "Garbage collection runs by result."}, []string{"result"}),
		StoreOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "clouddrive_store_operation_duration_seconds", Help: "Metadata-store transactions and blob-store calls by store, operation and result.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}}, []string{"store", "op", "result"}),
	}
	r.MustRegister(m.Requests, m.RequestDuration, m.BytesIn, m.BytesOut, m.OpenUploads, m.ChangesStreams,
		m.RateLimited, m.BusyRefused, m.GCDeleted, m.GCDeletedBytes, m.GCRuns, m.StoreOps,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Observe records one finished request. route is the matched pattern
// ("GET /drive/v1/nodes/{id}"), never the raw path, so labels stay few.
func (m *Metrics) Observe(route, method string, code int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.Requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.RequestDuration.WithLabelValues(route).Observe(d.Seconds())
}

// Uploaded counts n bytes of received content.
func (m *Metrics) Uploaded(n int) { m.BytesIn.Add(float64(n)) }

// Downloaded counts n bytes of sent content.
func (m *Metrics) Downloaded(n int64) { m.BytesOut.Add(float64(n)) }

// GCRun records one garbage collection run.
func (m *Metrics) GCRun(deleted int, bytes int64, err error) {
	if err != nil {
		m.GCRuns.WithLabelValues("error").Inc()
		return
	}
	m.GCRuns.WithLabelValues("ok").Inc()
	m.GCDeleted.Add(float64(deleted))
	m.GCDeletedBytes.Add(float64(bytes))
}
