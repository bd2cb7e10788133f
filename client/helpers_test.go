package client_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/testbytes"
)

// env is a real server plus a client whose transport can inject faults.
type env struct {
	t      *testing.T
	srv    *drivetest.Server
	c      *client.Client
	faults *faults
	sleeps *sleeps
	token  string
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newEnv starts a server (shared by the subtests of one test when srv is
// given) and a client for a fresh user. Waits are recorded, not slept.
func newEnv(t *testing.T, srv *drivetest.Server, user string, opts ...client.Option) *env {
	t.Helper()
	if srv == nil {
		srv = drivetest.New(t, drivetest.Options{})
	}
	e := &env{t: t, srv: srv, faults: &faults{base: http.DefaultTransport.(*http.Transport).Clone()}, sleeps: &sleeps{}}
	e.token = srv.Token(user)
	all := append([]client.Option{
		client.WithHTTPClient(&http.Client{Transport: e.faults}),
		client.WithRetry(client.Retry{Sleep: e.sleeps.sleep, Rand: func() float64 { return 0.5 }}),
	}, opts...)
	c, err := client.New(srv.URL, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: e.token}), all...)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	return e
}

// faults is an http.RoundTripper that forwards to the server unless a
// rule matches; each rule fires at most Times times (0 means once).
type faults struct {
	base  http.RoundTripper
	mu    sync.Mutex
	rules []*rule
	log   []string // "METHOD path range" of every request seen
}

type rule struct {
	match func(*http.Request) bool
	times int
	// act handles the request; forward sends it to the server.
	act func(req *http.Request, forward func(*http.Request) (*http.Response, error)) (*http.Response, error)
}

func (f *faults) add(r *rule) {
	if r.times == 0 {
		r.times = 1
	}
	f.mu.Lock()
	f.rules = append(f.rules, r)
	f.mu.Unlock()
}

func (f *faults) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.log = append(f.log, req.Method+" "+req.URL.Path+" "+req.Header.Get("Range"))
	var hit *rule
	for _, r := range f.rules {
		if r.times > 0 && r.match(req) {
			r.times--
			hit = r
			break
		}
	}
	f.mu.Unlock()
	if hit == nil {
		return f.base.RoundTrip(req)
	}
	return hit.act(req, f.base.RoundTrip)
}

func (f *faults) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.log {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func (f *faults) requests(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.log {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func is(method, pathSuffix string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == method && strings.HasSuffix(r.URL.Path, pathSuffix)
	}
}

// reply answers without reaching the server (the body, if any, is drained
// so the request is "sent").
func reply(status int, hdr map[string]string, body string) func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return func(req *http.Request, _ func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		if req.Body != nil {
			io.Copy(io.Discard, req.Body)
			req.Body.Close()
		}
		return fakeResponse(req, status, hdr, body), nil
	}
}

// rejectEarly answers without reading the request body, as a rate limiter
// in front of the handler does.
func rejectEarly(status int, hdr map[string]string, body string) func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return func(req *http.Request, _ func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		if req.Body != nil {
			req.Body.Close()
		}
		return fakeResponse(req, status, hdr, body), nil
	}
}

func fakeResponse(req *http.Request, status int, hdr map[string]string, body string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range hdr {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Request: req,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
}

// forwardThen sends the request to the server (which acts on it) and
// replaces its answer: the "it failed but happened" case.
func forwardThen(status int) func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return func(req *http.Request, forward func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		resp, err := forward(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return fakeResponse(req, status, nil, `{"message":"Internal failure"}`), nil
	}
}

// forwardDrop sends the request and then fails as a dropped connection.
func forwardDrop() func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return func(req *http.Request, forward func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		resp, err := forward(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
}

// truncate forwards and cuts the reply body after n bytes, keeping the
// original Content-Length, like a connection dropped mid-body.
func truncate(n int64) func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return func(req *http.Request, forward func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		resp, err := forward(req)
		if err != nil {
			return nil, err
		}
		resp.Body = &cutBody{r: io.LimitReader(resp.Body, n), c: resp.Body}
		return resp, nil
	}
}

type cutBody struct {
	r io.Reader
	c io.Closer
}

func (b *cutBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *cutBody) Close() error { return b.c.Close() }

func refuse() func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return func(req *http.Request, _ func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
}

// randomBytes and md5hex are package testbytes' shared helpers under the
// names this package's tests use.
func randomBytes(n int, seed uint64) []byte { return testbytes.Random(n, seed) }

func md5hex(b []byte) string { return testbytes.MD5(b) }

func (e *env) root() string {
	e.t.Helper()
	r, err := e.c.Root(context.Background())
	if err != nil {
		e.t.Fatalf("Root: %v", err)
	}
	return r.ID
}

func (e *env) download(id string) []byte {
	e.t.Helper()
	var buf bytes.Buffer
	if _, err := e.c.Download(context.Background(), id, &buf); err != nil {
		e.t.Fatalf("Download(%s): %v", id, err)
	}
	return buf.Bytes()
}

// nonSeeker hides io.Seeker.
type nonSeeker struct{ r io.Reader }

func (n nonSeeker) Read(p []byte) (int, error) { return n.r.Read(p) }
