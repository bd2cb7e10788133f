package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// small makes every upload of 1 MiB or more resumable, in chunks of
// 1 MiB, so the tests exercise tus without moving 64 MiB.
var small = client.WithResumable(client.Resumable{Threshold: 1 << 20, ChunkSize: 1 << 20})

// patchBytes counts the content bytes PATCH requests carried to the server.
type patchBytes struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (p *patchBytes) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == "PATCH" && req.Body != nil {
		req.Body = &countBody{r: req.Body, n: &p.n}
	}
	return p.base.RoundTrip(req)
}

type countBody struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (b *countBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *countBody) Close() error { return b.r.Close() }

// cutAfter forwards a PATCH but fails its body after n bytes, as a
// connection dropped mid-request; then runs after (if set) before
// answering with the transport error.
func cutAfter(n int64, after func()) func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return func(req *http.Request, forward func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		req.Body = &failingBody{r: req.Body, left: n}
		resp, err := forward(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			err = &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
		}
		if after != nil {
			after()
		}
		return nil, err
	}
}

// failingBody passes left bytes through, then fails as a cut connection
// would. With stall set it first blocks until stall.release is closed.
type failingBody struct {
	r     io.ReadCloser
	left  int64
	stall *stall
}

// stall holds a failingBody at its cut: reached is closed when it gets
// there, and it fails once release is closed.
type stall struct {
	reached, release chan struct{}
	once             sync.Once
}

func (b *failingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		if st := b.stall; st != nil {
			st.once.Do(func() { close(st.reached) })
			<-st.release
		}
		return 0, &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *failingBody) Close() error { return b.r.Close() }

// progress records the Progress calls of an upload.
type progress struct {
	mu   sync.Mutex
	sent []int64
}

func (p *progress) fn(sent, _ int64) {
	p.mu.Lock()
	p.sent = append(p.sent, sent)
	p.mu.Unlock()
}

func (p *progress) calls() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int64(nil), p.sent...)
}

// serverOffset asks the server how far the upload at u got, as a tus
// client would.
func serverOffset(t *testing.T, u, token string) int64 {
	t.Helper()
	resp, err := tusHead(u, token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD %s: %d", u, resp.StatusCode)
	}
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		t.Fatalf("HEAD %s: Upload-Offset %q", u, resp.Header.Get("Upload-Offset"))
	}
	return off
}

// tusHead sends a tus HEAD for the upload at u, outside the client under
// test.
func tusHead(u, token string) (*http.Response, error) {
	req, err := http.NewRequest("HEAD", u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultTransport.RoundTrip(req)
}

func TestResumableUpload(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	ctx := context.Background()
	const size = 3<<20 + 12345
	data := randomBytes(size, 17)

	t.Run("Chunks", func(t *testing.T) {
		e := newEnv(t, srv, "tus-chunks", small)
		root := e.root()
		var p progress
		var urls []string
		mtime := time.Date(2026, 12, 7, 11, 0, 0, 123e6, time.FixedZone("CET", 3600))
		n, err := e.c.Upload(ctx, root, "big.bin", bytes.NewReader(data), &client.UploadOptions{Size: size, Progress: p.fn,
			ContentType: "application/x-test", ModTime: mtime, OnResumeURL: func(u string) { urls = append(urls, u) }})
		if err != nil {
			t.Fatal(err)
		}
		if cp := n.ContentProperties; cp == nil || !cp.ModTime.Equal(mtime) || cp.ContentType != "application/x-test" {
			t.Errorf("contentProperties = %+v, want mtime %v and the content type sent", cp, mtime)
		}
		if n.Name != "big.bin" || n.ContentProperties == nil || n.ContentProperties.MD5 != md5hex(data) || n.ContentProperties.Size != size {
			t.Fatalf("node = %+v", n)
		}
		if got := e.download(n.ID); !bytes.Equal(got, data) {
			t.Fatal("downloaded bytes differ")
		}
		if e.faults.count("POST /cdproxy/nodes") != 0 || e.faults.count("POST /cdproxy/uploads/") != 1 || e.faults.count("PATCH /cdproxy/uploads/") != 4 {
			t.Errorf("requests: %q", e.faults.requests(""))
		}
		if len(urls) != 1 || !strings.HasPrefix(urls[0], srv.ContentURL()+"uploads/") {
			t.Errorf("OnResumeURL got %q", urls)
		}
		calls := p.calls()
		for i := 1; i < len(calls); i++ {
			if calls[i] < calls[i-1] {
				t.Fatalf("progress went back: %v", calls)
			}
		}
		if len(calls) == 0 || calls[len(calls)-1] != size {
			t.Errorf("last progress %v, want %d", calls[len(calls)-1:], size)
		}
	})

	t.Run("SmallFileStaysMultipart", func(t *testing.T) {
		e := newEnv(t, srv, "tus-small", small)
		root := e.root()
		if _, err := e.c.Upload(ctx, root, "s.bin", bytes.NewReader(data[:1000]), &client.UploadOptions{Size: 1000}); err != nil {
			t.Fatal(err)
		}
		if e.faults.count("POST /cdproxy/nodes") != 1 || e.faults.count("POST /cdproxy/uploads/") != 0 {
			t.Errorf("requests: %q", e.faults.requests(""))
		}
	})

	t.Run("BrokenConnection", func(t *testing.T) {
		e := newEnv(t, srv, "tus-broken", small)
		pb := &patchBytes{base: e.faults.base}
		e.faults.base = pb
		root := e.root()
		// The second PATCH is cut after 300 KiB.
		var patches atomic.Int32
		e.faults.add(&rule{match: func(r *http.Request) bool { return r.Method == "PATCH" && patches.Add(1) == 2 },
			act: cutAfter(300<<10, nil)})
		var p progress
		n, err := e.c.Upload(ctx, root, "broken.bin", bytes.NewReader(data), &client.UploadOptions{Size: size, Progress: p.fn})
		if err != nil {
			t.Fatal(err)
		}
		if n.ContentProperties.MD5 != md5hex(data) || !bytes.Equal(e.download(n.ID), data) {
			t.Fatal("content differs")
		}
		if e.faults.count("HEAD /cdproxy/uploads/") < 1 {
			t.Errorf("no HEAD after the cut: %q", e.faults.requests(""))
		}
		// At most the cut chunk is sent again, never the whole file.
		if sent := pb.n.Load(); sent > size+1<<20 {
			t.Errorf("PATCH bodies carried %d bytes for %d", sent, size)
		}
		if calls := p.calls(); calls[0] != 0 || calls[len(calls)-1] != size {
			t.Errorf("progress %v...", calls[:1])
		}
	})

	t.Run("Interrupted", func(t *testing.T) {
		// Another request for the upload (here a HEAD, as a second copy
		// of the client or a retry of ours would send) arrives while the
		// server still reads the second PATCH: the server hands the
		// upload over, answers that PATCH 423, and the client resumes.
		e := newEnv(t, srv, "tus-interrupted", small)
		root := e.root()
		var patches atomic.Int32
		var interrupted atomic.Int32 // the status the second PATCH got
		e.faults.add(&rule{match: func(r *http.Request) bool { return r.Method == "PATCH" && patches.Add(1) == 2 },
			act: func(req *http.Request, forward func(*http.Request) (*http.Response, error)) (*http.Response, error) {
				st := &stall{reached: make(chan struct{}), release: make(chan struct{})}
				req.Body = &failingBody{r: req.Body, left: 100 << 10, stall: st}
				// The bytes before the stall may still sit in the socket
				// when the first HEAD arrives, before the PATCH holds the
				// upload: HEADs go on until the PATCH is answered.
				headDone, answered := make(chan struct{}), make(chan struct{})
				go func() {
					defer close(headDone)
					<-st.reached
					for {
						if resp, err := tusHead(req.URL.String(), e.token); err == nil {
							resp.Body.Close()
						}
						select {
						case <-answered:
							return
						case <-time.After(50 * time.Millisecond):
						}
					}
				}()
				// The body stays stalled until the reply is in: the server
				// answers the PATCH without the rest of it.
				resp, err := forward(req)
				close(answered)
				close(st.release)
				<-headDone
				if resp != nil {
					interrupted.Store(int32(resp.StatusCode))
				}
				return resp, err
			}})
		n, err := e.c.Upload(ctx, root, "interrupted.bin", bytes.NewReader(data), &client.UploadOptions{Size: size})
		if err != nil {
			t.Fatal(err)
		}
		if got := interrupted.Load(); got != http.StatusLocked {
			t.Errorf("the interrupted PATCH got %d, want 423", got)
		}
		if n.ContentProperties.MD5 != md5hex(data) || !bytes.Equal(e.download(n.ID), data) {
			t.Fatal("content differs")
		}
	})

	t.Run("KilledThenResumed", func(t *testing.T) {
		e := newEnv(t, srv, "tus-killed", small)
		root := e.root()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// The "process" dies in its third PATCH, after 100 KiB of it.
		var patches atomic.Int32
		e.faults.add(&rule{match: func(r *http.Request) bool { return r.Method == "PATCH" && patches.Add(1) == 3 },
			act: cutAfter(100<<10, cancel)})
		var saved string
		_, err := e.c.Upload(cctx, root, "killed.bin", bytes.NewReader(data), &client.UploadOptions{Size: size,
			OnResumeURL: func(u string) { saved = u }})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("upload after cancel = %v, want context.Canceled", err)
		}
		if saved == "" {
			t.Fatal("no resume URL reported")
		}
		if _, err := e.c.ChildByName(ctx, root, "killed.bin"); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("an unfinished upload made a node: %v", err)
		}
		offset := serverOffset(t, saved, e.token)
		if offset < 2<<20 || offset >= size {
			t.Fatalf("server offset %d, want at least the two chunks sent and less than %d", offset, size)
		}

		// A new process (a new client) resumes with the saved URL.
		e2 := newEnv(t, srv, "tus-killed", small)
		pb := &patchBytes{base: e2.faults.base}
		e2.faults.base = pb
		var p progress
		var again []string
		n, err := e2.c.Upload(ctx, root, "killed.bin", bytes.NewReader(data), &client.UploadOptions{Size: size, ResumeURL: saved,
			Progress: p.fn, OnResumeURL: func(u string) { again = append(again, u) }})
		if err != nil {
			t.Fatal(err)
		}
		if n.ContentProperties.MD5 != md5hex(data) || !bytes.Equal(e2.download(n.ID), data) {
			t.Fatal("content differs")
		}
		if sent := pb.n.Load(); sent != size-offset {
			t.Errorf("the resume sent %d bytes, want the %d after the server's offset %d", sent, size-offset, offset)
		}
		if e2.faults.count("POST /cdproxy/uploads/") != 0 {
			t.Errorf("a new upload was created: %q", e2.faults.requests(""))
		}
		if calls := p.calls(); len(calls) == 0 || calls[0] != offset {
			t.Errorf("first progress %v, want the resumed offset %d", calls, offset)
		}
		if len(again) != 1 || again[0] != saved {
			t.Errorf("OnResumeURL on resume: %q", again)
		}
		// The finished upload's URL names the node until it expires.
		n2, err := e2.c.Upload(ctx, root, "killed.bin", bytes.NewReader(data), &client.UploadOptions{Size: size, ResumeURL: saved})
		if err != nil || n2.ID != n.ID {
			t.Errorf("upload of a finished URL = %v, %v; want node %s", n2, err, n.ID)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		e := newEnv(t, srv, "tus-conflict", small)
		root := e.root()
		first, err := e.c.Upload(ctx, root, "dup.bin", bytes.NewReader(data[:2<<20]), &client.UploadOptions{Size: 2 << 20})
		if err != nil {
			t.Fatal(err)
		}
		patches := e.faults.count("PATCH ")
		_, err = e.c.Upload(ctx, root, "dup.bin", bytes.NewReader(data), &client.UploadOptions{Size: size})
		var ce *client.ConflictError
		if !errors.Is(err, client.ErrConflict) || !errors.As(err, &ce) || ce.NodeID != first.ID || ce.Code != "NAME_ALREADY_EXISTS" {
			t.Fatalf("second upload = %v, want a conflict naming %s", err, first.ID)
		}
		if e.faults.count("PATCH ") != patches {
			t.Error("bytes were sent for an upload refused at creation")
		}
		n, err := e.c.Upload(ctx, root, "dup.bin", bytes.NewReader(data), &client.UploadOptions{Size: size, OnConflict: client.ConflictReturnExisting})
		if err != nil || n.ID != first.ID || n.ContentProperties.Size != 2<<20 {
			t.Fatalf("ConflictReturnExisting = %+v, %v", n, err)
		}
		n, err = e.c.Upload(ctx, root, "dup.bin", bytes.NewReader(data), &client.UploadOptions{Size: size, OnConflict: client.ConflictOverwrite})
		if err != nil || n.ID != first.ID || n.ContentProperties.MD5 != md5hex(data) {
			t.Fatalf("ConflictOverwrite = %+v, %v", n, err)
		}
		if !bytes.Equal(e.download(n.ID), data) {
			t.Fatal("overwritten content differs")
		}
	})

	t.Run("ConflictAtCompletion", func(t *testing.T) {
		e := newEnv(t, srv, "tus-late", small)
		other := newEnv(t, srv, "tus-late")
		root := e.root()
		// Another client takes the name while the bytes are on their way.
		var late string
		e.faults.add(&rule{match: is("PATCH", ""), act: func(req *http.Request, forward func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			n, err := other.c.Upload(req.Context(), root, "late.bin", strings.NewReader("first"), nil)
			if err != nil {
				return nil, err
			}
			late = n.ID
			return forward(req)
		}})
		_, err := e.c.Upload(ctx, root, "late.bin", bytes.NewReader(data), &client.UploadOptions{Size: size})
		var ce *client.ConflictError
		if !errors.As(err, &ce) || ce.NodeID != late || ce.Code != "NAME_ALREADY_EXISTS" {
			t.Fatalf("upload whose name was taken meanwhile = %v, want a conflict naming %s", err, late)
		}
		if e.faults.count("PATCH ") != 4 {
			t.Errorf("requests: %q", e.faults.requests(""))
		}
		// With ConflictOverwrite, the conflict found at completion becomes
		// an overwrite of the file that took the name.
		late = ""
		e.faults.add(&rule{match: is("PATCH", ""), act: func(req *http.Request, forward func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			n, err := other.c.Upload(req.Context(), root, "late2.bin", strings.NewReader("first"), nil)
			if err != nil {
				return nil, err
			}
			late = n.ID
			return forward(req)
		}})
		n, err := e.c.Upload(ctx, root, "late2.bin", bytes.NewReader(data), &client.UploadOptions{Size: size, OnConflict: client.ConflictOverwrite})
		if err != nil || n.ID != late || n.ContentProperties.MD5 != md5hex(data) {
			t.Fatalf("upload with ConflictOverwrite = %+v, %v; want node %s overwritten", n, err, late)
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		e := newEnv(t, srv, "tus-overwrite", small)
		root := e.root()
		f, err := e.c.Upload(ctx, root, "o.bin", strings.NewReader("old"), nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.c.Overwrite(ctx, f.ID, bytes.NewReader(data), &client.UploadOptions{Size: size})
		if err != nil || n.ID != f.ID || n.ContentProperties.MD5 != md5hex(data) {
			t.Fatalf("Overwrite = %+v, %v", n, err)
		}
		if e.faults.count("PUT ") != 0 || e.faults.count("POST /cdproxy/uploads/") != 1 {
			t.Errorf("requests: %q", e.faults.requests(""))
		}
	})

	t.Run("TerminateOnCancel", func(t *testing.T) {
		e := newEnv(t, srv, "tus-terminate", small)
		root := e.root()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		e.faults.add(&rule{match: is("PATCH", ""), act: cutAfter(1000, cancel)})
		var saved string
		_, err := e.c.Upload(cctx, root, "t.bin", bytes.NewReader(data), &client.UploadOptions{Size: size, TerminateOnCancel: true,
			OnResumeURL: func(u string) { saved = u }})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("upload = %v", err)
		}
		if e.faults.count("DELETE /cdproxy/uploads/") != 1 {
			t.Fatalf("requests: %q", e.faults.requests(""))
		}
		req, _ := http.NewRequest("HEAD", saved, nil)
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusGone {
			t.Errorf("HEAD of a terminated upload: %d", resp.StatusCode)
		}
	})

	t.Run("NoTusRoute", func(t *testing.T) {
		e := newEnv(t, srv, "tus-none", small)
		root := e.root()
		// A server from before resumable uploads: its router knows no
		// /cdproxy/uploads/.
		e.faults.add(&rule{match: func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/cdproxy/uploads") }, times: 100,
			act: reply(http.StatusNotFound, nil, `{"message":"Resource not found","code":"NOT_FOUND"}`)})
		for i, name := range []string{"m1.bin", "m2.bin"} {
			n, err := e.c.Upload(ctx, root, name, bytes.NewReader(data), &client.UploadOptions{Size: size})
			if err != nil || n.ContentProperties.MD5 != md5hex(data) {
				t.Fatalf("upload %d = %+v, %v", i, n, err)
			}
		}
		if e.faults.count("POST /cdproxy/nodes") != 2 || e.faults.count("OPTIONS ") != 1 || e.faults.count("POST /cdproxy/uploads/") != 0 {
			t.Errorf("requests: %q (want OPTIONS once, then multipart)", e.faults.requests(""))
		}
	})
}

// retarget sends every request to the server currently in target, so a
// client keeps its endpoint URLs across a server restart on a new port.
type retarget struct {
	base   http.RoundTripper
	mu     sync.Mutex
	target string // host:port
}

func (r *retarget) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	host := r.target
	r.mu.Unlock()
	req = req.Clone(req.Context())
	req.URL.Host, req.Host = host, host
	return r.base.RoundTrip(req)
}

func (r *retarget) set(rawURL string) {
	u, _ := url.Parse(rawURL)
	r.mu.Lock()
	r.target = u.Host
	r.mu.Unlock()
}

func TestResumableUploadServerRestart(t *testing.T) {
	dir := t.TempDir()
	srv := drivetest.New(t, drivetest.Options{DataDir: dir})
	ctx := context.Background()
	const size = 3<<20 + 99
	data := randomBytes(size, 23)
	e := newEnv(t, srv, "tus-restart", small)
	rt := &retarget{base: e.faults.base}
	rt.set(srv.URL)
	pb := &patchBytes{base: rt}
	e.faults.base = pb
	root := e.root()
	// The second PATCH is cut after 200 KiB and the server restarts (on a
	// new port; retarget stands for a server at a fixed address).
	var patches atomic.Int32
	e.faults.add(&rule{match: func(r *http.Request) bool { return r.Method == "PATCH" && patches.Add(1) == 2 },
		act: cutAfter(200<<10, func() {
			srv.Close()
			srv = drivetest.New(t, drivetest.Options{DataDir: dir})
			rt.set(srv.URL)
		})})
	n, err := e.c.Upload(ctx, root, "restart.bin", bytes.NewReader(data), &client.UploadOptions{Size: size})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.faults.count("PATCH "); n < 5 {
		t.Fatalf("only %d PATCHes for 4 chunks and a cut", n)
	}
	if e.faults.count("HEAD ") < 1 {
		t.Errorf("no HEAD after the restart: %q", e.faults.requests(""))
	}
	if n.ContentProperties.MD5 != md5hex(data) || !bytes.Equal(e.download(n.ID), data) {
		t.Fatal("content differs after the restart")
	}
	if sent := pb.n.Load(); sent > size+1<<20 {
		t.Errorf("PATCH bodies carried %d bytes for %d: more than one chunk again", sent, size)
	}
}
