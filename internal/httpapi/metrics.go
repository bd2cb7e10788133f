package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// metricsRoute returns the handler of GET /metrics on the API, or nil
// when the API does not serve it: the metrics name routes, counts and
// store timings, which are not for everybody, so by default they are
// served only on a listener of their own (`clouddrive serve
// --metrics-addr`, app.App.MetricsHandler). With MetricsToken the API
// serves them to requests with Authorization: Bearer <MetricsToken> (401
// otherwise); MetricsPublic serves them to anyone.
func (s *Server) metricsRoute() http.Handler {
	if s.Metrics == nil || (!s.MetricsPublic && s.MetricsToken == "") {
		return nil
	}
	h := s.Metrics.Handler()
	if s.MetricsPublic {
		return h
	}
	want := []byte(s.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), want) != 1 {
			s.writeError(w, r, drive.E("httpapi.metrics", drive.Unauthorized, "the metrics need the metrics token (Authorization: Bearer <token>)"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
