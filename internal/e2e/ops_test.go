package e2e_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drivetest"
)

func getText(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+]+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("metric %s not found", series)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestMetricsAndHealth: after a scripted mix of requests, /metrics shows
// the matching counters; /readyz follows the blob store's availability.
func TestMetricsAndHealth(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	a := api{t, s.URL, s.Token("ops")}
	f := newFixture(t, a) // 1 mkdir, 3 uploads, 1 trash, 1 property
	for i := 0; i < 3; i++ {
		a.do("GET", "/drive/v1/nodes/"+f.file, nil, nil)
	}
	a.do("GET", "/cdproxy/nodes/"+f.file+"/content", nil, nil)
	a.do("GET", "/drive/v1/nodes/AAAAAAAAAAAAAAAAAAAAAA", nil, nil)

	// The metrics are not on the API port (they have a listener of their
	// own, serve --metrics-addr): read them from the handler it serves.
	if code, _ := getText(t, s.URL+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the API port = %d, want 404", code)
	}
	rec := httptest.NewRecorder()
	s.App.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	code, body := rec.Code, rec.Body.String()
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for series, want := range map[string]float64{
		`clouddrive_http_requests_total{code="200",method="GET",route="GET /drive/v1/nodes/{id}"}`: 3,
		`clouddrive_http_requests_total{code="404",method="GET",route="GET /drive/v1/nodes/{id}"}`: 1,
		`clouddrive_http_requests_total{code="201",method="POST",route="POST /cdproxy/nodes"}`:     3,
		`clouddrive_http_requests_total{code="201",method="POST",route="POST /drive/v1/nodes"}`:    1,
		`clouddrive_upload_bytes_total`:   float64(len("top secret") + len("other") + len("old")),
		`clouddrive_download_bytes_total`: float64(len("top secret")),
		`clouddrive_open_uploads`:         0,
	} {
		if got := metricValue(t, body, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if !strings.Contains(body, `clouddrive_http_request_duration_seconds_bucket{route="GET /drive/v1/nodes/{id}",le="0.005"}`) {
		t.Error("no latency histogram for the node route")
	}
	for _, series := range []string{
		`clouddrive_store_operation_duration_seconds_count{op="update",result="ok",store="metadata"}`,
		`clouddrive_store_operation_duration_seconds_count{op="view",result="ok",store="metadata"}`,
		`clouddrive_store_operation_duration_seconds_count{op="put",result="ok",store="blobs"}`,
		`clouddrive_store_operation_duration_seconds_count{op="open",result="ok",store="blobs"}`,
	} {
		if got := metricValue(t, body, series); got < 1 {
			t.Errorf("%s = %v, want at least 1", series, got)
		}
	}

	if code, _ := getText(t, s.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := getText(t, s.URL+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, body)
	}
	// A blob-store outage, simulated by moving a local blob directory
	// away (on S3, CLOUDDRIVE_TEST_STORES=postgres+s3, there is none to
	// move).
	if blobs := s.BlobDir(); blobs != "" {
		if err := os.Rename(blobs, blobs+".away"); err != nil {
			t.Fatal(err)
		}
		code, body = getText(t, s.URL+"/readyz")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"metadata":"ok"`) {
			t.Errorf("/readyz without the blob dir = %d %s, want 503", code, body)
		}
		if err := os.Rename(blobs+".away", blobs); err != nil {
			t.Fatal(err)
		}
		if code, body := getText(t, s.URL+"/readyz"); code != http.StatusOK {
			t.Errorf("/readyz after recovery = %d %s", code, body)
		}
	}
	// A metadata-store outage on SQLite: the database file moved away
	// under the running server (open connections would keep writing to a
	// file nobody will find again).
	if db := filepath.Join(s.DataDir, "meta.db"); fileExists(db) {
		if err := os.Rename(db, db+".away"); err != nil {
			t.Fatal(err)
		}
		code, body = getText(t, s.URL+"/readyz")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"metadata":"unavailable"`) || !strings.Contains(body, `"blobs":"ok"`) {
			t.Errorf("/readyz without the database file = %d %s, want 503", code, body)
		}
		if strings.Contains(body, s.DataDir) {
			t.Errorf("/readyz body leaks a path: %s", body)
		}
		if err := os.Rename(db+".away", db); err != nil {
			t.Fatal(err)
		}
		if code, body := getText(t, s.URL+"/readyz"); code != http.StatusOK {
			t.Errorf("/readyz after the database file is back = %d %s", code, body)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
