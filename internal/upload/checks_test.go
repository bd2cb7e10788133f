package upload_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

func TestOtherUserGets404(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	a, b := newTus(t, s, "alice"), newTus(t, s, "bob")
	loc := a.mustCreate(10, map[string]string{"name": "mine.txt"})
	wantError(t, b.patch(loc, 0, []byte("0123456789"), nil), http.StatusNotFound, "UPLOAD_NOT_FOUND")
	wantError(t, b.do("DELETE", loc, nil, nil), http.StatusNotFound, "UPLOAD_NOT_FOUND")
	if resp := b.do("HEAD", loc, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("bob's HEAD = %d", resp.StatusCode)
	}
	// Nothing of bob's requests touched it.
	if got := a.offset(loc); got != 0 {
		t.Fatalf("offset = %d", got)
	}
	// A token without the write scope may not upload.
	ctx := context.Background()
	u, err := s.App.Nodes.EnsureUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := s.App.Tokens.Mint(ctx, u.ID, "reader", drive.ScopeReadAll, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := tus{t: t, base: s.URL, tok: ro}
	wantError(t, r.create(1, map[string]string{"name": "ro.txt"}), http.StatusForbidden, "")
	if resp := r.do("HEAD", loc, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("read-only HEAD = %d", resp.StatusCode)
	}
}

func TestChecksAtCreation(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{DefaultQuota: 1000})
	c := newTus(t, s, "alice")
	taken := c.multipartUpload("taken.txt", "abc")
	e := wantError(t, c.create(10, map[string]string{"name": "taken.txt"}), http.StatusConflict, "NAME_ALREADY_EXISTS")
	if e.Info == nil || e.Info.NodeID != taken.ID {
		t.Errorf("conflict info %+v", e.Info)
	}
	wantError(t, c.create(2000, map[string]string{"name": "huge.bin"}), http.StatusForbidden, "QUOTA_EXCEEDED")
	wantError(t, c.create(10, map[string]string{"name": "a/b"}), http.StatusBadRequest, "")
	wantError(t, c.create(10, map[string]string{}), http.StatusBadRequest, "")
	wantError(t, c.create(10, map[string]string{"name": "x", "parents": "AAAAAAAAAAAAAAAAAAAAAA"}), http.StatusNotFound, "")
	wantError(t, c.create(10, map[string]string{"name": "x", "md5": "nothex"}), http.StatusBadRequest, "")
	wantError(t, c.create(10, map[string]string{"name": "x", "mtime": "yesterday"}), http.StatusBadRequest, "")
	wantError(t, c.create(10, map[string]string{"nodeId": taken.ID, "name": "x"}), http.StatusBadRequest, "")
	wantError(t, c.do("POST", "/cdproxy/uploads/", map[string]string{"Upload-Length": "1", "Upload-Metadata": "name %%%"}, nil),
		http.StatusBadRequest, "")
	wantError(t, c.do("POST", "/cdproxy/uploads/", map[string]string{"Upload-Defer-Length": "1",
		"Upload-Metadata": metadata(map[string]string{"name": "d"})}, nil), http.StatusNotImplemented, "")
	// localId: one used by a node is refused before any byte.
	loc := c.mustCreate(3, map[string]string{"name": "l1.txt", "localId": "L1", "suppress": "deduplication"})
	if resp := c.patch(loc, 0, []byte("xyz"), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH = %d %s", resp.StatusCode, body(resp))
	}
	wantError(t, c.create(3, map[string]string{"name": "l2.txt", "localId": "L1"}), http.StatusConflict, "LOCAL_ID_ALREADY_USED")
	// Overwrite: nodeId must be a file of the caller's, and the new size
	// counts against the quota with the old content freed.
	wantError(t, c.create(998, map[string]string{"nodeId": taken.ID}), http.StatusForbidden, "QUOTA_EXCEEDED")
	wantError(t, c.create(3, map[string]string{"nodeId": "AAAAAAAAAAAAAAAAAAAAAA"}), http.StatusNotFound, "")
	loc = c.mustCreate(4, map[string]string{"nodeId": taken.ID})
	resp := c.patch(loc, 0, []byte("defg"), nil)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Clouddrive-Node-Id") != taken.ID {
		t.Fatalf("overwrite = %d %v %s", resp.StatusCode, resp.Header, body(resp))
	}
	if n, got := c.node(taken.ID); string(got) != "defg" || n.Version < 2 {
		t.Fatalf("overwritten node v%d %q", n.Version, got)
	}
}

func TestFailuresAtCompletion(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newTus(t, s, "alice")
	// The name was taken while the bytes were on their way.
	loc := c.mustCreate(5, map[string]string{"name": "race.txt"})
	c.multipartUpload("race.txt", "first")
	wantError(t, c.patch(loc, 0, []byte("later"), nil), http.StatusConflict, "NAME_ALREADY_EXISTS")
	if resp := c.do("HEAD", loc, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD of a failed upload = %d", resp.StatusCode)
	}
	// The md5 does not match the bytes: 400, no node, upload discarded.
	loc = c.mustCreate(5, map[string]string{"name": "md5.txt", "md5": md5hex([]byte("other"))})
	wantError(t, c.patch(loc, 0, []byte("bytes"), nil), http.StatusBadRequest, "MD5_MISMATCH")
	if resp := c.do("HEAD", loc, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD after md5 mismatch = %d", resp.StatusCode)
	}
	resp := c.do("GET", "/drive/v1/nodes?filters="+url.QueryEscape("name:md5.txt"), nil, nil)
	var list acd.NodeList
	_ = json.NewDecoder(resp.Body).Decode(&list)
	if len(list.Data) != 0 {
		t.Fatalf("md5 mismatch made a node: %+v", list.Data)
	}
	if left := staged(t, s); len(left) != 0 {
		t.Fatalf("staging keeps %v", left)
	}
}

func TestChecksum(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newTus(t, s, "alice")
	data := []byte("0123456789abcdefghij")
	loc := c.mustCreate(int64(len(data)), map[string]string{"name": "sum.txt"})
	sha := sha1.Sum(data[:10])
	good := "sha1 " + base64.StdEncoding.EncodeToString(sha[:])
	if resp := c.patch(loc, 0, data[:10], map[string]string{"Upload-Checksum": good}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH with good checksum = %d %s", resp.StatusCode, body(resp))
	}
	m := md5.Sum([]byte("not these bytes"))
	bad := "md5 " + base64.StdEncoding.EncodeToString(m[:])
	wantError(t, c.patch(loc, 10, data[10:], map[string]string{"Upload-Checksum": bad}), 460, "CHECKSUM_MISMATCH")
	if got := c.offset(loc); got != 10 {
		t.Fatalf("offset after checksum mismatch = %d, want 10 (nothing of that PATCH kept)", got)
	}
	wantError(t, c.patch(loc, 10, data[10:], map[string]string{"Upload-Checksum": "crc32 AAAA"}), http.StatusBadRequest, "")
	m = md5.Sum(data[10:])
	resp := c.patch(loc, 10, data[10:], map[string]string{"Upload-Checksum": "md5 " + base64.StdEncoding.EncodeToString(m[:])})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Clouddrive-Node-Id") == "" {
		t.Fatalf("PATCH with good md5 = %d %s", resp.StatusCode, body(resp))
	}
	if _, got := c.node(resp.Header.Get("Clouddrive-Node-Id")); !bytes.Equal(got, data) {
		t.Fatalf("content %q", got)
	}
}

func TestTermination(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newTus(t, s, "alice")
	loc := c.mustCreate(10, map[string]string{"name": "gone.txt"})
	c.patch(loc, 0, []byte("01234"), nil)
	if resp := c.do("DELETE", loc, nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", resp.StatusCode, body(resp))
	}
	wantError(t, c.patch(loc, 5, []byte("56789"), nil), http.StatusNotFound, "UPLOAD_NOT_FOUND")
	if left := staged(t, s); len(left) != 0 {
		t.Fatalf("staging keeps %v after termination", left)
	}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestExpiry(t *testing.T) {
	clk := &clock{t: time.Now()}
	s := drivetest.New(t, drivetest.Options{Now: clk.Now})
	c := tus{t: t, base: s.URL, tok: foreverToken(t, s, "alice")}
	stale := c.mustCreate(10, map[string]string{"name": "stale.txt"})
	c.patch(stale, 0, []byte("01234"), nil)
	doneResp := c.do("POST", "/cdproxy/uploads/", map[string]string{"Upload-Length": "2",
		"Upload-Metadata": metadata(map[string]string{"name": "done.txt"}), "Content-Type": "application/offset+octet-stream"}, []byte("ok"))
	if doneResp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d", doneResp.StatusCode)
	}
	done := doneResp.Header.Get("Location")
	exp, err := http.ParseTime(c.do("HEAD", stale, nil, nil).Header.Get("Upload-Expires"))
	if err != nil || exp.Sub(clk.Now()) < 23*time.Hour || exp.Sub(clk.Now()) > 25*time.Hour {
		t.Fatalf("Upload-Expires %v (%v)", exp, err)
	}
	clk.Add(12 * time.Hour)
	fresh := c.mustCreate(10, map[string]string{"name": "fresh.txt"})
	// A write keeps an upload alive.
	clk.Add(11 * time.Hour)
	c.patch(fresh, 0, []byte("01"), nil)
	clk.Add(2 * time.Hour) // stale and done are now 25 hours old, fresh's write 2
	want := 2
	if s.BlobDir() != "" {
		// A staged upload without its record (its server stopped between
		// the two), written a day ago by the test's clock.
		dir := filepath.Join(s.DataDir, "uploads")
		info := `{"ID":"orphan0000000000000000","Size":10,"MetaData":{}}`
		if os.WriteFile(filepath.Join(dir, "orphan0000000000000000.info"), []byte(info), 0o600) != nil ||
			os.WriteFile(filepath.Join(dir, "orphan0000000000000000"), []byte("01"), 0o600) != nil {
			t.Fatal("writing the orphan")
		}
		want++
	}
	if n, err := s.App.Uploads.Collect(context.Background()); err != nil || n != want {
		t.Fatalf("Collect = %d, %v; want %d", n, err, want)
	}
	for _, loc := range []string{stale, done} {
		if resp := c.do("HEAD", loc, nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("HEAD of expired %s = %d", loc, resp.StatusCode)
		}
	}
	if got := c.offset(fresh); got != 2 {
		t.Fatalf("fresh offset = %d", got)
	}
	// Only fresh's staged bytes and record are left.
	for _, name := range staged(t, s) {
		if !strings.HasPrefix(name, lastSegment(fresh)) {
			t.Errorf("staging keeps %s", name)
		}
	}
	// An upload past its expiry is 404 even before the collector ran.
	clk.Add(25 * time.Hour)
	if resp := c.do("HEAD", fresh, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD of expired upload = %d", resp.StatusCode)
	}
}

func lastSegment(loc string) string { return loc[strings.LastIndex(loc, "/")+1:] }

// foreverToken mints a token that outlives a clock moved by days.
func foreverToken(t *testing.T, s *drivetest.Server, user string) string {
	t.Helper()
	ctx := context.Background()
	u, err := s.App.Nodes.EnsureUser(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.App.Tokens.Mint(ctx, u.ID, "test", drive.ScopeReadAll+" "+drive.ScopeWrite, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestSettleAfterStop: a server that staged an upload's last byte and
// stopped before creating the node leaves the upload complete but
// unsettled; the client's next HEAD completes it and learns the node.
func TestSettleAfterStop(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{Stores: "embedded"})
	c := newTus(t, s, "alice")
	loc := c.mustCreate(5, map[string]string{"name": "late.txt"})
	if resp := c.patch(loc, 0, []byte("abc"), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH = %d", resp.StatusCode)
	}
	// The last two bytes reach the staging file, the node is never made.
	f, err := os.OpenFile(filepath.Join(s.DataDir, "uploads", lastSegment(loc)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("de")
	f.Close()
	head := c.do("HEAD", loc, nil, nil)
	id := head.Header.Get("Clouddrive-Node-Id")
	if head.StatusCode != http.StatusOK || id == "" || head.Header.Get("Upload-Offset") != "5" {
		t.Fatalf("HEAD = %d %v", head.StatusCode, head.Header)
	}
	if _, got := c.node(id); string(got) != "abcde" {
		t.Fatalf("content %q", got)
	}
	if again := c.do("HEAD", loc, nil, nil); again.Header.Get("Clouddrive-Node-Id") != id {
		t.Fatalf("second HEAD %v", again.Header)
	}
	if left := staged(t, s); len(left) != 0 {
		t.Fatalf("staging keeps %v", left)
	}
}
