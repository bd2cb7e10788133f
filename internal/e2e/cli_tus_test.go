package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clouddrive/clouddrive/internal/cli"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// patchCounter counts the content bytes of PATCH requests (resumable
// upload chunks) and the requests to the tus route; it cancels a context
// once cancelAt bytes went out.
type patchCounter struct {
	base     http.RoundTripper
	bytes    atomic.Int64
	cancelAt int64
	cancel   context.CancelFunc
	mu       sync.Mutex
	reqs     []string
}

func (c *patchCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.URL.Path, "/cdproxy/uploads") {
		c.mu.Lock()
		c.reqs = append(c.reqs, req.Method)
		c.mu.Unlock()
	}
	if req.Method == "PATCH" && req.Body != nil {
		req.Body = &patchBody{ReadCloser: req.Body, c: c}
	}
	return c.base.RoundTrip(req)
}

func (c *patchCounter) count(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.reqs {
		if m == method {
			n++
		}
	}
	return n
}

type patchBody struct {
	io.ReadCloser
	c *patchCounter
}

func (b *patchBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	total := b.c.bytes.Add(int64(n))
	if b.c.cancel != nil && total >= b.c.cancelAt {
		b.c.cancel()
	}
	return n, err
}

// TestCLIResumableUpload interrupts a resumable upload and runs it again:
// the second run carries on from the server's offset and sends only the
// rest; the state file goes when the upload completes.
func TestCLIResumableUpload(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	u := newCLIUser(t, srv, "cli-tus")
	const size = 5<<20 + 4321
	data := randomBytes(size, 77)
	local := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	flags := []string{"upload", "--resumable-min", "1M", "--chunk-size", "1M"}
	pending := func() []string {
		m, _ := filepath.Glob(filepath.Join(u.vars[cli.EnvCacheDir], "uploads-*", "*.json"))
		return m
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := &patchCounter{base: http.DefaultTransport.(*http.Transport).Clone(), cancelAt: 5<<19 + 1000, cancel: cancel}
	u.transport = first
	r := u.runCtx(ctx, append(flags, local, "/")...)
	if r.code != cli.ExitInterrupted {
		t.Fatalf("interrupted upload: exit %d, want %d: %s", r.code, cli.ExitInterrupted, r.stderr)
	}
	if first.count("POST") != 1 || first.count("PATCH") < 3 {
		t.Fatalf("tus requests of the first run: %q", first.reqs)
	}
	files := pending()
	if len(files) != 1 {
		t.Fatalf("state files after the interruption: %q", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var state struct{ URL string }
	if err := json.Unmarshal(raw, &state); err != nil || !strings.HasPrefix(state.URL, srv.ContentURL()+"uploads/") {
		t.Fatalf("state file %s: %v", raw, err)
	}
	req, _ := http.NewRequest("HEAD", state.URL, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+u.token)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	offset, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if resp.StatusCode != http.StatusOK || err != nil || offset < 2<<20 || offset >= size {
		t.Fatalf("HEAD of the unfinished upload: %d, offset %q", resp.StatusCode, resp.Header.Get("Upload-Offset"))
	}

	second := &patchCounter{base: http.DefaultTransport.(*http.Transport).Clone()}
	u.transport = second
	u.mustRun(append(flags, local, "/")...)
	if n := second.bytes.Load(); n != size-offset {
		t.Errorf("the resumed upload sent %d bytes, want the %d after the server's offset %d", n, size-offset, offset)
	}
	if second.count("POST") != 0 {
		t.Errorf("the second run created a new upload: %q", second.reqs)
	}
	if files := pending(); len(files) != 0 {
		t.Errorf("state files after completion: %q", files)
	}
	n, err := u.sdk().ChildByName(context.Background(), cliRootID(t, u), "big.bin")
	if err != nil || n.ContentProperties.MD5 != md5hex(data) {
		t.Fatalf("uploaded node %+v, %v", n, err)
	}
	var got bytes.Buffer
	if _, err := u.sdk().Download(context.Background(), n.ID, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("downloaded %d bytes, %v", got.Len(), err)
	}
	// A third run skips the file (same size and MD5), with no tus traffic.
	third := &patchCounter{base: http.DefaultTransport.(*http.Transport).Clone()}
	u.transport = third
	u.mustRun(append(flags, local, "/")...)
	if len(third.reqs) != 0 {
		t.Errorf("an unchanged file was sent again: %q", third.reqs)
	}
	if help := u.mustRun("upload", "--help"); !strings.Contains(help, "--resumable-min") || !strings.Contains(help, "resumes when the same unchanged file") {
		t.Errorf("upload --help does not describe resumable uploads:\n%s", help)
	}
}

func cliRootID(t *testing.T, u *cliUser) string {
	t.Helper()
	r, err := u.sdk().Root(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}
