package webui_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// bigSize is the size of the test's file: above the UI's tus threshold
// (64 MiB, tus.js), so the UI uploads it resumably.
const bigSize = 64<<20 + 1<<20

// TestBrowserResumableUpload drives the UI's tus upload (the vendored
// tus-js-client, the project's real tus client) in headless Chromium
// against a real server, on one origin and with a separate content origin
// (serve --content-url: CORS on the content host). First a small file goes in one multipart
// request, with its modification time. Then:
//   - a file above the threshold is uploaded; the server is stopped in
//     the middle of it (the connection cut after half the file) and a new
//     one started on the same address and data directory: the upload
//     goes on where it stopped and the node has the file's size and MD5,
//     and the servers read fewer than twice the file's bytes;
//   - another upload is paused (Pause) and resumed, then the page is
//     reloaded in the middle of it; choosing the same file again resumes
//     it (its upload URL was kept in localStorage), with a hint on the
//     page before;
//   - the same file again: the name conflict asks (409 at creation), and
//     keeping both runs out of quota (403 at creation), said in the list
//     as a multipart upload's error is.
func TestBrowserResumableUpload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bin")
	data := make([]byte, bigSize)
	rnd := rand.NewChaCha8([32]byte{17})
	_, _ = rnd.Read(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2026, 12, 1, 10, 30, 0, 123e6, time.UTC)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	big := bigFile{path: path, size: bigSize, md5: hex.EncodeToString(sum[:]), mtime: mtime}

	t.Run("SameOrigin", func(t *testing.T) { resumableUpload(t, big, false) })
	t.Run("ContentOrigin", func(t *testing.T) { resumableUpload(t, big, true) })
}

type bigFile struct {
	path, md5 string
	size      int64
	mtime     time.Time
}

func resumableUpload(t *testing.T, big bigFile, contentOrigin bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	// Two of the files fit, a third does not.
	s := startTusServer(t, contentOrigin, 2*big.size+big.size/2)
	const user, pass = "tess", "resumable"
	addPasswordUser(t, &drivetest.Server{URL: s.URL, App: s.App}, user, pass)

	b := newBrowser(t, ctx)
	tab := b.ctx
	b.signIn(s.URL, user, pass)
	openFolder := func(name string) { // a folder in the root
		b.do(tab, "open "+name,
			click(chromedp.ID("nav-files")),
			listed(),
			chromedp.WaitVisible(chromedp.CSS(row(name))),
			click(chromedp.CSS(row(name)+" .name")),
			poll(`(document.querySelector('#crumbs [aria-current="page"]') || {}).textContent === `+jsString(name)),
		)
	}
	item := `#uploads-list li[data-name="big.bin"]`
	done := func(what string) {
		b.do(tab, what,
			poll(`document.body.dataset.uploading === '0'`),
			chromedp.WaitVisible(chromedp.CSS(row("big.bin"))),
		)
		if st := eval[string](b, tab, `document.querySelector('`+item+` .state').textContent`); st != "Done" {
			t.Errorf("%s: the upload says %q, want Done", what, st)
		}
	}
	b.newFolder(tab, "Big")
	b.newFolder(tab, "Again")

	// 0. A small file still goes in one multipart request, with its
	// modification time too.
	note := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(note, []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(note, big.mtime, big.mtime); err != nil {
		t.Fatal(err)
	}
	b.do(tab, "upload note.txt",
		chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{note}),
		chromedp.WaitVisible(chromedp.CSS(row("note.txt"))),
		poll(`document.body.dataset.uploading === '0'`),
	)
	s.checkNode(t, user, "", "note.txt", bigFile{size: 5, md5: "eb5c1399a871211c7e7ed732d15e3a8b", mtime: big.mtime})
	if n := s.seen("POST"); n != 0 {
		t.Errorf("a 5-byte file went through tus (%d POST /cdproxy/uploads/)", n)
	}

	// 1. The server stops half-way through the upload; a new one starts on
	// the same address and data directory; tus-js-client resumes.
	openFolder("Big")
	before := s.meter.read()
	held := s.meter.holdAt(before + big.size/2)
	b.do(tab, "upload big.bin", chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{big.path}))
	s.wait(t, held.tripped, "half of big.bin")
	b.do(tab, "resumable", chromedp.WaitVisible(chromedp.CSS(item+" button.pause")))
	b.shot(tab, "20-tus-uploading")
	s.stop()
	s.start()
	done("resumed after a restart")
	b.shot(tab, "21-tus-done")
	got := s.meter.read() - before
	t.Logf("restart: the servers read %d bytes for a file of %d", got, big.size)
	if got >= 2*big.size {
		t.Errorf("the servers read %d bytes for a file of %d: the upload started again instead of resuming", got, big.size)
	}
	for _, m := range []string{"POST", "HEAD", "PATCH"} {
		if s.seen(m) == 0 {
			t.Errorf("no %s /cdproxy/uploads/ request: the UI did not upload with tus", m)
		}
	}
	s.mu.Lock()
	if want := strings.TrimPrefix(s.contentBase(), "http://"); len(s.hosts) != 1 || !s.hosts[want] {
		t.Errorf("the tus requests went to %v, want only %s", s.hosts, want)
	}
	s.mu.Unlock()
	s.checkNode(t, user, "Big", "big.bin", big)

	// 2. Pause and resume; then the page reloads in the middle; the same
	// file chosen again resumes.
	openFolder("Again")
	before = s.meter.read()
	held = s.meter.holdAt(before + big.size/3)
	b.do(tab, "upload big.bin again", chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{big.path}))
	s.wait(t, held.tripped, "a third of big.bin again")
	b.do(tab, "pause", click(chromedp.CSS(item+" button.pause")),
		poll(`document.querySelector('`+item+`').dataset.paused === '1'`))
	held.cut()
	s.idle(t)
	if st := eval[string](b, tab, `document.querySelector('`+item+` .state').textContent`); st != "Paused" {
		t.Errorf("paused upload says %q", st)
	}
	b.shot(tab, "22-tus-paused")
	held = s.meter.holdAt(s.meter.read() + big.size/3)
	b.do(tab, "resume", click(chromedp.CSS(item+" button.pause")))
	s.wait(t, held.tripped, "two thirds of big.bin again")
	b.do(tab, "reload", chromedp.Reload())
	held.cut()
	s.idle(t) // the cut PATCH has ended: the server has stored what it read
	b.do(tab, "after the reload",
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="1"]`)),
		poll(`(document.querySelector('#crumbs [aria-current="page"]') || {}).textContent === 'Again'`),
	)
	if hint := eval[string](b, tab, `document.getElementById('status').textContent`); !strings.Contains(hint, "big.bin") {
		t.Errorf("after the reload the page says %q, want a hint about the unfinished big.bin", hint)
	}
	b.shot(tab, "23-tus-after-reload")
	b.do(tab, "choose big.bin again", chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{big.path}))
	done("resumed after a reload")
	if hint := eval[string](b, tab, `document.getElementById('status').textContent`); strings.Contains(hint, "Unfinished") {
		t.Errorf("after the resumed upload finished the page still says %q", hint)
	}
	if r := eval[string](b, tab, `document.querySelector('`+item+`').dataset.resumed || ''`); r != "1" {
		t.Error("the upload after the reload did not resume the stored one")
	}
	got = s.meter.read() - before
	t.Logf("reload: the server read %d bytes for a file of %d", got, big.size)
	if got >= 2*big.size {
		t.Errorf("the server read %d bytes for a file of %d: the upload started again instead of resuming", got, big.size)
	}
	s.checkNode(t, user, "Again", "big.bin", big)
	if n := eval[int](b, tab, `Object.keys(localStorage).filter((k) => k.startsWith('tus::')).length`); n != 0 {
		t.Errorf("%d upload URLs left in localStorage after both uploads finished", n)
	}

	// 3. The same file again: the name exists (409 at creation), and a
	// second copy does not fit (403 at creation).
	b.do(tab, "upload conflict",
		click(chromedp.ID("uploads-close")),
		chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{big.path}),
		chromedp.WaitVisible(chromedp.ID("conflict-rename")),
	)
	b.do(tab, "keep both: over quota",
		click(chromedp.ID("conflict-rename")),
		chromedp.WaitVisible(chromedp.CSS(`#uploads-list .state.error`)),
	)
	if msg := eval[string](b, tab, `document.querySelector('#uploads-list .state.error').textContent`); !strings.Contains(msg, "Not enough storage space") {
		t.Errorf("a resumable upload over quota says %q", msg)
	}
	b.shot(tab, "24-tus-quota")
}

// tusServer is a real server (package app) on a fixed address that the
// test stops and starts again on the same data directory, behind a meter
// that counts, and can hold, the bytes it reads.
type tusServer struct {
	t        *testing.T
	cfg      app.Config
	addr     string
	URL      string // the public URL (the UI's)
	App      *app.App
	srv      *http.Server
	meter    *meter
	inflight sync.WaitGroup
	mu       sync.Mutex
	methods  map[string]int  // of requests to /cdproxy/uploads/...
	hosts    map[string]bool // their Host headers
}

func startTusServer(t *testing.T, contentOrigin bool, quota int64) *tusServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := &tusServer{t: t, addr: addr, URL: "http://" + addr, meter: &meter{}, methods: map[string]int{}, hosts: map[string]bool{},
		cfg: app.Config{DataDir: dir, Logger: log, DefaultQuota: quota, WebhookPoll: -1}}
	if contentOrigin {
		// The public URL on 127.0.0.1, the content URL on localhost:
		// two origins, one listener.
		port := ln.Addr().(*net.TCPAddr).Port
		s.cfg.PublicURL = fmt.Sprintf("http://127.0.0.1:%d", port)
		s.cfg.ContentURL = fmt.Sprintf("http://localhost:%d", port)
		s.URL = s.cfg.PublicURL
	}
	s.cfg.DB, s.cfg.Blobs = drivetest.Stores(t, dir, os.Getenv(drivetest.EnvStores))
	s.start()
	t.Cleanup(s.stop)
	return s
}

// start opens the app on the data directory and serves it on the address.
func (s *tusServer) start() {
	s.t.Helper()
	a, err := app.Open(context.Background(), s.cfg)
	if err != nil {
		s.t.Fatalf("app.Open: %v", err)
	}
	var ln net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ln, err = net.Listen("tcp", s.addr)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		a.Close()
		s.t.Fatalf("listen again on %s: %v", s.addr, err)
	}
	s.App = a
	s.srv = &http.Server{Handler: s.track(a.Handler()), ReadHeaderTimeout: 10 * time.Second}
	go func(srv *http.Server) {
		if err := srv.Serve(meteredListener{ln, s.meter}); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.t.Errorf("serve: %v", err)
		}
	}(s.srv)
}

// stop kills the server: the listener and every connection close at once
// (no graceful shutdown), then, when the handlers have returned, the app
// closes its stores.
func (s *tusServer) stop() {
	if s.srv == nil {
		return
	}
	_ = s.srv.Close()
	s.srv = nil
	s.idle(s.t)
	_ = s.App.Close()
}

// track counts the requests to the tus routes and the handlers running.
func (s *tusServer) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		if strings.HasPrefix(r.URL.Path, "/cdproxy/uploads") {
			s.mu.Lock()
			s.methods[r.Method]++
			s.hosts[r.Host] = true
			s.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// contentBase is the content origin: the content URL, or the public one.
func (s *tusServer) contentBase() string {
	if s.cfg.ContentURL != "" {
		return s.cfg.ContentURL
	}
	return s.URL
}

func (s *tusServer) seen(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.methods[method]
}

// idle waits until no handler runs.
func (s *tusServer) idle(t *testing.T) {
	t.Helper()
	ch := make(chan struct{})
	go func() { s.inflight.Wait(); close(ch) }()
	s.wait(t, ch, "the handlers to return")
}

func (s *tusServer) wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("waited 30 s for %s", what)
	}
}

// checkNode finds the one file called name in the folder named folder
// (the root: "") and checks its size, MD5 and modification time.
func (s *tusServer) checkNode(t *testing.T, user, folder, name string, want bigFile) {
	t.Helper()
	tok, err := app.AdminToken(context.Background(), s.cfg, s.App.Meta, user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a := apiClient{t: t, base: s.URL, token: tok}
	parent := "root"
	if folder != "" {
		parent = a.find(folder).ID
	} else {
		st, body := a.do("GET", "/drive/v1/nodes?filters=isRoot:true", "")
		var l struct{ Data []wireNode }
		if err := json.Unmarshal(body, &l); err != nil || st != 200 || len(l.Data) != 1 {
			t.Fatalf("root: %d %s", st, body)
		}
		parent = l.Data[0].ID
	}
	st, body := a.do("GET", "/drive/v1/nodes/"+parent+"/children?filters="+url.QueryEscape("name:"+name), "")
	var l struct {
		Data []struct {
			Name              string
			ContentProperties struct {
				Size  int64
				MD5   string
				Mtime string
			}
		}
	}
	if err := json.Unmarshal(body, &l); err != nil || st != 200 || len(l.Data) != 1 {
		t.Fatalf("%s in %q: %d %s", name, folder, st, body)
	}
	cp := l.Data[0].ContentProperties
	if cp.Size != want.size || cp.MD5 != want.md5 {
		t.Errorf("%s in %q: size %d, md5 %s; want %d, %s", name, folder, cp.Size, cp.MD5, want.size, want.md5)
	}
	if m, err := time.Parse(time.RFC3339Nano, cp.Mtime); err != nil || !m.Equal(want.mtime) {
		t.Errorf("%s in %q: contentProperties.mtime %q, want the file's %s", name, folder, cp.Mtime, want.mtime.Format(time.RFC3339Nano))
	}
}

// meter counts the bytes read from a listener's connections. holdAt makes
// the read that reaches a total stop there: that connection's reads then
// wait until it is closed or cut, and fail.
type meter struct {
	mu    sync.Mutex
	total int64
	at    int64 // 0: hold nothing
	hold  *held
}

// held is one holdAt: tripped closes when the total is reached; cut
// releases the held connection (its read fails).
type held struct {
	tripped, released chan struct{}
	once              sync.Once
}

func (h *held) cut() { h.once.Do(func() { close(h.released) }) }

func (m *meter) read() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total
}

func (m *meter) holdAt(total int64) *held {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.at = total
	m.hold = &held{tripped: make(chan struct{}), released: make(chan struct{})}
	return m.hold
}

// errCut is what a held read returns.
var errCut = errors.New("connection cut by the test")

type meteredListener struct {
	net.Listener
	m *meter
}

func (l meteredListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &meteredConn{Conn: c, m: l.m, closed: make(chan struct{})}, nil
}

type meteredConn struct {
	net.Conn
	m      *meter
	held   *held
	closed chan struct{}
	once   sync.Once
}

func (c *meteredConn) Read(p []byte) (int, error) {
	if c.held != nil {
		select {
		case <-c.held.released:
		case <-c.closed:
		}
		return 0, errCut
	}
	c.m.mu.Lock()
	if c.m.at > 0 && int64(len(p)) > c.m.at-c.m.total {
		p = p[:max(c.m.at-c.m.total, 1)]
	}
	c.m.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.m.mu.Lock()
	c.m.total += int64(n)
	if c.m.at > 0 && c.m.total >= c.m.at {
		c.held = c.m.hold
		c.m.at, c.m.hold = 0, nil
		close(c.held.tripped)
	}
	c.m.mu.Unlock()
	return n, err
}

func (c *meteredConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// tlogWriter sends a server's log to the test's.
type tlogWriter struct{ t *testing.T }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
