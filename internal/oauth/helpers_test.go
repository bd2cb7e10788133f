package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/oauth"
)

// fakeClock is the server's injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a real server (package app on a temp dir) behind httptest.
type env struct {
	t     *testing.T
	URL   string
	App   *app.App
	Clock *fakeClock
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// newEnv boots a server. With tune, the OAuth server is rebuilt with the
// tuned config and mounted the way app.Handler mounts it.
func newEnv(t *testing.T, tune func(c *oauth.Config)) *env {
	t.Helper()
	clock := &fakeClock{t: time.Date(2025, time.March, 4, 5, 6, 7, 0, time.UTC)}
	level := slog.LevelWarn
	if os.Getenv("CLOUDDRIVE_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: level}))
	a, err := app.Open(t.Context(), app.Config{DataDir: t.TempDir(), Now: clock.Now, Logger: log})
	if err != nil {
		t.Fatalf("app.Open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	h := a.Handler()
	if tune != nil {
		cfg := oauth.Config{Meta: a.Meta, Tokens: a.Tokens, Now: clock.Now, Logger: log}
		tune(&cfg)
		oa, err := oauth.New(t.Context(), cfg)
		if err != nil {
			t.Fatalf("oauth.New: %v", err)
		}
		h = oa.Wrap(a.API.Handler())
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, URL: srv.URL, App: a, Clock: clock}
}

// cheapArgon keeps password hashing fast in tests; verification reads the
// parameters from the stored hash.
func cheapArgon() auth.Argon2Params {
	return auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// addUser creates a user with a password.
func (e *env) addUser(name, password string) *drive.User {
	e.t.Helper()
	ctx := e.t.Context()
	u, err := e.App.Nodes.EnsureUser(ctx, name)
	if err != nil {
		e.t.Fatalf("EnsureUser(%s): %v", name, err)
	}
	h, err := auth.HashPasswordWith(password, cheapArgon())
	if err != nil {
		e.t.Fatalf("HashPasswordWith: %v", err)
	}
	if err := e.App.Meta.Update(ctx, func(tx meta.Tx) error { return tx.SetUserPassword(ctx, u.ID, h) }); err != nil {
		e.t.Fatalf("SetUserPassword: %v", err)
	}
	return u
}

// setDisabled disables or enables a user.
func (e *env) setDisabled(name string, disabled bool) {
	e.t.Helper()
	ctx := e.t.Context()
	err := e.App.Meta.Update(ctx, func(tx meta.Tx) error {
		u, err := tx.UserByName(ctx, name)
		if err != nil {
			return err
		}
		u.Disabled = disabled
		return tx.UpdateUser(ctx, u)
	})
	if err != nil {
		e.t.Fatalf("disable %s: %v", name, err)
	}
}

// addApp registers an app and returns its client id and secret.
func (e *env) addApp(name string, public bool, uris ...string) (string, string) {
	e.t.Helper()
	apps := &oauth.Apps{Meta: e.App.Meta, Now: e.Clock.Now}
	a, secret, err := apps.Create(e.t.Context(), name, uris, public)
	if err != nil {
		e.t.Fatalf("Apps.Create(%s): %v", name, err)
	}
	return a.ClientID, secret
}

// endpoint is the server's OAuth endpoint for x/oauth2.
func (e *env) endpoint(style oauth2.AuthStyle) oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: e.URL + "/ap/oa", TokenURL: e.URL + "/auth/o2/token",
		DeviceAuthURL: e.URL + "/auth/o2/device", AuthStyle: style}
}

// callback is a client's redirect target: it answers every request with
// the query it received, so the browser sees code, state or error.
func callback(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, r.URL.RawQuery)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// browser is a user agent with a cookie jar that does not follow
// redirects by itself, so tests see each one.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is a fetched response with its body.
type page struct {
	URL    string
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return &page{URL: req.URL.String(), Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func (b *browser) get(u string) *page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// follow GETs the Location of a redirect, resolved against the page.
func (b *browser) follow(p *page) *page {
	b.t.Helper()
	if p.Status < 300 || p.Status > 399 {
		b.t.Fatalf("%s: status %d, want a redirect; body:\n%s", p.URL, p.Status, p.Body)
	}
	return b.get(resolve(b.t, p.URL, p.Header.Get("Location")))
}

func resolve(t *testing.T, base, ref string) string {
	t.Helper()
	bu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ru, err := url.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return bu.ResolveReference(ru).String()
}

var (
	formRE   = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)">(.*?)</form>`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// submit fills the page's POST form like a browser: its hidden fields,
// then fields (the user's input and the pressed button's name=value), and
// posts it to the form's action.
func (b *browser) submit(p *page, fields url.Values) *page {
	b.t.Helper()
	m := formRE.FindStringSubmatch(p.Body)
	if m == nil {
		b.t.Fatalf("%s: no POST form in page (status %d):\n%s", p.URL, p.Status, p.Body)
	}
	form := url.Values{}
	for _, h := range hiddenRE.FindAllStringSubmatch(m[2], -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	for k, vs := range fields {
		form[k] = vs
	}
	return b.post(resolve(b.t, p.URL, html.UnescapeString(m[1])), form)
}

// wantStatus fails unless p has the status.
func wantStatus(t *testing.T, p *page, status int) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("%s: status %d, want %d; body:\n%s", p.URL, p.Status, status, p.Body)
	}
}

// signIn submits the login form on p and follows the redirect back to
// the page that asked for it.
func (b *browser) signIn(p *page, user, password string) *page {
	b.t.Helper()
	if !strings.Contains(p.Body, `<label for="password">`) {
		b.t.Fatalf("%s: not a login page (status %d):\n%s", p.URL, p.Status, p.Body)
	}
	res := b.submit(p, url.Values{"username": {user}, "password": {password}})
	wantStatus(b.t, res, http.StatusSeeOther)
	return b.follow(res)
}

// authorize drives the browser through the authorization endpoint: sign
// in unless already signed in, approve on the consent page, follow the
// redirect to the client's callback and return what it received.
func (b *browser) authorize(authURL, user, password string) url.Values {
	b.t.Helper()
	p := b.get(authURL)
	wantStatus(b.t, p, http.StatusOK)
	if strings.Contains(p.Body, `<label for="password">`) {
		p = b.signIn(p, user, password)
	}
	wantStatus(b.t, p, http.StatusOK)
	if !strings.Contains(p.Body, `value="approve"`) {
		b.t.Fatalf("%s: not a consent page:\n%s", p.URL, p.Body)
	}
	res := b.submit(p, url.Values{"op": {"approve"}})
	wantStatus(b.t, res, http.StatusSeeOther)
	cb := b.follow(res)
	wantStatus(b.t, cb, http.StatusOK)
	q, err := url.ParseQuery(cb.Body)
	if err != nil {
		b.t.Fatalf("callback query %q: %v", cb.Body, err)
	}
	return q
}

// apiStatus GETs an API path with client and returns the status.
func apiStatus(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// bearer returns a client that sends a fixed access token.
func bearer(ctx context.Context, access string) *http.Client {
	return oauth2.NewClient(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access, TokenType: "bearer"}))
}

// wantRetrieveError fails unless err is an x/oauth2 RetrieveError with
// the RFC 6749 error code.
func wantRetrieveError(t *testing.T, call string, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Errorf("%s error = %v (%T), want an oauth2.RetrieveError %s", call, err, err, code)
		return
	}
	if re.ErrorCode != code {
		t.Errorf("%s error code = %q (status %d), want %q", call, re.ErrorCode, re.Response.StatusCode, code)
	}
}

// postForm posts a form to the server and decodes the JSON reply.
func postForm(t *testing.T, u string, form url.Values, basic ...string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("POST %s: body %q is not JSON: %v", u, body, err)
		}
	}
	return resp.StatusCode, resp.Header, m
}
