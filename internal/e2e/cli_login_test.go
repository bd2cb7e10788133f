package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/cli"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// webUser is a person at a browser: a cookie jar and a form filler.
type webUser struct {
	t    *testing.T
	c    *http.Client
	name string
	pass string
}

func newWebUser(t *testing.T, name, pass string) *webUser {
	jar, _ := cookiejar.New(nil)
	return &webUser{t: t, name: name, pass: pass, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type webPage struct {
	url      string
	status   int
	location string
	body     string
}

func (w *webUser) fetch(method, u string, form url.Values) webPage {
	w.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Errorf("%s %s: %v", method, u, err)
		return webPage{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	loc := ""
	if l := resp.Header.Get("Location"); l != "" {
		base, _ := url.Parse(u)
		ref, _ := url.Parse(l)
		loc = base.ResolveReference(ref).String()
	}
	return webPage{url: u, status: resp.StatusCode, location: loc, body: string(b)}
}

var (
	postFormRE = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)">(.*?)</form>`)
	hiddenRE2  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// submit posts the page's form with its hidden fields plus fields.
func (w *webUser) submit(p webPage, fields url.Values) webPage {
	w.t.Helper()
	m := postFormRE.FindStringSubmatch(p.body)
	if m == nil {
		w.t.Errorf("%s: no form in page %d:\n%s", p.url, p.status, p.body)
		return webPage{}
	}
	form := url.Values{}
	for _, h := range hiddenRE2.FindAllStringSubmatch(m[2], -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	for k, v := range fields {
		form[k] = v
	}
	base, _ := url.Parse(p.url)
	action, _ := url.Parse(html.UnescapeString(m[1]))
	return w.fetch("POST", base.ResolveReference(action).String(), form)
}

// approve opens u, signs in if asked, approves, and follows redirects.
func (w *webUser) approve(u string) {
	w.t.Helper()
	p := w.fetch("GET", u, nil)
	for i := 0; i < 6 && !w.t.Failed(); i++ {
		switch {
		case p.status >= 300 && p.status < 400:
			p = w.fetch("GET", p.location, nil)
		case strings.Contains(p.body, `name="password"`):
			p = w.submit(p, url.Values{"username": {w.name}, "password": {w.pass}})
		case strings.Contains(p.body, `value="approve"`):
			p = w.submit(p, url.Values{"op": {"approve"}})
		default:
			return
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func addPasswordUser(t *testing.T, s *drivetest.Server, name, pass string) {
	t.Helper()
	ctx := context.Background()
	u, err := s.App.Nodes.EnsureUser(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := auth.HashPassword(pass)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.App.Meta.Update(ctx, func(tx meta.Tx) error { return tx.SetUserPassword(ctx, u.ID, h) }); err != nil {
		t.Fatal(err)
	}
}

// TestCLILoginOAuth: `clouddrive login --browser` (PKCE, loopback
// redirect) and `--device` against the server's own OAuth endpoints; the
// stored token works, and logout revokes it.
func TestCLILoginOAuth(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	addPasswordUser(t, s, "dora", "correct horse battery")

	for _, flow := range []string{"--browser", "--device"} {
		t.Run(strings.TrimPrefix(flow, "--"), func(t *testing.T) {
			dir := t.TempDir()
			vars := map[string]string{cli.EnvConfigDir: filepath.Join(dir, "config"), cli.EnvCacheDir: filepath.Join(dir, "cache")}
			person := newWebUser(t, "dora", "correct horse battery")
			stderr := &lockedBuffer{}
			env := func() *cli.Env {
				return &cli.Env{Stdout: io.Discard, Stderr: stderr, Getenv: func(k string) string { return vars[k] },
					OpenURL: func(u string) error { person.approve(u); return nil }}
			}
			done := make(chan int, 1)
			go func() { done <- cli.Main(context.Background(), env(), []string{"login", "--server", s.URL, flow}) }()
			if flow == "--device" {
				// The person reads the code from the terminal and enters it.
				codeRE := regexp.MustCompile(`enter the code\s+([A-Z0-9]{4}-[A-Z0-9]{4})`)
				deadline := time.Now().Add(10 * time.Second)
				for !codeRE.MatchString(stderr.String()) && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				m := codeRE.FindStringSubmatch(stderr.String())
				if m == nil {
					t.Fatalf("no device code printed:\n%s", stderr.String())
				}
				person.approve(s.URL + "/device?user_code=" + url.QueryEscape(m[1]))
			}
			select {
			case code := <-done:
				if code != 0 {
					t.Fatalf("login %s exit %d:\n%s", flow, code, stderr.String())
				}
			case <-time.After(60 * time.Second):
				t.Fatalf("login %s did not finish:\n%s", flow, stderr.String())
			}
			var out bytes.Buffer
			e := env()
			e.Stdout = &out
			if code := cli.Main(context.Background(), e, []string{"mkdir", "/made-by-" + strings.TrimPrefix(flow, "--")}); code != 0 {
				t.Fatalf("mkdir after login exit %d:\n%s", code, stderr.String())
			}
			// The node's createdBy is the CLI app: the token came from OAuth.
			a := api{t, s.URL, s.Token("dora")}
			_, raw := a.do("GET", "/drive/v1/nodes?filters=name:made-by-"+strings.TrimPrefix(flow, "--"), nil, nil)
			if !strings.Contains(string(raw), `"createdBy":"clouddrive-cli"`) {
				t.Errorf("node made after %s login: %s", flow, raw)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "config", "*credentials.json"))
			files2, _ := filepath.Glob(filepath.Join(dir, "config", "*", "credentials.json"))
			files = append(files, files2...)
			if len(files) != 1 {
				t.Fatalf("credentials file not found: %v", files)
			}
			raw, _ = os.ReadFile(files[0])
			var creds struct {
				Token struct {
					RefreshToken string `json:"refresh_token"`
				} `json:"token"`
			}
			if json.Unmarshal(raw, &creds) != nil || creds.Token.RefreshToken == "" {
				t.Fatalf("stored credentials have no refresh token: %s", raw)
			}
			if code := cli.Main(context.Background(), env(), []string{"logout"}); code != 0 {
				t.Fatalf("logout exit %d:\n%s", code, stderr.String())
			}
			resp, err := http.PostForm(s.URL+"/auth/o2/token", url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {creds.Token.RefreshToken}, "client_id": {"clouddrive-cli"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Errorf("the refresh token still works after logout")
			}
		})
	}
}
