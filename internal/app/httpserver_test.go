package app_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/httpguard"
)

// guarded is a real server (package app on a temp dir) run by
// App.HTTPServer on a loopback listener, as `clouddrive serve` runs it.
type guarded struct {
	addr  string
	token string
	app   *app.App
}

func startGuarded(t *testing.T, l httpguard.Limits, tune ...func(*app.Config)) *guarded {
	t.Helper()
	cfg := app.Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), WebhookPoll: -1}
	for _, f := range tune {
		f(&cfg)
	}
	a, err := app.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("app.Open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	tok, err := app.AdminToken(t.Context(), cfg, a.Meta, "alice", 0)
	if err != nil {
		t.Fatalf("AdminToken: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := a.HTTPServer(l, nil)
	srv.ErrorLog = nil
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
	})
	return &guarded{addr: ln.Addr().String(), token: tok, app: a}
}

// slowResult is how a slow client's request ended.
type slowResult struct {
	status  int // 0: the connection ended without a response
	elapsed time.Duration
	err     error
}

// slowRequest sends head, then body one byte every tick until the server
// answers or drops the connection (or the test's bound of limit passes).
func slowRequest(addr, head, body string, tick, limit time.Duration) slowResult {
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return slowResult{err: err}
	}
	defer c.Close()
	_ = c.SetDeadline(start.Add(limit))
	if _, err := io.WriteString(c, head); err != nil {
		return slowResult{err: err}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for i := 0; i < len(body); i++ {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if _, err := c.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	defer close(done)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return slowResult{elapsed: time.Since(start), err: err}
		}
		return slowResult{elapsed: time.Since(start)} // dropped
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable &&
		(resp.Header.Get("Retry-After") == "" || !resp.Close) {
		return slowResult{status: resp.StatusCode, elapsed: time.Since(start),
			err: fmt.Errorf("503 without Retry-After and Connection: close: %v", resp.Header)}
	}
	return slowResult{status: resp.StatusCode, elapsed: time.Since(start)}
}

// TestSlowUnauthenticatedClients: 400 clients that send a token request's
// body one byte a second neither starve /healthz nor an authenticated
// API call; those over the cap get 503 (Retry-After, Connection: close)
// at once, and the others are cut off at the body timeout.
func TestSlowUnauthenticatedClients(t *testing.T) {
	if testing.Short() {
		t.Skip("slow clients take seconds")
	}
	const clients, maxUnauth = 400, 64
	const bodyTimeout = 2 * time.Second
	g := startGuarded(t, httpguard.Limits{MaxUnauthenticated: maxUnauth, BodyTimeout: bodyTimeout,
		ReadHeaderTimeout: 2 * time.Second})
	body := "grant_type=refresh_token&client_id=x&refresh_token=" + strings.Repeat("a", 200)
	head := "POST /auth/o2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))
	const limit = 20 * time.Second // the test's own bound on a client

	results := make(chan slowResult, clients)
	refused := make(chan struct{}, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			r := slowRequest(g.addr, head, body, time.Second, limit)
			if r.status == http.StatusServiceUnavailable {
				refused <- struct{}{}
			}
			results <- r
		})
	}

	// Once the cap is full, health checks and signed-in users still get in.
	select {
	case <-refused:
	case <-time.After(10 * time.Second):
		t.Fatal("no slow client was refused within 10 s")
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path, token string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+g.addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get("/healthz", ""); err != nil || code != http.StatusOK {
		t.Errorf("GET /healthz during the attack: %d, %v; want 200 within 5 s", code, err)
	}
	if code, err := get("/drive/v1/account/info", g.token); err != nil || code != http.StatusOK {
		t.Errorf("authenticated GET /drive/v1/account/info during the attack: %d, %v; want 200 within 5 s", code, err)
	}
	wg.Wait()
	close(results)
	var n503, cut int
	for r := range results {
		switch {
		case r.err != nil:
			t.Errorf("slow client: %v (after %s)", r.err, r.elapsed.Round(time.Millisecond))
		case r.status == http.StatusServiceUnavailable:
			n503++
		case r.status == http.StatusOK:
			t.Errorf("a slow client's request succeeded")
		default:
			cut++
			if r.elapsed < bodyTimeout-100*time.Millisecond || r.elapsed > bodyTimeout+5*time.Second {
				t.Errorf("slow client cut off after %s, want about %s", r.elapsed.Round(time.Millisecond), bodyTimeout)
			}
		}
	}
	if n503 < clients-2*maxUnauth || cut < maxUnauth/2 {
		t.Errorf("%d slow clients got 503 and %d were cut off at the body timeout; want most over the cap of %d refused", n503, cut, maxUnauth)
	}
	// Each refusal is counted in /metrics.
	rec := httptest.NewRecorder()
	g.app.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := fmt.Sprintf("\nclouddrive_busy_refused_total %d\n", n503); !strings.Contains(rec.Body.String(), want) {
		t.Errorf("/metrics has no %q", strings.TrimSpace(want))
	}
}

// TestUploadMinimumRate: an upload that trickles is cut off after the
// upload window; a normal upload and a long poll that outlasts the body
// timeout are not.
func TestUploadMinimumRate(t *testing.T) {
	if testing.Short() {
		t.Skip("slow clients take seconds")
	}
	const window = 2 * time.Second
	g := startGuarded(t, httpguard.Limits{BodyTimeout: time.Second, UploadMinRate: 1 << 10, UploadWindow: window})
	const boundary = "b0undary"
	multipart := func(content string) string {
		return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n" +
			`{"name":"f.txt","kind":"FILE"}` + "\r\n--" + boundary +
			"\r\nContent-Disposition: form-data; name=\"content\"; filename=\"f.txt\"\r\n" +
			"Content-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n"
	}
	head := func(n int) string {
		return "POST /cdproxy/nodes HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + g.token +
			"\r\nContent-Type: multipart/form-data; boundary=" + boundary + fmt.Sprintf("\r\nContent-Length: %d\r\n\r\n", n)
	}

	// 20 bytes a second, far below 1 KiB/s: cut off once the window's
	// credit is spent (well before the body would be complete).
	body := multipart(strings.Repeat("x", 4000))
	r := slowRequest(g.addr, head(len(body)), body, 50*time.Millisecond, 20*time.Second)
	if r.err != nil || r.status/100 == 2 || r.elapsed < window || r.elapsed > window+5*time.Second {
		t.Errorf("trickling upload: status %d after %s (%v); want it cut off after about %s",
			r.status, r.elapsed.Round(time.Millisecond), r.err, window)
	}

	// A normal upload of 4 MiB goes through.
	big := multipart(strings.Repeat("y", 4<<20))
	req, _ := http.NewRequest(http.MethodPost, "http://"+g.addr+"/cdproxy/nodes", strings.NewReader(big))
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, msg)
	}

	// A long poll reads its body at once, then waits longer than the body
	// timeout: the deadline is gone by then, so it ends normally.
	req, _ = http.NewRequest(http.MethodPost, "http://"+g.addr+"/drive/v1/changes", strings.NewReader(`{"wait":0}`))
	req.Header.Set("Authorization", "Bearer "+g.token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	i := strings.Index(string(first), `"checkpoint":"`)
	if i < 0 {
		t.Fatalf("changes: no checkpoint in %s", first)
	}
	cp := string(first[i+len(`"checkpoint":"`):])
	cp = cp[:strings.IndexByte(cp, '"')]
	start := time.Now()
	req, _ = http.NewRequest(http.MethodPost, "http://"+g.addr+"/drive/v1/changes",
		strings.NewReader(`{"checkpoint":"`+cp+`","wait":3}`))
	req.Header.Set("Authorization", "Bearer "+g.token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || time.Since(start) < 2*time.Second {
		t.Errorf("long poll: %d after %s, %v: %s", resp.StatusCode, time.Since(start).Round(time.Millisecond), err, rest)
	}
}

// TestClientLimits: Config.Clients reaches the OAuth endpoints: a client
// address gets its burst of device authorizations, then 429; behind a
// trusted proxy, X-Forwarded-For names the client, so another client of
// the proxy has its own bucket, while a forged header from an untrusted
// peer does not escape the limit.
func TestClientLimits(t *testing.T) {
	trusted := netip.MustParsePrefix("127.0.0.1/32")
	for _, tc := range []struct {
		name    string
		proxies []netip.Prefix
		second  int // status for a second client (another X-Forwarded-For)
	}{
		{"direct", nil, http.StatusTooManyRequests},
		{"behind a trusted proxy", []netip.Prefix{trusted}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startGuarded(t, httpguard.Limits{}, func(c *app.Config) {
				c.Clients = app.ClientLimits{OAuthRate: 0.01, OAuthBurst: 3, TrustedProxies: tc.proxies}
			})
			device := func(xff string) int {
				req, _ := http.NewRequest(http.MethodPost, "http://"+g.addr+"/auth/o2/device",
					strings.NewReader("client_id=clouddrive-cli&scope=clouddrive:read_all"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", xff)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			for i := range 3 {
				if code := device("203.0.113.1"); code != http.StatusOK {
					t.Fatalf("device authorization %d: %d, want 200", i+1, code)
				}
			}
			if code := device("203.0.113.1"); code != http.StatusTooManyRequests {
				t.Errorf("4th device authorization: %d, want 429", code)
			}
			if code := device("203.0.113.2"); code != tc.second {
				t.Errorf("another X-Forwarded-For: %d, want %d", code, tc.second)
			}
		})
	}
}
