package webui_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/oauth"
)

var noRedirect = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type reply struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, method, u string, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// TestAssets: the UI routes serve the embedded files with the right
// content types and security headers.
func TestAssets(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	for _, tt := range []struct {
		path, ctype, contains string
		page                  bool
	}{
		{"/ui/", "text/html; charset=utf-8", `src="assets/app.js"`, true},
		{"/ui/callback", "text/html; charset=utf-8", `src="assets/callback.js"`, true},
		{"/ui/assets/app.js", "text/javascript; charset=utf-8", "import", false},
		{"/ui/assets/filelist.js", "text/javascript; charset=utf-8", "export class FileList", false},
		{"/ui/assets/app.css", "text/css; charset=utf-8", ":root", false},
		{"/ui/assets/icon.svg", "image/svg+xml", "<svg", false},
		{"/ui/assets/tus.js", "text/javascript; charset=utf-8", "export function upload", false},
		{"/ui/assets/vendor/tus-js-client/tus.min.js", "text/javascript; charset=utf-8", ".tus=", false},
		{"/ui/assets/vendor/tus-js-client/LICENSE.txt", "text/plain; charset=utf-8", "The MIT License", false},
	} {
		t.Run(tt.path, func(t *testing.T) {
			r := get(t, "GET", s.URL+tt.path, nil)
			if r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			if ct := r.header.Get("Content-Type"); ct != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", ct, tt.ctype)
			}
			csp := r.header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'",
				"worker-src 'none'", "frame-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
				t.Errorf("CSP %q allows more than this origin", csp)
			}
			if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("headers %v", r.header)
			}
			if !strings.Contains(r.body, tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
			// Scripts run by nonce, never by origin: this origin also
			// serves users' bytes.
			script := scriptSrc(csp)
			if tt.page {
				m := regexp.MustCompile(`^'nonce-([A-Za-z0-9_-]{22})'$`).FindStringSubmatch(script)
				if m == nil {
					t.Fatalf("page script-src %q, want only a nonce", script)
				}
				if !strings.Contains(r.body, `<script type="module" nonce="`+m[1]+`"`) {
					t.Errorf("the page's module does not carry the nonce of its policy %q:\n%s", csp, r.body)
				}
				if again := scriptSrc(get(t, "GET", s.URL+tt.path, nil).header.Get("Content-Security-Policy")); again == script {
					t.Errorf("two responses share the nonce %s", script)
				}
				if r.header.Get("ETag") != "" || r.header.Get("Cache-Control") != "no-store" {
					t.Errorf("a page with a nonce may be cached: ETag %q, Cache-Control %q", r.header.Get("ETag"), r.header.Get("Cache-Control"))
				}
				return
			}
			if script != "'none'" {
				t.Errorf("asset script-src %q, want 'none'", script)
			}
			if etag := r.header.Get("ETag"); etag == "" {
				t.Error("no ETag")
			} else if r2 := get(t, "GET", s.URL+tt.path, map[string]string{"If-None-Match": etag}); r2.status != 304 {
				t.Errorf("revalidation: status %d, want 304", r2.status)
			}
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, p := range []string{"/ui/assets/nope.js", "/ui/assets/", "/ui/anything"} {
			if r := get(t, "GET", s.URL+p, nil); r.status != 404 {
				t.Errorf("GET %s: status %d, want 404", p, r.status)
			}
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		if r := get(t, "POST", s.URL+"/ui/", nil); r.status != 405 {
			t.Errorf("POST /ui/: status %d, want 405", r.status)
		}
	})
	t.Run("Redirects", func(t *testing.T) {
		if r := get(t, "GET", s.URL+"/ui", nil); r.status != 301 || r.header.Get("Location") != "ui/" {
			t.Errorf("GET /ui: %d %q", r.status, r.header.Get("Location"))
		}
		html := map[string]string{"Accept": "text/html,application/xhtml+xml"}
		if r := get(t, "GET", s.URL+"/", html); r.status != 302 || r.header.Get("Location") != "ui/" {
			t.Errorf("browser GET /: %d %q", r.status, r.header.Get("Location"))
		}
		// API clients keep the API's 404 on / and on anything else.
		if r := get(t, "GET", s.URL+"/", nil); r.status != 404 || !strings.Contains(r.body, "unknown operation") {
			t.Errorf("API GET /: %d %s", r.status, r.body)
		}
		if r := get(t, "POST", s.URL+"/", html); r.status != 404 {
			t.Errorf("POST /: %d", r.status)
		}
		if r := get(t, "GET", s.URL+"/index.html", html); r.status != 404 {
			t.Errorf("GET /index.html: %d", r.status)
		}
	})
}

// scriptSrc returns the sources of the script-src directive of a policy.
func scriptSrc(csp string) string {
	for _, d := range strings.Split(csp, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "script-src "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestPickerOrigin: the picker runs only for an origin of a redirect URI
// registered for the app named by client_id, and may be framed only by it.
func TestPickerOrigin(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	apps := &oauth.Apps{Meta: s.App.Meta, Now: time.Now}
	app, _, err := apps.Create(context.Background(), "photos", []string{"https://photos.example.com/oauth/cb", "http://127.0.0.1:8123/cb"}, true)
	if err != nil {
		t.Fatal(err)
	}
	picker := func(clientID, origin string) reply {
		return get(t, "GET", s.URL+"/picker?"+url.Values{"client_id": {clientID}, "origin": {origin}, "multiple": {"1"}}.Encode(), nil)
	}
	for _, tt := range []struct {
		name, clientID, origin, want string
	}{
		{"Registered", app.ClientID, "https://photos.example.com", "https://photos.example.com"},
		{"TrailingSlash", app.ClientID, "https://photos.example.com/", "https://photos.example.com"},
		{"UpperCaseHost", app.ClientID, "https://PHOTOS.example.com", "https://photos.example.com"},
		{"DefaultPort", app.ClientID, "https://photos.example.com:443", "https://photos.example.com"},
		{"Loopback", app.ClientID, "http://127.0.0.1:8123", "http://127.0.0.1:8123"},
		{"FirstParty", oauth.WebClientID, s.URL, s.URL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := picker(tt.clientID, tt.origin)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if !strings.Contains(r.body, `data-origin="`+tt.want+`"`) {
				t.Errorf("page does not carry origin %s:\n%s", tt.want, r.body)
			}
			csp := r.header.Get("Content-Security-Policy")
			if !strings.HasSuffix(csp, "frame-ancestors "+tt.want) || !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("CSP %q", csp)
			}
			if script := scriptSrc(csp); !strings.HasPrefix(script, "'nonce-") || !strings.Contains(r.body, `nonce="`+strings.Trim(strings.TrimPrefix(script, "'nonce-"), "'")+`"`) {
				t.Errorf("picker script-src %q does not match its module's nonce", script)
			}
			if xfo := r.header.Get("X-Frame-Options"); xfo != "" {
				t.Errorf("X-Frame-Options %q would stop the registered origin from framing the picker", xfo)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
	for _, tt := range []struct {
		name, clientID, origin string
	}{
		{"ErrNoClient", "", "https://photos.example.com"},
		{"ErrUnknownClient", "app-nope", "https://photos.example.com"},
		{"ErrOtherOrigin", app.ClientID, "https://evil.example.com"},
		{"ErrOtherScheme", app.ClientID, "http://photos.example.com"},
		{"ErrOtherPort", app.ClientID, "http://127.0.0.1:9999"},
		{"ErrPath", app.ClientID, "https://photos.example.com/oauth/cb"},
		{"ErrQuery", app.ClientID, "https://photos.example.com?x=1"},
		{"ErrUserInfo", app.ClientID, "https://u@photos.example.com"},
		{"ErrNoOrigin", app.ClientID, ""},
		{"ErrJavascript", app.ClientID, "javascript:alert(1)"},
		{"ErrWildcard", app.ClientID, "*"},
		{"ErrServerOriginForThirdParty", app.ClientID, s.URL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := picker(tt.clientID, tt.origin)
			if r.status != 400 {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			if strings.Contains(r.body, "<script") || r.header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("refusal is a page that runs or can be framed: %v\n%s", r.header, r.body)
			}
		})
	}
}

// TestModulesResolve: every relative import in the embedded scripts and
// every asset an HTML page names exists, so a typo cannot ship a blank
// page (there is no build step to catch it).
func TestModulesResolve(t *testing.T) {
	dir := filepath.Join("static")
	importRE := regexp.MustCompile(`(?m)^\s*import\s+(?:[^'"]*?\s+from\s+)?['"](\./[^'"]+)['"]`)
	refRE := regexp.MustCompile(`(?:src|href)="((?:ui/)?assets/[^"]+)"`)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var refs []string
		switch filepath.Ext(p) {
		case ".js":
			for _, m := range importRE.FindAllStringSubmatch(string(b), -1) {
				refs = append(refs, filepath.Join(filepath.Dir(p), m[1]))
			}
		case ".html":
			for _, m := range refRE.FindAllStringSubmatch(string(b), -1) {
				refs = append(refs, filepath.Join(dir, strings.TrimPrefix(m[1], "ui/")))
			}
		}
		for _, r := range refs {
			if _, err := os.Stat(r); err != nil {
				t.Errorf("%s refers to %s, which does not exist", p, r)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestVendored: the vendored tus-js-client is the file its note names, by
// sha256 (a changed or truncated copy fails here, not in a browser).
func TestVendored(t *testing.T) {
	dir := filepath.Join("static", "assets", "vendor", "tus-js-client")
	note, err := os.ReadFile(filepath.Join(dir, "VENDORED.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*sha256\s+([0-9a-f]{64})\s+(\S+)$`).FindAllStringSubmatch(string(note), -1)
	if len(m) == 0 {
		t.Fatalf("VENDORED.txt names no file with its sha256:\n%s", note)
	}
	for _, f := range m {
		b, err := os.ReadFile(filepath.Join(dir, f[2]))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f[1] {
			t.Errorf("%s has sha256 %x, VENDORED.txt says %s", f[2], sum, f[1])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "LICENSE.txt")); err != nil {
		t.Error(err)
	}
}
