package app_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
)

// hostApp opens a server with cfg and returns its handler and a token.
func hostApp(t *testing.T, cfg app.Config) (http.Handler, string) {
	t.Helper()
	cfg.DataDir, cfg.Logger, cfg.WebhookPoll = t.TempDir(), slog.New(slog.DiscardHandler), -1
	a, err := app.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("app.Open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	tok, err := app.AdminToken(t.Context(), cfg, a.Meta, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return a.Handler(), tok
}

func hostGet(t *testing.T, h http.Handler, host, path, tok string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://placeholder"+path, nil)
	req.Host = host
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestHostCheck: without a public URL the Host header decides the URLs
// the server hands out (metadataUrl, links, OAuth redirect URIs, the UI's
// frame-ancestors), so only loopback names are served; other names get
// 400 in the API's error format, naming --public-url. With a public URL,
// or AllowAnyHost, every name is served.
func TestHostCheck(t *testing.T) {
	paths := []string{"/drive/v1/account/endpoint", "/ap/oa?client_id=clouddrive-web", "/ui/", "/s/x", "/cdproxy/templink/x"}
	t.Run("NoPublicURL", func(t *testing.T) {
		h, tok := hostApp(t, app.Config{})
		for _, host := range []string{"evil.example", "evil.example:8080", "10.0.0.7:8080", "0.0.0.0:8080", "localhost.evil.example", ""} {
			for _, p := range paths {
				rec := hostGet(t, h, host, p, tok)
				var body struct{ Message, Logref string }
				if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &body) != nil ||
					!strings.Contains(body.Message, "--public-url") || body.Logref == "" {
					t.Errorf("Host %q, GET %s: %d %s, want 400 with a JSON message naming --public-url and a logref", host, p, rec.Code, rec.Body)
				}
				if strings.Contains(rec.Body.String(), "evil") {
					t.Errorf("Host %q: the error echoes the Host: %s", host, rec.Body)
				}
			}
			// Health checks produce no URLs: any Host.
			if rec := hostGet(t, h, host, "/healthz", ""); rec.Code != http.StatusOK {
				t.Errorf("Host %q, GET /healthz: %d, want 200", host, rec.Code)
			}
		}
		for _, host := range []string{"localhost:8080", "127.0.0.1:8080", "127.3.4.5", "[::1]:8080", "localhost"} {
			rec := hostGet(t, h, host, "/drive/v1/account/endpoint", tok)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"http://`+host+`/drive/v1/"`) {
				t.Errorf("Host %q: %d %s, want 200 with metadataUrl on that host", host, rec.Code, rec.Body)
			}
		}
	})
	t.Run("PublicURL", func(t *testing.T) {
		h, tok := hostApp(t, app.Config{PublicURL: "https://drive.example.com"})
		rec := hostGet(t, h, "proxy-internal:8080", "/drive/v1/account/endpoint", tok)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"https://drive.example.com/drive/v1/"`) {
			t.Errorf("with a public URL: %d %s, want 200 and the public URL", rec.Code, rec.Body)
		}
	})
	t.Run("AllowAnyHost", func(t *testing.T) {
		h, tok := hostApp(t, app.Config{AllowAnyHost: true})
		rec := hostGet(t, h, "drive.lan:8080", "/drive/v1/account/endpoint", tok)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"http://drive.lan:8080/drive/v1/"`) {
			t.Errorf("AllowAnyHost: %d %s, want 200 with metadataUrl from the Host", rec.Code, rec.Body)
		}
	})
}
