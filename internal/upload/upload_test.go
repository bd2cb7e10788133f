package upload_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/testbytes"
)

// tus is a plain net/http tus 1.0 client, as the protocol describes it.
type tus struct {
	t    *testing.T
	base string // server URL
	tok  string
}

func newTus(t *testing.T, s *drivetest.Server, user string) tus {
	return tus{t: t, base: s.URL, tok: s.Token(user)}
}

func (c tus) do(method, u string, hdr map[string]string, body []byte) *http.Response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	if !strings.HasPrefix(u, "http") {
		u = c.base + u
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if c.tok != "" {
		req.Header.Set("Authorization", "Bearer "+c.tok)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return resp
}

func metadata(kv map[string]string) string {
	var parts []string
	for k, v := range kv {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// create makes an upload of length bytes and returns the response.
func (c tus) create(length int64, md map[string]string) *http.Response {
	c.t.Helper()
	return c.do("POST", "/cdproxy/uploads/", map[string]string{
		"Upload-Length": strconv.FormatInt(length, 10), "Upload-Metadata": metadata(md)}, nil)
}

// mustCreate creates an upload and returns its URL.
func (c tus) mustCreate(length int64, md map[string]string) string {
	c.t.Helper()
	resp := c.create(length, md)
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("create = %d %s", resp.StatusCode, body(resp))
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, c.base+"/cdproxy/uploads/") {
		c.t.Fatalf("Location = %q", loc)
	}
	if resp.Header.Get("Upload-Expires") == "" {
		c.t.Error("no Upload-Expires on creation")
	}
	return loc
}

func (c tus) patch(loc string, off int64, chunk []byte, hdr map[string]string) *http.Response {
	c.t.Helper()
	h := map[string]string{"Upload-Offset": strconv.FormatInt(off, 10), "Content-Type": "application/offset+octet-stream"}
	for k, v := range hdr {
		h[k] = v
	}
	return c.do("PATCH", loc, h, chunk)
}

func (c tus) offset(loc string) int64 {
	c.t.Helper()
	resp := c.do("HEAD", loc, nil, nil)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("HEAD = %d", resp.StatusCode)
	}
	n, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		c.t.Fatalf("Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return n
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// wantError checks an ACD error reply.
func wantError(t *testing.T, resp *http.Response, status int, code string) acd.Error {
	t.Helper()
	raw := body(resp)
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d: %s", resp.StatusCode, status, raw)
	}
	var e acd.Error
	if err := json.Unmarshal([]byte(raw), &e); err != nil || e.Logref == "" || e.Message == "" {
		t.Fatalf("not an ACD error body (%v): %q", err, raw)
	}
	if code != "" && e.Code != code {
		t.Fatalf("code = %q, want %q: %s", e.Code, code, raw)
	}
	return e
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// node fetches a node's metadata and content.
func (c tus) node(id string) (acd.Node, []byte) {
	c.t.Helper()
	resp := c.do("GET", "/drive/v1/nodes/"+id, nil, nil)
	if resp.StatusCode != 200 {
		c.t.Fatalf("GET node = %d %s", resp.StatusCode, body(resp))
	}
	var n acd.Node
	if err := json.NewDecoder(resp.Body).Decode(&n); err != nil {
		c.t.Fatal(err)
	}
	resp = c.do("GET", "/cdproxy/nodes/"+id+"/content", nil, nil)
	if resp.StatusCode != 200 {
		c.t.Fatalf("GET content = %d", resp.StatusCode)
	}
	b, _ := io.ReadAll(resp.Body)
	return n, b
}

// multipartUpload uploads through POST /cdproxy/nodes.
func (c tus) multipartUpload(name, content string) acd.Node {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("metadata", `{"name":"`+name+`","kind":"FILE"}`)
	fw, _ := w.CreateFormFile("content", name)
	_, _ = fw.Write([]byte(content))
	w.Close()
	resp := c.do("POST", "/cdproxy/nodes?suppress=deduplication", map[string]string{"Content-Type": w.FormDataContentType()}, b.Bytes())
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("multipart upload = %d %s", resp.StatusCode, body(resp))
	}
	var n acd.Node
	_ = json.NewDecoder(resp.Body).Decode(&n)
	return n
}

// sendAll uploads data from offset off in chunks of size n and returns
// the final response.
func (c tus) sendAll(loc string, data []byte, off int64, n int) *http.Response {
	c.t.Helper()
	var resp *http.Response
	for off < int64(len(data)) {
		end := min(off+int64(n), int64(len(data)))
		resp = c.patch(loc, off, data[off:end], nil)
		if resp.StatusCode != http.StatusNoContent {
			return resp
		}
		got, _ := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
		if got != end {
			c.t.Fatalf("Upload-Offset = %d after PATCH to %d", got, end)
		}
		off = end
	}
	return resp
}

// resume sends the rest of data from the offset HEAD reports, as a tus
// client does after a cut connection. The cut request may still reach
// the server after the HEAD (and store its bytes), so a 409 offset
// mismatch sends the client back to HEAD, as tus clients do.
func (c tus) resume(loc string, data []byte, n int) *http.Response {
	c.t.Helper()
	var resp *http.Response
	for range 3 {
		// 409: the offset moved; 423: the cut request reached the server
		// late and took the upload over. A tus client asks HEAD again.
		resp = c.sendAll(loc, data, c.offset(loc), n)
		if resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusLocked {
			break
		}
	}
	return resp
}

func TestOptions(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := tus{t: t, base: s.URL} // no credentials: discovery is public
	resp := c.do("OPTIONS", "/cdproxy/uploads/", nil, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("OPTIONS = %d", resp.StatusCode)
	}
	for _, ext := range []string{"creation", "creation-with-upload", "termination", "checksum", "expiration"} {
		if !strings.Contains(","+resp.Header.Get("Tus-Extension")+",", ","+ext+",") {
			t.Errorf("Tus-Extension %q lacks %s", resp.Header.Get("Tus-Extension"), ext)
		}
	}
	if resp.Header.Get("Tus-Version") != "1.0.0" || resp.Header.Get("Tus-Max-Size") == "" ||
		!strings.Contains(resp.Header.Get("Tus-Checksum-Algorithm"), "sha1") {
		t.Errorf("OPTIONS headers %v", resp.Header)
	}
	// Everything else needs a token.
	wantError(t, c.create(1, map[string]string{"name": "x"}), http.StatusUnauthorized, "")
}

func TestChunksCreateNode(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newTus(t, s, "alice")
	data := testbytes.Random(300_000, 1)
	loc := c.mustCreate(int64(len(data)), map[string]string{"name": "big.bin", "md5": md5hex(data),
		"mtime": "2026-12-07T11:00:00.123Z", "contentType": "application/x-test"})
	if got := c.offset(loc); got != 0 {
		t.Fatalf("offset of a new upload = %d", got)
	}
	resp := c.sendAll(loc, data, 0, 100_000)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("last PATCH = %d %s", resp.StatusCode, body(resp))
	}
	id := resp.Header.Get("Clouddrive-Node-Id")
	if id == "" || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		t.Fatalf("last PATCH headers %v", resp.Header)
	}
	n, got := c.node(id)
	if n.Name != "big.bin" || n.Kind != "FILE" || n.ContentProperties == nil || n.ContentProperties.Size != int64(len(data)) ||
		n.ContentProperties.MD5 != md5hex(data) || n.ContentProperties.ContentType != "application/x-test" {
		t.Fatalf("node %+v %+v", n, n.ContentProperties)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
	if mt := n.ContentProperties.ModTime; !mt.Equal(time.Date(2026, 12, 7, 11, 0, 0, 123e6, time.UTC)) {
		t.Errorf("contentProperties.mtime = %v, want the mtime metadata", mt)
	}
	// The completed upload answers HEAD with its node, so a client whose
	// last reply was lost learns it.
	head := c.do("HEAD", loc, nil, nil)
	if head.StatusCode != 200 || head.Header.Get("Clouddrive-Node-Id") != id ||
		head.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) || head.Header.Get("Upload-Expires") == "" {
		t.Fatalf("HEAD of completed upload = %d %v", head.StatusCode, head.Header)
	}
	// Its staged bytes are gone.
	if left := staged(t, s); len(left) != 0 {
		t.Fatalf("staging keeps %v", left)
	}
}

// staged lists the staged upload files of a server on the embedded
// stores (records excluded).
func staged(t *testing.T, s *drivetest.Server) []string {
	t.Helper()
	if s.BlobDir() == "" {
		return nil // staged in the bucket: TestReplicas looks there
	}
	es, err := os.ReadDir(filepath.Join(s.DataDir, "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if !strings.HasSuffix(e.Name(), ".upload.json") {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestCreationWithUploadAndEmpty(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newTus(t, s, "alice")
	resp := c.do("POST", "/cdproxy/uploads/", map[string]string{"Upload-Length": "5", "Upload-Metadata": metadata(map[string]string{"name": "one.txt"}),
		"Content-Type": "application/offset+octet-stream"}, []byte("hello"))
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Clouddrive-Node-Id") == "" {
		t.Fatalf("creation-with-upload = %d %v %s", resp.StatusCode, resp.Header, body(resp))
	}
	if _, got := c.node(resp.Header.Get("Clouddrive-Node-Id")); string(got) != "hello" {
		t.Fatalf("content %q", got)
	}
	resp = c.create(0, map[string]string{"name": "empty.txt"})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Clouddrive-Node-Id") == "" {
		t.Fatalf("empty upload = %d %v %s", resp.StatusCode, resp.Header, body(resp))
	}
}

// TestCollectionWithoutSlash: POST /cdproxy/uploads (no trailing slash, as
// some tus clients write the endpoint) creates an upload like
// /cdproxy/uploads/, and a HEAD answers the client's metadata keys, not the
// server's owner key.
func TestCollectionWithoutSlash(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newTus(t, s, "alice")
	resp := c.do("POST", "/cdproxy/uploads", map[string]string{"Upload-Length": "5",
		"Upload-Metadata": metadata(map[string]string{"name": "noslash.txt"})}, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(loc, s.URL+"/cdproxy/uploads/") {
		t.Fatalf("POST /cdproxy/uploads = %d, Location %q: %s", resp.StatusCode, loc, body(resp))
	}
	resp = c.do("HEAD", loc, nil, nil)
	md := resp.Header.Get("Upload-Metadata")
	if resp.StatusCode != http.StatusOK || !strings.Contains(md, "name ") || strings.Contains(md, "owner") {
		t.Fatalf("HEAD = %d, Upload-Metadata %q", resp.StatusCode, md)
	}
	resp = c.do("PATCH", loc, map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, []byte("hello"))
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Clouddrive-Node-Id") == "" {
		t.Fatalf("PATCH = %d %v %s", resp.StatusCode, resp.Header, body(resp))
	}
}

// cutPatch sends a PATCH that declares all of data but sends only the
// first n bytes, then drops the connection.
func cutPatch(t *testing.T, c tus, loc string, off int64, data []byte, n int) {
	t.Helper()
	u, _ := url.Parse(loc)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\n"+
		"Content-Type: application/offset+octet-stream\r\nUpload-Offset: %d\r\nContent-Length: %d\r\n\r\n",
		u.Path, u.Host, c.tok, off, len(data))
	if _, err := conn.Write(data[:n]); err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

func TestResumeAfterDroppedConnection(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newTus(t, s, "alice")
	data := testbytes.Random(200_000, 2)
	loc := c.mustCreate(int64(len(data)), map[string]string{"name": "resumed.bin", "md5": md5hex(data)})
	cutPatch(t, c, loc, 0, data, 120_000)
	// HEAD interrupts the cut request if it still runs and reports what
	// was stored; the client resumes from there.
	if off := c.offset(loc); off < 0 || off > 120_000 {
		t.Fatalf("offset after cut = %d", off)
	}
	resp := c.resume(loc, data, 64_000)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Clouddrive-Node-Id") == "" {
		t.Fatalf("resume = %d %s", resp.StatusCode, body(resp))
	}
	if _, got := c.node(resp.Header.Get("Clouddrive-Node-Id")); !bytes.Equal(got, data) {
		t.Fatal("resumed content differs")
	}
	// A PATCH at a wrong offset is a tus 409 in the API's error format.
	loc2 := c.mustCreate(10, map[string]string{"name": "o.bin"})
	wantError(t, c.patch(loc2, 3, []byte("abc"), nil), http.StatusConflict, "MISMATCHED_OFFSET")
}

func TestRestartMidUpload(t *testing.T) {
	dir := t.TempDir()
	s := drivetest.New(t, drivetest.Options{DataDir: dir})
	c := newTus(t, s, "alice")
	data := testbytes.Random(150_000, 3)
	loc := c.mustCreate(int64(len(data)), map[string]string{"name": "restart.bin"})
	if resp := c.patch(loc, 0, data[:70_000], nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH = %d", resp.StatusCode)
	}
	s.Close()
	s2 := drivetest.New(t, drivetest.Options{DataDir: dir})
	c.base = s2.URL
	loc = s2.URL + strings.TrimPrefix(loc, s.URL)
	off := c.offset(loc)
	if off != 70_000 {
		t.Fatalf("offset after restart = %d", off)
	}
	resp := c.sendAll(loc, data, off, 50_000)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Clouddrive-Node-Id") == "" {
		t.Fatalf("finish after restart = %d %s", resp.StatusCode, body(resp))
	}
	if _, got := c.node(resp.Header.Get("Clouddrive-Node-Id")); !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
}
