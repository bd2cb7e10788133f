package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

// TestFaults injects failures between the SDK and a real server.
func TestFaults(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	ctx := context.Background()

	t.Run("429ThenSuccess", func(t *testing.T) {
		e := newEnv(t, srv, "f429")
		e.root()
		e.faults.add(&rule{match: is("GET", "/account/quota"), times: 2,
			act: reply(http.StatusTooManyRequests, map[string]string{"Retry-After": "3"}, `{"message":"Rate exceeded"}`)})
		if _, err := e.c.Quota(ctx); err != nil {
			t.Fatalf("Quota after two 429s: %v", err)
		}
		if n := e.faults.count("GET /drive/v1/account/quota"); n != 3 {
			t.Errorf("quota requested %d times, want 3", n)
		}
		// Full jitter with rand 0.5 would wait 125ms and 250ms; Retry-After
		// makes both at least 3s.
		if got := e.sleeps.all(); len(got) != 2 || got[0] != 3*time.Second || got[1] != 3*time.Second {
			t.Errorf("waits = %v, want [3s 3s]", got)
		}
	})

	t.Run("500sAreBounded", func(t *testing.T) {
		e := newEnv(t, srv, "f500", client.WithRetry(client.Retry{MaxAttempts: 4, Sleep: func(ctx context.Context, d time.Duration) error { return nil }, Rand: func() float64 { return 0.99 }}))
		e.root()
		e.faults.add(&rule{match: is("GET", "/account/usage"), times: 100, act: reply(http.StatusInternalServerError, nil, `{"message":"Internal failure","logref":"x1"}`)})
		_, err := e.c.Usage(ctx)
		var ae *client.Error
		if !errors.Is(err, client.ErrUnavailable) || !errors.As(err, &ae) || ae.Logref != "x1" {
			t.Fatalf("Usage = %v, want ErrUnavailable with logref", err)
		}
		if n := e.faults.count("GET /drive/v1/account/usage"); n != 4 {
			t.Errorf("usage requested %d times, want MaxAttempts=4", n)
		}
	})

	t.Run("NotRetried", func(t *testing.T) {
		e := newEnv(t, srv, "fnot")
		root := e.root()
		if _, err := e.c.Node(ctx, "AAAAAAAAAAAAAAAAAAAAAA", nil); !errors.Is(err, client.ErrNotFound) {
			t.Fatal(err)
		}
		if _, err := e.c.CreateFolder(ctx, root, "x", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.CreateFolder(ctx, root, "x", nil); !errors.Is(err, client.ErrConflict) {
			t.Fatal(err)
		}
		if got := e.sleeps.all(); len(got) != 0 {
			t.Errorf("404 and 409 were retried: waits %v", got)
		}
	})

	t.Run("TruncatedJSON", func(t *testing.T) {
		e := newEnv(t, srv, "ftrunc")
		root := e.root()
		e.faults.add(&rule{match: is("GET", "/nodes/"+root), act: truncate(20)})
		n, err := e.c.Node(ctx, root, nil)
		if err != nil || n.ID != root {
			t.Fatalf("Node after a cut reply = %v, %v", n, err)
		}
		if len(e.sleeps.all()) != 1 {
			t.Errorf("waits = %v, want one retry", e.sleeps.all())
		}
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		e := newEnv(t, srv, "frefused")
		root := e.root()
		e.faults.add(&rule{match: is("POST", "/drive/v1/nodes"), times: 2, act: refuse()})
		if _, err := e.c.CreateFolder(ctx, root, "after-refused", nil); err != nil {
			t.Fatalf("CreateFolder after refused connections: %v", err)
		}
		if n := e.faults.count("POST /drive/v1/nodes"); n != 3 {
			t.Errorf("POST nodes sent %d times, want 3", n)
		}
	})

	t.Run("CreateFolderFailedButHappened", func(t *testing.T) {
		e := newEnv(t, srv, "fmkdir")
		root := e.root()
		e.faults.add(&rule{match: is("POST", "/drive/v1/nodes"), act: forwardThen(http.StatusBadGateway)})
		n, err := e.c.CreateFolder(ctx, root, "made", nil)
		if err != nil || n.Name != "made" {
			t.Fatalf("CreateFolder = %v, %v; want the folder the first attempt made", n, err)
		}
		if c := e.faults.count("POST /drive/v1/nodes"); c != 1 {
			t.Errorf("POST nodes sent %d times; a non-idempotent create must be confirmed, not resent", c)
		}
	})

	t.Run("UploadFailedButHappened", func(t *testing.T) {
		e := newEnv(t, srv, "fupload")
		root := e.root()
		data := randomBytes(200<<10, 7)
		e.faults.add(&rule{match: is("POST", "/cdproxy/nodes"), act: forwardDrop()})
		n, err := e.c.Upload(ctx, root, "big.bin", bytes.NewReader(data), nil)
		if err != nil || n.ContentProperties.MD5 != md5hex(data) {
			t.Fatalf("Upload = %v, %v", n, err)
		}
		if c := e.faults.count("POST /cdproxy/nodes"); c != 1 {
			t.Errorf("upload sent %d times, want 1 (the node was found by name)", c)
		}
		kids, _ := client.Collect(e.c.Children(ctx, root, nil))
		if len(kids) != 1 {
			t.Errorf("root has %d children, want 1", len(kids))
		}
	})

	t.Run("UploadFailedRetried", func(t *testing.T) {
		e := newEnv(t, srv, "fupload2")
		root := e.root()
		data := randomBytes(100<<10, 8)
		// The server never sees the first attempt but the body was sent.
		e.faults.add(&rule{match: is("POST", "/cdproxy/nodes"), act: reply(http.StatusServiceUnavailable, nil, `{"message":"busy"}`)})
		var progress []int64
		n, err := e.c.Upload(ctx, root, "retry.bin", bytes.NewReader(data), &client.UploadOptions{Progress: func(sent, _ int64) { progress = append(progress, sent) }})
		if err != nil || n.ContentProperties.MD5 != md5hex(data) {
			t.Fatalf("Upload = %v, %v", n, err)
		}
		if c := e.faults.count("POST /cdproxy/nodes"); c != 2 {
			t.Errorf("upload sent %d times, want 2", c)
		}
		if c := e.faults.count("GET /drive/v1/nodes "); c < 1 {
			t.Errorf("no name lookup before the retry")
		}
		if progress[len(progress)-1] != int64(len(data)) {
			t.Errorf("progress ended at %d", progress[len(progress)-1])
		}
	})

	t.Run("Upload429NonSeekable", func(t *testing.T) {
		e := newEnv(t, srv, "fupload3")
		root := e.root()
		e.faults.add(&rule{match: is("POST", "/cdproxy/nodes"), act: rejectEarly(http.StatusTooManyRequests, nil, `{"message":"Rate exceeded"}`)})
		_, err := e.c.Upload(ctx, root, "s.txt", nonSeeker{strings.NewReader("stream")}, nil)
		if !errors.Is(err, client.ErrRateLimited) {
			t.Fatalf("Upload(non-seekable) after 429 = %v, want ErrRateLimited (cannot resend)", err)
		}
		// A seekable body is simply sent again.
		e.faults.add(&rule{match: is("POST", "/cdproxy/nodes"), act: rejectEarly(http.StatusTooManyRequests, nil, `{"message":"Rate exceeded"}`)})
		n, err := e.c.Upload(ctx, root, "s.txt", strings.NewReader("stream"), nil)
		if err != nil || n.ContentProperties.Size != 6 {
			t.Fatalf("Upload(seekable) after 429 = %v, %v", n, err)
		}
	})

	t.Run("TruncatedDownloadResumes", func(t *testing.T) {
		e := newEnv(t, srv, "fdl")
		root := e.root()
		data := randomBytes(1<<20+333, 9)
		n, err := e.c.Upload(ctx, root, "d.bin", bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		e.faults.add(&rule{match: is("GET", "/content"), times: 3, act: truncate(100 << 10)})
		path := filepath.Join(t.TempDir(), "d.bin")
		if err := e.c.DownloadFile(ctx, n, path, nil); err != nil {
			t.Fatalf("DownloadFile through cut replies: %v", err)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, data) {
			t.Fatalf("downloaded %d bytes that differ", len(b))
		}
		reqs := e.faults.requests("GET /cdproxy/nodes/" + n.ID + "/content")
		want := []string{"bytes=0-1048908", "bytes=102400-1048908", "bytes=204800-1048908", "bytes=307200-1048908"}
		if fmt.Sprint(trimPrefix(reqs)) != fmt.Sprint(want) {
			t.Errorf("ranges = %q, want %q", trimPrefix(reqs), want)
		}
		// Open streams resume too.
		e.faults.add(&rule{match: is("GET", "/content"), act: truncate(5000)})
		if got := e.download(n.ID); !bytes.Equal(got, data) {
			t.Errorf("Download through a cut reply: %d bytes differ", len(got))
		}
	})

	t.Run("ResumePartialFile", func(t *testing.T) {
		e := newEnv(t, srv, "fresume")
		root := e.root()
		data := randomBytes(2<<20, 10)
		n, err := e.c.Upload(ctx, root, "r.bin", bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "r.bin")
		if err := os.WriteFile(path+client.IncompleteSuffix, data[:700000], 0o644); err != nil {
			t.Fatal(err)
		}
		var first int64 = -1
		err = e.c.DownloadFile(ctx, n, path, &client.DownloadOptions{Progress: func(done, total int64) {
			if first < 0 {
				first = done
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, data) {
			t.Fatal("resumed file differs")
		}
		if reqs := trimPrefix(e.faults.requests("GET /cdproxy/nodes/" + n.ID)); len(reqs) != 1 || reqs[0] != "bytes=700000-2097151" {
			t.Errorf("requests = %q, want one from 700000", reqs)
		}
		if first != 700000 {
			t.Errorf("first progress = %d, want 700000", first)
		}
		// A partial file from other bytes fails verification and is
		// downloaded again from scratch.
		bad := bytes.Repeat([]byte{'x'}, 1000)
		os.WriteFile(path+client.IncompleteSuffix, bad, 0o644)
		if err := e.c.DownloadFile(ctx, n, path, nil); err != nil {
			t.Fatalf("DownloadFile over a bad partial file: %v", err)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, data) {
			t.Fatal("file differs after re-download")
		}
	})

	t.Run("ChecksumMismatch", func(t *testing.T) {
		e := newEnv(t, srv, "fmd5")
		root := e.root()
		n, err := e.c.Upload(ctx, root, "c.txt", strings.NewReader("hello"), nil)
		if err != nil {
			t.Fatal(err)
		}
		wrong := *n
		cp := *n.ContentProperties
		cp.MD5 = md5hex([]byte("other"))
		wrong.ContentProperties = &cp
		path := filepath.Join(t.TempDir(), "c.txt")
		err = e.c.DownloadFile(ctx, &wrong, path, nil)
		var ce *client.ChecksumError
		if !errors.Is(err, client.ErrChecksum) || !errors.As(err, &ce) {
			t.Fatalf("DownloadFile(wrong md5) = %v, want ChecksumError", err)
		}
		for _, p := range []string{path, path + client.IncompleteSuffix} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s left behind", p)
			}
		}
	})

	t.Run("DeleteFailedButHappened", func(t *testing.T) {
		e := newEnv(t, srv, "fdelprop")
		root := e.root()
		d, _ := e.c.CreateFolder(ctx, root, "p", nil)
		if err := e.c.SetProperty(ctx, d.ID, d.CreatedBy, "k", "v"); err != nil {
			t.Fatal(err)
		}
		e.faults.add(&rule{match: is("DELETE", "/properties/"+d.CreatedBy+"/k"), act: forwardThen(http.StatusBadGateway)})
		if err := e.c.DeleteProperty(ctx, d.ID, d.CreatedBy, "k"); err != nil {
			t.Errorf("DeleteProperty after a lost reply = %v, want success", err)
		}
		e.faults.add(&rule{match: is("DELETE", "/nodes/"+d.ID), act: forwardDrop()})
		if n, err := e.c.Purge(ctx, d.ID); err != nil || n.Status != client.StatusPurged {
			t.Errorf("Purge after a dropped connection = %v, %v", n, err)
		}
		if c := e.faults.count("DELETE /drive/v1/nodes/" + d.ID + " "); c != 1 {
			t.Errorf("purge sent %d times, want 1", c)
		}
	})

	t.Run("ChangesStreamCut", func(t *testing.T) {
		e := newEnv(t, srv, "fchanges")
		root := e.root()
		for i := range 6 {
			if _, err := e.c.CreateFolder(ctx, root, fmt.Sprint("c", i), nil); err != nil {
				t.Fatal(err)
			}
		}
		// Cut the first response after its first line or so.
		e.faults.add(&rule{match: is("POST", "/changes"), act: truncate(900)})
		ids := map[string]bool{}
		for set, err := range e.c.Changes(ctx, client.ChangesOptions{ChunkSize: 1}) {
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range set.Nodes {
				ids[n.ID] = true
			}
		}
		if len(ids) != 7 {
			t.Errorf("saw %d nodes, want 7", len(ids))
		}
		if c := e.faults.count("POST /drive/v1/changes"); c != 2 {
			t.Errorf("changes requested %d times, want 2", c)
		}
	})

	t.Run("AuthRefresh", func(t *testing.T) {
		// The token source is asked before every request.
		tok := srv.Token("frefresh")
		calls := 0
		ts := tokenFunc(func() (*oauth2.Token, error) {
			calls++
			return &oauth2.Token{AccessToken: tok}, nil
		})
		c, err := client.New(srv.URL, ts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Root(ctx); err != nil {
			t.Fatal(err)
		}
		if calls != 2 {
			t.Errorf("token asked %d times, want 2 (endpoint, root)", calls)
		}
		bad := tokenFunc(func() (*oauth2.Token, error) { return nil, &oauth2.RetrieveError{ErrorCode: "invalid_grant"} })
		c, _ = client.New(srv.URL, bad)
		if _, err := c.Root(ctx); !errors.Is(err, client.ErrUnauthorized) {
			t.Errorf("Root with a failing refresh = %v, want ErrUnauthorized", err)
		}
	})
}

type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

// trimPrefix keeps the Range part of logged requests.
func trimPrefix(reqs []string) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r[strings.LastIndex(r, " ")+1:]
	}
	return out
}

func TestEndpointCache(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	ctx := context.Background()
	cache := &client.FileEndpointCache{Path: filepath.Join(t.TempDir(), "sub", "endpoints.json")}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func() *env {
		return newEnv(t, srv, "cache", client.WithEndpointCache(cache), client.WithClock(func() time.Time { return now }))
	}
	e := mk()
	e.root()
	if st, err := os.Stat(cache.Path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v, %v", st, err)
	}
	e2 := mk()
	e2.root()
	if n := e2.faults.count("GET /drive/v1/account/endpoint"); n != 0 {
		t.Errorf("second client asked account/endpoint %d times; want the cached one", n)
	}
	now = now.Add(client.DefaultEndpointTTL + time.Minute)
	e3 := mk()
	e3.root()
	if n := e3.faults.count("GET /drive/v1/account/endpoint"); n != 1 {
		t.Errorf("after expiry account/endpoint asked %d times, want 1", n)
	}
	ep, _, ok, err := cache.LoadEndpoint(ctx, e3.c.BaseURL())
	if err != nil || !ok || ep.MetadataURL != srv.MetadataURL() {
		t.Errorf("LoadEndpoint = %+v, %v, %v", ep, ok, err)
	}
}

func TestRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rand       float64
		attempt    int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"first, max jitter", 0.999999, 0, 0, 99999},
		{"first, half", 0.5, 0, 0, 50 * time.Millisecond},
		{"third, half", 0.5, 2, 0, 200 * time.Millisecond},
		{"capped", 0.5, 20, 0, 500 * time.Millisecond},
		{"zero jitter", 0, 5, 0, 0},
		{"retry-after wins", 0.5, 0, 2 * time.Second, 2 * time.Second},
		{"jitter above retry-after", 0.9, 4, 100 * time.Millisecond, 900 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := client.Retry{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, Rand: func() float64 { return tc.rand }}
			got := r.Delay(tc.attempt, tc.retryAfter)
			if tc.name == "first, max jitter" {
				if got < 99*time.Millisecond || got >= 100*time.Millisecond {
					t.Errorf("Delay = %v, want just under 100ms", got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("Delay(%d, %v) = %v, want %v", tc.attempt, tc.retryAfter, got, tc.want)
			}
		})
	}
}

func TestErrorDecoding(t *testing.T) {
	// A 409 from a server that only says it in the message.
	srv := drivetest.New(t, drivetest.Options{})
	e := newEnv(t, srv, "errs")
	root := e.root()
	e.faults.add(&rule{match: is("POST", "/drive/v1/nodes"), act: reply(http.StatusConflict, nil,
		`{"logref":"l","message":"Node with the name x already exists under parentId p conflicting NodeId: 0471vdN0S1Gs-a6slYIuA","code":"NAME_ALREADY_EXISTS"}`)})
	_, err := e.c.CreateFolder(context.Background(), root, "x", nil)
	var ce *client.ConflictError
	if !errors.As(err, &ce) || ce.NodeID != "0471vdN0S1Gs-a6slYIuA" {
		t.Errorf("conflict = %#v", err)
	}
	// Quota: 403 with QUOTA_EXCEEDED.
	e.faults.add(&rule{match: is("POST", "/cdproxy/nodes"), act: reply(http.StatusForbidden, nil, `{"message":"Storage quota exceeded","code":"QUOTA_EXCEEDED"}`)})
	_, err = e.c.Upload(context.Background(), root, "q", strings.NewReader("q"), nil)
	if !errors.Is(err, client.ErrQuotaExceeded) || errors.Is(err, client.ErrForbidden) {
		t.Errorf("quota = %v, want ErrQuotaExceeded only", err)
	}
	// A non-JSON body.
	e.faults.add(&rule{match: is("GET", "/account/info"), act: reply(http.StatusNotFound, map[string]string{"Content-Type": "text/xml"}, `<UnknownOperationException/>`)})
	_, err = e.c.AccountInfo(context.Background())
	if !errors.Is(err, client.ErrNotFound) || !strings.Contains(err.Error(), "UnknownOperation") {
		t.Errorf("xml 404 = %v", err)
	}
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Op != "client.AccountInfo" {
		t.Errorf("Op = %+v", ae)
	}
}

// TestRateLimitedServer runs against the server's own rate limiter: the
// 429s it sends carry Retry-After, and every call still succeeds.
func TestRateLimitedServer(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{RateLimits: ratelimit.Limits{PerToken: 20, PerTokenBurst: 5, PerUser: 1000, PerUserBurst: 1000}})
	var waits []time.Duration
	var mu sync.Mutex
	e := newEnv(t, srv, "limited", client.WithRetry(client.Retry{Sleep: func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		time.Sleep(d)
		return ctx.Err()
	}}))
	root := e.root()
	for i := range 6 {
		if _, err := e.c.CreateFolder(context.Background(), root, fmt.Sprint("r", i), nil); err != nil {
			t.Fatalf("CreateFolder %d: %v", i, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) == 0 {
		t.Fatal("no request was throttled; the limiter is not on")
	}
	for _, w := range waits {
		if w < time.Second {
			t.Errorf("waited %v after a 429, want at least the Retry-After of 1s", w)
		}
	}
	kids, _ := client.Collect(e.c.Children(context.Background(), root, nil))
	if len(kids) != 6 {
		t.Errorf("%d folders, want 6 (no duplicates, none lost)", len(kids))
	}
}
