package app_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/internal/app"
)

// TestMetricsAccess: /metrics is not served on the API by default; with
// a metrics token it needs Authorization: Bearer <token>; MetricsPublic
// serves it to anyone. App.MetricsHandler, for a listener of its own,
// always serves it.
func TestMetricsAccess(t *testing.T) {
	const token = "0123456789abcdef-metrics"
	scrape := func(h http.Handler, authz string) (int, string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/metrics", nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	const series = "clouddrive_http_requests_total"
	for _, tc := range []struct {
		name string
		cfg  app.Config
		want map[string]int // Authorization header -> status on the API
	}{
		{"Default", app.Config{}, map[string]int{"": 404, "Bearer " + token: 404}},
		{"Token", app.Config{MetricsToken: token}, map[string]int{"": 401, "Bearer nope": 401, "Bearer " + token + "x": 401,
			"Basic " + token: 401, "Bearer " + token: 200, "bearer " + token: 200}},
		{"Public", app.Config{MetricsPublic: true}, map[string]int{"": 200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, tok := hostApp(t, tc.cfg)
			hostGet(t, h, "127.0.0.1", "/drive/v1/account/endpoint", tok) // something to count
			for authz, want := range tc.want {
				code, body := scrape(h, authz)
				if code != want {
					t.Errorf("GET /metrics with Authorization %q: %d, want %d\n%.300s", authz, code, want, body)
				}
				if code == 200 && !strings.Contains(body, series) {
					t.Errorf("GET /metrics: no %s in\n%.300s", series, body)
				}
				if code != 200 && strings.Contains(body, series) {
					t.Errorf("GET /metrics refused with %d, but the body has metrics", code)
				}
			}
		})
	}
	a, err := app.Open(t.Context(), app.Config{DataDir: t.TempDir(), WebhookPoll: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if code, body := scrape(a.MetricsHandler(), ""); code != 200 || !strings.Contains(body, "clouddrive_open_uploads") {
		t.Errorf("MetricsHandler: %d\n%.300s", code, body)
	}
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/drive/v1/account/endpoint", nil)
	rec := httptest.NewRecorder()
	a.MetricsHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("MetricsHandler serves %s: %d, want 404", req.URL.Path, rec.Code)
	}
}
