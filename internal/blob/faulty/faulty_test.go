package faulty_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/blob/faulty"
	"github.com/clouddrive/clouddrive/internal/blob/localdir"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/nodes"
	"github.com/clouddrive/clouddrive/internal/testbytes"
)

// env is a real server whose node service writes through a faulty store.
type env struct {
	t     *testing.T
	s     *drivetest.Server
	f     *faulty.Store
	token string
	root  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := drivetest.New(t, drivetest.Options{})
	f := faulty.New(s.App.Blobs)
	s.App.Nodes.Blobs = f // before any request: the handlers use this service
	e := &env{t: t, s: s, f: f, token: s.Token("faulty")}
	var list acd.NodeList
	if st, raw := e.do("GET", "/drive/v1/nodes?filters=isRoot:true", nil, "", &list); st != http.StatusOK || len(list.Data) != 1 {
		t.Fatalf("root: %d %s", st, raw)
	}
	e.root = list.Data[0].ID
	return e
}

func (e *env) do(method, path string, body io.Reader, ctype string, out any) (int, []byte) {
	e.t.Helper()
	st, _, raw, err := e.doCtx(context.Background(), method, path, body, ctype, out)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return st, raw
}

func (e *env) doCtx(ctx context.Context, method, path string, body io.Reader, ctype string, out any) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, e.s.URL+path, body)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			return 0, nil, nil, fmt.Errorf("decode %q: %w", raw, err)
		}
	}
	return resp.StatusCode, resp.Header, raw, nil
}

const boundary = "faultyBoundary"

func body(name, parent string, content []byte) io.Reader {
	var b bytes.Buffer
	if name != "" {
		meta, _ := json.Marshal(acd.NewNode{Name: name, Kind: "FILE", Parents: []string{parent}})
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n%s\r\n", boundary, meta)
	}
	fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"content\"; filename=\"x\"\r\n\r\n", boundary)
	b.Write(content)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return &b
}

const mpType = "multipart/form-data; boundary=" + boundary

// upload posts a file and returns the status, headers and body.
func (e *env) upload(name string, data []byte) (int, http.Header, []byte) {
	e.t.Helper()
	st, h, raw, err := e.doCtx(context.Background(), "POST", "/cdproxy/nodes?suppress=deduplication", body(name, e.root, data), mpType, nil)
	if err != nil {
		e.t.Fatalf("upload %s: %v", name, err)
	}
	return st, h, raw
}

// clean checks that a failed write left nothing behind: no node named
// name, no change in the feed since checkpoint, no temporary file and no
// blob other than those in keep.
func (e *env) clean(name, checkpoint string, keep ...string) {
	e.t.Helper()
	var list acd.NodeList
	q := "/drive/v1/nodes?filters=" + strings.ReplaceAll("name:"+name, " ", "%20")
	if st, raw := e.do("GET", q, nil, "", &list); st != http.StatusOK {
		e.t.Fatalf("list: %d %s", st, raw)
	}
	if len(list.Data) != 0 {
		e.t.Errorf("node %q exists after a failed write: %+v", name, list.Data[0])
	}
	if checkpoint != "" {
		req := strings.NewReader(`{"checkpoint":"` + checkpoint + `"}`)
		st, raw := e.do("POST", "/drive/v1/changes", req, "", nil)
		if st != http.StatusOK || !bytes.Contains(raw, []byte(`"nodes":[]`)) {
			e.t.Errorf("changes since the failed write = %d %s, want no nodes", st, raw)
		}
	}
	tmp, err := os.ReadDir(filepath.Join(e.s.DataDir, "blobs", "tmp"))
	if err != nil {
		e.t.Fatal(err)
	}
	for _, de := range tmp {
		e.t.Errorf("temporary file %s left behind", de.Name())
	}
	es, err := e.s.App.Blobs.List(context.Background(), "", 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, b := range es {
		found := false
		for _, k := range keep {
			found = found || b.Key == k
		}
		if !found {
			e.t.Errorf("blob %s (%d bytes) stored by a failed write", b.Key, b.Size)
		}
	}
}

// checkpoint returns the current end of the changes feed.
func (e *env) checkpoint() string {
	e.t.Helper()
	st, raw := e.do("POST", "/drive/v1/changes", strings.NewReader("{}"), "", nil)
	if st != http.StatusOK {
		e.t.Fatalf("changes: %d %s", st, raw)
	}
	var cp string
	for _, line := range bytes.Split(raw, []byte("\n")) {
		var set acd.ChangeSet
		if json.Unmarshal(line, &set) == nil && set.Checkpoint != "" {
			cp = set.Checkpoint
		}
	}
	return cp
}

// errorBody checks that raw is an ACD error body with a logref.
func errorBody(t *testing.T, raw []byte) acd.Error {
	t.Helper()
	var e acd.Error
	if err := json.Unmarshal(raw, &e); err != nil || e.Logref == "" || e.Message == "" {
		t.Errorf("error body %q is not an ACD error with logref and message (%v)", raw, err)
	}
	return e
}

func TestDiskFullUpload(t *testing.T) {
	e := newEnv(t)
	cp := e.checkpoint()
	e.f.Set(faulty.Faults{PutErr: faulty.ErrDiskFull, PutAfter: 100 << 10})
	data := testbytes.Random(1<<20, 1)
	st, h, raw := e.upload("big.bin", data)
	if st != http.StatusServiceUnavailable {
		t.Fatalf("upload on a full disk = %d %s, want 503", st, raw)
	}
	if h.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	if eb := errorBody(t, raw); !strings.Contains(eb.Message, "full") {
		t.Errorf("message %q does not say the storage is full", eb.Message)
	}
	e.clean("big.bin", cp)

	// A file that fits still goes in; then the disk frees up.
	small := testbytes.Random(50<<10, 2)
	if st, _, raw := e.upload("small.bin", small); st != http.StatusCreated {
		t.Fatalf("upload under the limit = %d %s", st, raw)
	}
	e.f.Set(faulty.Faults{})
	var n acd.Node
	st, _, raw, err := e.doCtx(context.Background(), "POST", "/cdproxy/nodes?suppress=deduplication", body("big.bin", e.root, data), mpType, &n)
	if err != nil || st != http.StatusCreated {
		t.Fatalf("retry after the disk freed up = %d %s %v", st, raw, err)
	}
	if n.ContentProperties == nil || n.ContentProperties.MD5 != testbytes.MD5(data) {
		t.Errorf("retried upload content = %+v, want md5 %s", n.ContentProperties, testbytes.MD5(data))
	}
}

func TestDiskFullOverwrite(t *testing.T) {
	e := newEnv(t)
	old := testbytes.Random(10<<10, 3)
	var n acd.Node
	if st, raw := e.do("POST", "/cdproxy/nodes", body("f.bin", e.root, old), mpType, &n); st != http.StatusCreated {
		t.Fatalf("upload: %d %s", st, raw)
	}
	keep := blobKeys(t, e.s.App.Blobs)
	cp := e.checkpoint()
	e.f.Set(faulty.Faults{PutErr: faulty.ErrDiskFull, PutAfter: 64 << 10})
	st, raw := e.do("PUT", "/cdproxy/nodes/"+n.ID+"/content", body("", "", testbytes.Random(512<<10, 4)), mpType, nil)
	if st != http.StatusServiceUnavailable {
		t.Fatalf("overwrite on a full disk = %d %s, want 503", st, raw)
	}
	errorBody(t, raw)
	e.f.Set(faulty.Faults{})
	var got acd.Node
	if st, raw := e.do("GET", "/drive/v1/nodes/"+n.ID, nil, "", &got); st != http.StatusOK {
		t.Fatalf("get: %d %s", st, raw)
	}
	if got.Version != n.Version || got.ContentProperties.MD5 != testbytes.MD5(old) {
		t.Errorf("after a failed overwrite: version %d md5 %s, want %d %s", got.Version, got.ContentProperties.MD5, n.Version, testbytes.MD5(old))
	}
	st, raw = e.do("GET", "/cdproxy/nodes/"+n.ID+"/content", nil, "", nil)
	if st != http.StatusOK || !bytes.Equal(raw, old) {
		t.Errorf("download after a failed overwrite = %d, %d bytes; want the old %d bytes", st, len(raw), len(old))
	}
	e.clean("nothing-new", cp, keep...)
}

func TestWriteError(t *testing.T) {
	e := newEnv(t)
	cp := e.checkpoint()
	e.f.Set(faulty.Faults{PutErr: faulty.ErrIO, PutAfter: 1000})
	st, _, raw := e.upload("eio.bin", testbytes.Random(300<<10, 5))
	if st != http.StatusInternalServerError {
		t.Fatalf("upload with a disk I/O error = %d %s, want 500", st, raw)
	}
	if eb := errorBody(t, raw); eb.Message != "Internal failure" {
		t.Errorf("500 message = %q, want the generic one (details only in the log)", eb.Message)
	}
	e.clean("eio.bin", cp)

	// Through the service: the error keeps its cause for the log.
	ctx := principal(t, e.s, e.token)
	_, err := e.s.App.Nodes.Upload(ctx, nodes.NewNode{Name: "eio2.bin"}, bytes.NewReader(testbytes.Random(5000, 6)), nodes.UploadOptions{})
	if !errors.Is(err, faulty.ErrIO) || drive.KindOf(err) != drive.Internal {
		t.Errorf("Upload error = %v (kind %v), want ErrIO, internal", err, drive.KindOf(err))
	}
	e.clean("eio2.bin", cp)
}

// TestReadAndStatErrors: a failing read gives a clean 500 and a failing
// stat while committing an upload creates nothing.
func TestReadAndStatErrors(t *testing.T) {
	e := newEnv(t)
	data := testbytes.Random(20<<10, 7)
	var n acd.Node
	if st, raw := e.do("POST", "/cdproxy/nodes", body("r.bin", e.root, data), mpType, &n); st != http.StatusCreated {
		t.Fatalf("upload: %d %s", st, raw)
	}
	e.f.Set(faulty.Faults{OpenErr: faulty.ErrIO})
	st, raw := e.do("GET", "/cdproxy/nodes/"+n.ID+"/content", nil, "", nil)
	if st != http.StatusInternalServerError {
		t.Errorf("download with a read error = %d %s, want 500", st, raw)
	}
	errorBody(t, raw)

	cp := e.checkpoint()
	e.f.Set(faulty.Faults{StatErr: faulty.ErrIO})
	st, _, raw = e.upload("s.bin", testbytes.Random(1000, 8))
	if st != http.StatusInternalServerError {
		t.Errorf("upload with a stat error = %d %s, want 500", st, raw)
	}
	errorBody(t, raw)
	e.f.Set(faulty.Faults{})
	// The new blob was stored before the commit failed; it is garbage now
	// and left to the collector, but no node may point at it.
	var list acd.NodeList
	e.do("GET", "/drive/v1/nodes?filters=name:s.bin", nil, "", &list)
	if len(list.Data) != 0 {
		t.Errorf("node created although its commit failed: %+v", list.Data[0])
	}
	req := strings.NewReader(`{"checkpoint":"` + cp + `"}`)
	if st, raw := e.do("POST", "/drive/v1/changes", req, "", nil); !bytes.Contains(raw, []byte(`"nodes":[]`)) {
		t.Errorf("changes after the failed commit = %d %s", st, raw)
	}
}

// TestSlowDiskCancel: a client that gives up on a slow upload leaves
// nothing behind, and the service honours its context.
func TestSlowDiskCancel(t *testing.T) {
	e := newEnv(t)
	cp := e.checkpoint()
	e.f.Set(faulty.Faults{Delay: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, _, err := e.doCtx(ctx, "POST", "/cdproxy/nodes?suppress=deduplication", body("slow.bin", e.root, testbytes.Random(4<<20, 9)), mpType, nil)
	if err == nil {
		t.Fatalf("upload on a slow disk finished within its 300 ms deadline")
	}
	gaveUp := time.Since(start)
	// The server notices the closed connection and stops the Put. It
	// notices only when its body reads reach the broken connection, after
	// draining what the kernel had buffered through the slow disk, which
	// on a loaded 2-core machine has taken over 10 s.
	waitEmpty(t, filepath.Join(e.s.DataDir, "blobs", "tmp"), 60*time.Second)
	e.clean("slow.bin", cp)
	t.Logf("client gave up after %v; the server cleaned up %v later", gaveUp.Round(time.Millisecond), (time.Since(start) - gaveUp).Round(time.Millisecond))

	// Through the service, with a deadline.
	pctx, pcancel := context.WithTimeout(principal(t, e.s, e.token), 100*time.Millisecond)
	defer pcancel()
	_, err = e.s.App.Nodes.Upload(pctx, nodes.NewNode{Name: "slow2.bin"}, bytes.NewReader(testbytes.Random(2<<20, 10)), nodes.UploadOptions{})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Upload past its deadline = %v, want context.DeadlineExceeded", err)
	}
	e.clean("slow2.bin", cp)

	// Slow but patient: the upload completes intact.
	e.f.Set(faulty.Faults{Delay: time.Millisecond})
	data := testbytes.Random(1<<20, 11)
	var n acd.Node
	st, _, raw, err := e.doCtx(context.Background(), "POST", "/cdproxy/nodes", body("patient.bin", e.root, data), mpType, &n)
	if err != nil || st != http.StatusCreated || n.ContentProperties == nil || n.ContentProperties.MD5 != testbytes.MD5(data) {
		t.Fatalf("slow upload = %d %s %v", st, raw, err)
	}
}

// TestStoreFaults checks the wrapper itself over a real localdir store.
func TestStoreFaults(t *testing.T) {
	dir := t.TempDir()
	inner, err := localdir.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := faulty.New(inner)
	ctx := context.Background()
	f.Set(faulty.Faults{PutErr: faulty.ErrDiskFull, PutAfter: 10})
	if _, err := f.Put(ctx, strings.NewReader("0123456789"), nil); err != nil {
		t.Errorf("Put of exactly PutAfter bytes = %v, want success", err)
	}
	_, err = f.Put(ctx, strings.NewReader("0123456789A"), nil)
	if !errors.Is(err, faulty.ErrDiskFull) || drive.KindOf(err) != drive.Unavailable {
		t.Errorf("Put past PutAfter = %v (kind %v), want ErrDiskFull, unavailable", err, drive.KindOf(err))
	}
	if a, fl := f.Puts(); a != 2 || fl != 1 {
		t.Errorf("Puts() = %d, %d; want 2, 1", a, fl)
	}
	f.Set(faulty.Faults{DeleteErr: faulty.ErrIO})
	if err := f.Delete(ctx, strings.Repeat("0", 64)); !errors.Is(err, faulty.ErrIO) {
		t.Errorf("Delete = %v, want ErrIO", err)
	}
	waitEmpty(t, filepath.Join(dir, "tmp"), time.Second)
}

func blobKeys(t *testing.T, s blob.Store) []string {
	t.Helper()
	es, err := s.List(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range es {
		keys = append(keys, e.Key)
	}
	return keys
}

func waitEmpty(t *testing.T, dir string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		des, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(des) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still holds %d files after %v", dir, len(des), limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func principal(t *testing.T, s *drivetest.Server, token string) context.Context {
	t.Helper()
	p, err := s.App.Tokens.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return drive.NewContext(context.Background(), p)
}
