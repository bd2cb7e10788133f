package e2e_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBinaryMetricsListener: the real binary serves /metrics on
// --metrics-addr only; the API port answers 404, or with
// --metrics-token-file, 200 to the token's bearer and 401 to others.
func TestBinaryMetricsListener(t *testing.T) {
	bin, data, _ := binaryTest(t, "ops")
	get := func(url, authz string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const series = "clouddrive_http_requests_total"

	p := startServe(t, bin, "--data", data, "--metrics-addr", "127.0.0.1:0")
	m := regexp.MustCompile(`metrics serving.*listen=(127\.0\.0\.1:\d+)`).FindStringSubmatch(p.waitLog(t, `metrics serving.*listen=127\.0\.0\.1:\d+`))
	if code, _ := get("http://"+p.addr+"/healthz", ""); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	if code, body := get("http://"+p.addr+"/metrics", ""); code != http.StatusNotFound || strings.Contains(body, series) {
		t.Errorf("/metrics on the API port: %d, want 404\n%.200s", code, body)
	}
	if code, body := get("http://"+m[1]+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, `route="GET /healthz"`) {
		t.Errorf("/metrics on --metrics-addr: %d, want 200 with the API's counters\n%.300s", code, body)
	}
	if code, _ := get("http://"+m[1]+"/drive/v1/account/endpoint", ""); code != http.StatusNotFound {
		t.Errorf("the metrics listener serves the API: %d, want 404", code)
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()

	tokFile := filepath.Join(t.TempDir(), "metrics.token")
	if err := os.WriteFile(tokFile, []byte("s3cr3t-metrics-token-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p = startServe(t, bin, "--data", data, "--metrics-token-file", tokFile)
	if code, _ := get("http://"+p.addr+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}
	if code, body := get("http://"+p.addr+"/metrics", "Bearer s3cr3t-metrics-token-0123"); code != http.StatusOK || !strings.Contains(body, series) {
		t.Errorf("/metrics with the token: %d, want 200\n%.200s", code, body)
	}
}
