package app

import "net/http"

// MetricsHandler serves GET /metrics (Prometheus text format) and 404
// for anything else: the handler of the separate metrics listener
// (`clouddrive serve --metrics-addr`). It has no authentication; the
// listener's address is what keeps it private.
func (a *App) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.API.Metrics.Handler())
	return mux
}
