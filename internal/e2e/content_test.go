package e2e_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// This file drives the content API (uploads, overwrites, downloads,
// quota) with raw HTTP, reproducing on the wire what acd_cli (Python,
// requests + requests_toolbelt) sends: it cannot run here.

// acdc is a raw HTTP client for one user.
type acdc struct {
	t    *testing.T
	s    *drivetest.Server
	tok  string
	api  api
	root string
}

// newACDC creates user on s and finds its root as acd_cli's get_root_id
// does: GET nodes?filters=isRoot:true, data[0].
func newACDC(t *testing.T, s *drivetest.Server, user string) *acdc {
	t.Helper()
	tok := s.Token(user)
	c := &acdc{t: t, s: s, tok: tok, api: api{t, s.URL, tok}}
	var list acd.NodeList
	code, raw := c.api.do("GET", "/drive/v1/nodes?filters=isRoot:true", nil, &list)
	if code != http.StatusOK || len(list.Data) != 1 || !list.Data[0].IsRoot || list.Data[0].ID == "" {
		t.Fatalf("root lookup = %d %s", code, raw)
	}
	c.root = list.Data[0].ID
	return c
}

// node returns the status of GET nodes/{id} and the node.
func (c *acdc) node(id string) (int, acd.Node) {
	c.t.Helper()
	var n acd.Node
	code, raw := c.api.do("GET", "/drive/v1/nodes/"+id, nil, nil)
	if code == http.StatusOK {
		if err := json.Unmarshal(raw, &n); err != nil {
			c.t.Fatalf("GET nodes/%s: %v", id, err)
		}
	}
	return code, n
}

// mustNode returns a node that must exist.
func (c *acdc) mustNode(id string) acd.Node {
	c.t.Helper()
	code, n := c.node(id)
	if code != http.StatusOK {
		c.t.Fatalf("GET nodes/%s = %d", id, code)
	}
	return n
}

// children lists the AVAILABLE children of a folder (one page is enough
// for these tests).
func (c *acdc) children(id string) []*acd.Node {
	c.t.Helper()
	var list acd.NodeList
	code, raw := c.api.do("GET", "/drive/v1/nodes/"+id+"/children?limit=200", nil, &list)
	if code != http.StatusOK || list.NextToken != "" {
		c.t.Fatalf("list children of %s = %d %s", id, code, raw)
	}
	return list.Data
}

func (c *acdc) childNames(id string) []string {
	c.t.Helper()
	var names []string
	for _, n := range c.children(id) {
		names = append(names, n.Name)
	}
	slices.Sort(names)
	return names
}

// mkdir creates a folder as acd_cli's create_folder does (201 only).
func (c *acdc) mkdir(name string, parents ...string) acd.Node {
	c.t.Helper()
	body := map[string]any{"kind": "FOLDER", "name": name}
	if len(parents) > 0 {
		body["parents"] = parents
	}
	var n acd.Node
	code, raw := c.api.do("POST", "/drive/v1/nodes", body, &n)
	if code != http.StatusCreated {
		c.t.Fatalf("create folder %q = %d %s, want 201", name, code, raw)
	}
	return n
}

// testBoundary looks like the uuid4().hex acd_cli uses as a boundary.
const testBoundary = "3f1c6e0b9a8d47d5b2c1e0f9a8b7c6d5"

// fileMeta is the metadata JSON of an upload, as acd_cli's json.dumps
// writes it.
func fileMeta(name string, parents ...string) string {
	m := struct {
		Kind    string   `json:"kind"`
		Name    string   `json:"name"`
		Parents []string `json:"parents,omitempty"`
	}{"FILE", name, parents}
	b, _ := json.Marshal(m)
	return string(b)
}

// metaPart is the metadata part, written as acd_cli's _multipart_stream
// and requests_toolbelt's MultipartEncoder write it.
func metaPart(b, meta string) string {
	return "--" + b + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n" + meta + "\r\n"
}

// contentHead opens the content part.
func contentHead(b, filename, ctype string) string {
	return "--" + b + "\r\nContent-Disposition: form-data; name=\"content\"; filename=\"" + filename + "\"\r\n" +
		"Content-Type: " + ctype + "\r\n\r\n"
}

// closeDelim ends the content part and the body.
func closeDelim(b string) string { return "\r\n--" + b + "--\r\n" }

// streamJunk is what acd_cli's _multipart_stream writes after the close
// delimiter.
func streamJunk(b string) string { return "multipart/form-data; boundary=" + b }

// uploadBody is a whole upload body: the metadata part (if meta is not
// empty), the content part, the close delimiter and an epilogue.
func uploadBody(b, meta, filename, ctype string, content []byte, epilogue string) []byte {
	var buf bytes.Buffer
	if meta != "" {
		buf.WriteString(metaPart(b, meta))
	}
	buf.WriteString(contentHead(b, filename, ctype))
	buf.Write(content)
	buf.WriteString(closeDelim(b))
	buf.WriteString(epilogue)
	return buf.Bytes()
}

// send makes a request with body. chunked streams the body through an
// io.Pipe in 1000-byte writes, so the request has no Content-Length and
// goes out with Transfer-Encoding: chunked, like a Python generator body.
func (c *acdc) send(method, path, ctype string, body []byte, chunked bool) (int, []byte) {
	c.t.Helper()
	resp := c.sendResp(method, path, ctype, body, chunked)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return resp.StatusCode, raw
}

func (c *acdc) sendResp(method, path, ctype string, body []byte, chunked bool) *http.Response {
	c.t.Helper()
	var req *http.Request
	var err error
	var pr *io.PipeReader
	if chunked {
		var pw *io.PipeWriter
		pr, pw = io.Pipe()
		go func() {
			for rest := body; len(rest) > 0; {
				n := min(len(rest), 1000)
				if _, err := pw.Write(rest[:n]); err != nil {
					return
				}
				rest = rest[n:]
			}
			pw.Close()
		}()
		req, err = http.NewRequest(method, c.s.URL+path, pr)
		if err == nil {
			req.ContentLength = -1
			req.TransferEncoding = []string{"chunked"}
		}
	} else {
		req, err = http.NewRequest(method, c.s.URL+path, bytes.NewReader(body))
	}
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+c.tok)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if pr != nil {
		pr.CloseWithError(errors.New("request done")) // unblock the writer if the server stopped reading
	}
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// get makes a GET or HEAD request with extra headers.
func (c *acdc) get(method, path string, hdr map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.s.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tok)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return resp, raw
}

// mpType is the Content-Type of a multipart body with boundary b.
func mpType(b string) string { return "multipart/form-data; boundary=" + b }

// streamUpload uploads content exactly as acd_cli's upload_stream does:
// chunked, metadata then content, junk after the close delimiter.
func (c *acdc) streamUpload(query, name, parent string, content []byte) (int, []byte) {
	c.t.Helper()
	body := uploadBody(testBoundary, fileMeta(name, parent), "foo", "application/octet-stream", content, streamJunk(testBoundary))
	return c.send("POST", "/cdproxy/nodes"+query, mpType(testBoundary), body, true)
}

// putFile uploads with suppress=deduplication and wants 201.
func (c *acdc) putFile(name, parent string, content []byte) acd.Node {
	c.t.Helper()
	code, raw := c.streamUpload("?suppress=deduplication", name, parent, content)
	if code != http.StatusCreated {
		c.t.Fatalf("upload %q = %d %s, want 201", name, code, raw)
	}
	var n acd.Node
	if err := json.Unmarshal(raw, &n); err != nil {
		c.t.Fatal(err)
	}
	return n
}

// decodeNode decodes a node reply.
func decodeNode(t *testing.T, raw []byte) acd.Node {
	t.Helper()
	var n acd.Node
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatalf("decode node %q: %v", raw, err)
	}
	return n
}

// checkFile checks a FILE node's content properties and its download.
func (c *acdc) checkFile(n acd.Node, name string, content []byte) {
	c.t.Helper()
	if n.Kind != "FILE" || n.Name != name || n.Status != "AVAILABLE" || n.ContentProperties == nil {
		c.t.Fatalf("node = %+v, want AVAILABLE FILE %q", n, name)
	}
	if cp := n.ContentProperties; cp.Size != int64(len(content)) || cp.MD5 != md5hex(content) {
		c.t.Errorf("%q: size %d md5 %s, want %d %s", name, cp.Size, cp.MD5, len(content), md5hex(content))
	}
	resp, got := c.get("GET", "/cdproxy/nodes/"+n.ID+"/content", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, content) {
		c.t.Errorf("download %q = %d, %d bytes (md5 %s), want 200 with md5 %s", name, resp.StatusCode, len(got), md5hex(got), md5hex(content))
	}
}

// errorBody decodes an ACD error reply.
func errorBody(t *testing.T, raw []byte) acd.Error {
	t.Helper()
	var e acd.Error
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", raw, err)
	}
	return e
}

// blobFiles counts the blobs in the server's blob store, uploads in
// progress excluded.
func blobFiles(t *testing.T, s *drivetest.Server) int {
	t.Helper()
	return s.BlobCount()
}

// tmpFiles names the uploads in progress (blobs/tmp on a local blob
// directory).
func tmpFiles(t *testing.T, s *drivetest.Server) []string {
	t.Helper()
	return s.PendingUploads()
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitTmpEmpty waits until no upload is in progress and gives the server
// a moment to finish what it does after the upload.
func waitTmpEmpty(t *testing.T, s *drivetest.Server) {
	t.Helper()
	waitFor(t, "blobs/tmp to be empty", func() bool { return len(tmpFiles(t, s)) == 0 })
	time.Sleep(200 * time.Millisecond)
	if f := tmpFiles(t, s); len(f) != 0 {
		t.Errorf("blobs/tmp not empty: %v", f)
	}
}

func TestACDCLIMultipart(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})

	t.Run("UploadStreamChunkedWithJunk", func(t *testing.T) {
		c := newACDC(t, s, "mp-stream")
		for _, size := range []int{1, 999, 1000, 1001, 70 << 10, 300 << 10} {
			data := randomBytes(size, uint64(size)+1)
			name := fmt.Sprintf("stream-%d.bin", size)
			// Content part named "filename" as upload_file does, sent
			// chunked with the junk upload_stream adds.
			body := uploadBody(testBoundary, fileMeta(name, c.root), "filename", "application/octet-stream", data, streamJunk(testBoundary))
			code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary), body, true)
			if code != http.StatusCreated {
				t.Fatalf("upload %d bytes = %d %s, want 201", size, code, raw)
			}
			n := decodeNode(t, raw)
			c.checkFile(n, name, data)
			if !slices.Equal(n.Parents, []string{c.root}) {
				t.Errorf("parents = %v, want [%s]", n.Parents, c.root)
			}
		}
		// Content that looks like a boundary but is no delimiter line is
		// data.
		tricky := []byte("--" + testBoundary + "x\r\nline\r\n--" + testBoundary + "x\r\n--" + testBoundary + "-")
		n := c.putFile("tricky.txt", c.root, tricky)
		c.checkFile(n, "tricky.txt", tricky)
	})

	t.Run("ControlCharactersInFilename", func(t *testing.T) {
		c := newACDC(t, s, "mp-ctl")
		data := []byte("control characters in the part header")
		fn := "a\x01b\x1fc\x7fd\"e\\f.txt"
		body := uploadBody(testBoundary, fileMeta("real name.txt", c.root), fn, "application/octet-stream", data, "")
		code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary), body, true)
		if code != http.StatusCreated {
			t.Fatalf("upload = %d %s, want 201", code, raw)
		}
		n := decodeNode(t, raw)
		c.checkFile(n, "real name.txt", data)
		if n.ContentProperties.ContentType != "text/plain" {
			t.Errorf("contentType = %q, want text/plain from the metadata name", n.ContentProperties.ContentType)
		}
		// Same with a Content-Length.
		body = uploadBody(testBoundary, fileMeta("second.txt", c.root), fn, "application/octet-stream", []byte("2"), "")
		if code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary), body, false); code != http.StatusCreated {
			t.Errorf("upload with Content-Length = %d %s, want 201", code, raw)
		}
	})

	t.Run("ContentBeforeMetadata", func(t *testing.T) {
		c := newACDC(t, s, "mp-order")
		before := blobFiles(t, s)
		var buf bytes.Buffer
		buf.WriteString(contentHead(testBoundary, "filename", "application/octet-stream"))
		buf.WriteString("the content comes first")
		buf.WriteString("\r\n" + metaPart(testBoundary, fileMeta("late.txt", c.root)))
		buf.WriteString("--" + testBoundary + "--\r\n")
		for _, chunked := range []bool{false, true} {
			code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary), buf.Bytes(), chunked)
			if code != http.StatusBadRequest {
				t.Fatalf("content before metadata (chunked %v) = %d %s, want 400", chunked, code, raw)
			}
			if e := errorBody(t, raw); !strings.Contains(e.Message, "metadata") || e.Logref == "" {
				t.Errorf("error body %+v does not name the metadata problem", e)
			}
		}
		if names := c.childNames(c.root); len(names) != 0 {
			t.Errorf("root has %v after refused uploads", names)
		}
		waitTmpEmpty(t, s)
		if after := blobFiles(t, s); after != before {
			t.Errorf("blob files %d -> %d after refused uploads", before, after)
		}
	})

	t.Run("MissingBoundary", func(t *testing.T) {
		c := newACDC(t, s, "mp-boundary")
		body := uploadBody(testBoundary, fileMeta("x.txt", c.root), "filename", "text/plain", []byte("x"), "")
		for _, ct := range []string{"multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; charset=utf-8", ""} {
			code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", ct, body, false)
			if code != http.StatusBadRequest {
				t.Errorf("Content-Type %q = %d %s, want 400", ct, code, raw)
				continue
			}
			if e := errorBody(t, raw); !strings.Contains(strings.ToLower(e.Message), "content-type") && !strings.Contains(e.Message, "boundary") {
				t.Errorf("Content-Type %q: message %q names neither Content-Type nor boundary", ct, e.Message)
			}
		}
		if names := c.childNames(c.root); len(names) != 0 {
			t.Errorf("root has %v", names)
		}
	})

	t.Run("ZeroByteCreateFile", func(t *testing.T) {
		// acd_cli's create_file: MultipartEncoder (Content-Length known),
		// a quote_plus'd basename as filename, the guessed MIME type.
		c := newACDC(t, s, "mp-empty")
		body := uploadBody(testBoundary, fileMeta("empty file.txt", c.root), "empty+file.txt", "text/plain", nil, "")
		code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary), body, false)
		if code != http.StatusCreated {
			t.Fatalf("create_file = %d %s, want 201", code, raw)
		}
		n := decodeNode(t, raw)
		c.checkFile(n, "empty file.txt", nil)
		if n.ContentProperties.MD5 != "d41d8cd98f00b204e9800998ecf8427e" || n.ContentProperties.Size != 0 {
			t.Errorf("empty file: %+v", n.ContentProperties)
		}
		// Read back through GET too.
		if got := c.mustNode(n.ID); got.ContentProperties == nil || got.ContentProperties.MD5 != "d41d8cd98f00b204e9800998ecf8427e" {
			t.Errorf("GET empty file = %+v", got.ContentProperties)
		}
		// Parents omitted: the file goes to the root.
		body = uploadBody(testBoundary, `{"kind": "FILE", "name": "rootless.txt"}`, "rootless.txt", "text/plain", nil, "")
		code, raw = c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary), body, false)
		if code != http.StatusCreated {
			t.Fatalf("upload without parents = %d %s", code, raw)
		}
		if n := decodeNode(t, raw); !slices.Equal(n.Parents, []string{c.root}) {
			t.Errorf("upload without parents: parents %v, want the root", n.Parents)
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		c := newACDC(t, s, "mp-overwrite")
		f := c.putFile("over.txt", c.root, []byte("first version"))
		// overwrite_stream: chunked, content part only, junk at the end.
		data := randomBytes(100<<10, 42)
		body := uploadBody(testBoundary, "", "foo", "application/octet-stream", data, streamJunk(testBoundary))
		code, raw := c.send("PUT", "/cdproxy/nodes/"+f.ID+"/content", mpType(testBoundary), body, true)
		if code != http.StatusOK {
			t.Fatalf("overwrite_stream = %d %s, want 200", code, raw)
		}
		n := decodeNode(t, raw)
		c.checkFile(n, "over.txt", data)
		if n.ContentProperties.Version != 2 || n.Version <= f.Version || n.ContentProperties.ContentType != "text/plain" {
			t.Errorf("after overwrite: version %d, content version %d, type %q", n.Version, n.ContentProperties.Version, n.ContentProperties.ContentType)
		}
		// clear_file: filename ' ', empty content, with a Content-Length.
		body = uploadBody(testBoundary, "", " ", "application/octet-stream", nil, "")
		code, raw = c.send("PUT", "/cdproxy/nodes/"+f.ID+"/content?suppress=deduplication", mpType(testBoundary), body, false)
		if code != http.StatusOK {
			t.Fatalf("clear_file = %d %s, want 200", code, raw)
		}
		n = decodeNode(t, raw)
		c.checkFile(n, "over.txt", nil)
		if n.ContentProperties.Version != 3 {
			t.Errorf("content version after clear = %d, want 3", n.ContentProperties.Version)
		}
		// overwrite_file: MultipartEncoder, quote_plus'd basename.
		body = uploadBody(testBoundary, "", "over.txt", "text/plain", []byte("third"), "")
		if code, raw := c.send("PUT", "/cdproxy/nodes/"+f.ID+"/content?suppress=deduplication", mpType(testBoundary), body, false); code != http.StatusOK {
			t.Fatalf("overwrite_file = %d %s, want 200", code, raw)
		}
		c.checkFile(c.mustNode(f.ID), "over.txt", []byte("third"))
	})
}

// brokenUpload sends the request head and then body (chunked), waits until
// the server has started storing the content, and cuts the body off: with
// viaConn it closes a raw TCP connection without the last chunk; otherwise
// it fails the io.Pipe the request body reads from, so net/http aborts the
// request.
func (c *acdc) brokenUpload(body []byte, viaConn bool) {
	c.t.Helper()
	t := c.t
	path := "/cdproxy/nodes?suppress=deduplication"
	if viaConn {
		u, _ := url.Parse(c.s.URL)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		head := "POST " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nAuthorization: Bearer " + c.tok +
			"\r\nContent-Type: " + mpType(testBoundary) + "\r\nTransfer-Encoding: chunked\r\n\r\n"
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 4096)
			if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", n, rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		waitFor(t, "the server to start storing the upload", func() bool { return len(tmpFiles(t, c.s)) > 0 })
		conn.Close()
	} else {
		pr, pw := io.Pipe()
		req, err := http.NewRequest("POST", c.s.URL+path, pr)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+c.tok)
		req.Header.Set("Content-Type", mpType(testBoundary))
		done := make(chan error, 1)
		go func() {
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				err = fmt.Errorf("got a response: %s", resp.Status)
			}
			done <- err
		}()
		if _, err := pw.Write(body); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the server to start storing the upload", func() bool { return len(tmpFiles(t, c.s)) > 0 })
		pw.CloseWithError(errors.New("client gave up"))
		select {
		case err := <-done:
			t.Logf("broken request: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("broken request did not return")
		}
	}
	waitTmpEmpty(t, c.s)
}

// lastCheckpoint returns the checkpoint after the latest change.
func (c *acdc) lastCheckpoint() string {
	c.t.Helper()
	sets, _ := c.changes(`{}`)
	if len(sets) == 0 {
		c.t.Fatal("no change sets")
	}
	return sets[len(sets)-1].Checkpoint
}

func TestBrokenOffUpload(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	data := randomBytes(200<<10, 99)
	for _, tc := range []struct {
		name string
		cut  func(b string) []byte // the bytes sent before the cut
	}{
		{"MidContent", func(b string) []byte {
			return []byte(metaPart(b, fileMeta("broken.bin")) + contentHead(b, "filename", "application/octet-stream") + string(data[:len(data)/2]))
		}},
		{"AfterLastByte", func(b string) []byte {
			return []byte(metaPart(b, fileMeta("broken.bin")) + contentHead(b, "filename", "application/octet-stream") + string(data))
		}},
		{"InsideCloseDelimiter", func(b string) []byte {
			return []byte(metaPart(b, fileMeta("broken.bin")) + contentHead(b, "filename", "application/octet-stream") + string(data) + "\r\n--" + b)
		}},
	} {
		for _, viaConn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/conn=%v", tc.name, viaConn), func(t *testing.T) {
				user := strings.ToLower(fmt.Sprintf("broken-%s-%v", tc.name, viaConn))
				c := newACDC(t, s, user)
				cp := c.lastCheckpoint()
				waitTmpEmpty(t, s)
				before := blobFiles(t, s)

				c.brokenUpload(tc.cut(testBoundary), viaConn)

				if names := c.childNames(c.root); len(names) != 0 {
					t.Errorf("root lists %v after a broken-off upload", names)
				}
				var list acd.NodeList
				c.api.do("GET", "/drive/v1/nodes?filters=name:broken.bin", nil, &list)
				if list.Count != 0 {
					t.Errorf("name lookup finds %d nodes", list.Count)
				}
				sets, ended := c.changes(`{"checkpoint":"` + cp + `","includePurged":"true"}`)
				if !ended || len(sets) != 1 || len(sets[0].Nodes) != 0 || sets[0].Checkpoint != cp {
					t.Errorf("changes since the broken upload = %+v, want one empty set at the old checkpoint", sets)
				}
				if after := blobFiles(t, s); after != before {
					t.Errorf("blob files %d -> %d after a broken-off upload", before, after)
				}
				// The same body, completed, is accepted: the cut alone made
				// the difference.
				full := uploadBody(testBoundary, fileMeta("broken.bin"), "filename", "application/octet-stream", data, streamJunk(testBoundary))
				code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary), full, true)
				if code != http.StatusCreated {
					t.Fatalf("complete upload = %d %s", code, raw)
				}
				c.checkFile(decodeNode(t, raw), "broken.bin", data)
			})
		}
	}

	// A complete HTTP body (Content-Length met, or the last chunk sent)
	// whose multipart body ends before the close delimiter: the
	// connection stays up, so only the multipart reader can tell.
	for _, tc := range []struct {
		name string
		tail string
	}{{"NoCloseDelimiter", ""}, {"HalfCloseDelimiter", "\r\n--" + testBoundary}, {"CRLFOnly", "\r\n"}} {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("CompleteHTTP/%s/chunked=%v", tc.name, chunked), func(t *testing.T) {
				c := newACDC(t, s, strings.ToLower(fmt.Sprintf("incomplete-%s-%v", tc.name, chunked)))
				cp := c.lastCheckpoint()
				waitTmpEmpty(t, s)
				before := blobFiles(t, s)
				body := metaPart(testBoundary, fileMeta("incomplete.bin")) + contentHead(testBoundary, "filename", "application/octet-stream") +
					string(data) + tc.tail
				code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary), []byte(body), chunked)
				if code != http.StatusBadRequest {
					t.Errorf("body without its close delimiter = %d %s, want 400", code, raw)
				}
				waitTmpEmpty(t, s)
				if names := c.childNames(c.root); len(names) != 0 {
					t.Errorf("root lists %v after an incomplete body", names)
				}
				if sets, _ := c.changes(`{"checkpoint":"` + cp + `"}`); len(sets) != 1 || len(sets[0].Nodes) != 0 {
					t.Errorf("changes after an incomplete body = %+v", sets)
				}
				if after := blobFiles(t, s); after != before {
					t.Errorf("blob files %d -> %d after an incomplete body", before, after)
				}
				// An overwrite that ends early leaves the old content.
				f := c.putFile("kept.txt", c.root, []byte("old content"))
				over := contentHead(testBoundary, "foo", "application/octet-stream") + "new content" + tc.tail
				code, raw = c.send("PUT", "/cdproxy/nodes/"+f.ID+"/content", mpType(testBoundary), []byte(over), chunked)
				if code != http.StatusBadRequest {
					t.Errorf("overwrite without its close delimiter = %d %s, want 400", code, raw)
				}
				c.checkFile(c.mustNode(f.ID), "kept.txt", []byte("old content"))
			})
		}
	}

	t.Run("ShortContentLength", func(t *testing.T) {
		// A body that promises more bytes than it sends.
		c := newACDC(t, s, "broken-length")
		cp := c.lastCheckpoint()
		waitTmpEmpty(t, s)
		before := blobFiles(t, s)
		full := uploadBody(testBoundary, fileMeta("short.bin"), "filename", "application/octet-stream", data, "")
		u, _ := url.Parse(s.URL)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /cdproxy/nodes?suppress=deduplication HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			u.Host, c.tok, mpType(testBoundary), len(full))
		conn.Write(full[:len(full)-len(closeDelim(testBoundary))])
		waitFor(t, "the server to start storing the upload", func() bool { return len(tmpFiles(t, s)) > 0 })
		conn.Close()
		waitTmpEmpty(t, s)
		if names := c.childNames(c.root); len(names) != 0 {
			t.Errorf("root lists %v after a short body", names)
		}
		if sets, _ := c.changes(`{"checkpoint":"` + cp + `"}`); len(sets) != 1 || len(sets[0].Nodes) != 0 {
			t.Errorf("changes after a short body = %+v", sets)
		}
		if after := blobFiles(t, s); after != before {
			t.Errorf("blob files %d -> %d after a short body", before, after)
		}
	})
}

func TestDedupAndLocalID(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newACDC(t, s, "dedup")
	data := []byte("the same bytes twice")
	first := c.putFile("one.txt", c.root, data)

	// upload_file with --dedup: no suppress parameter.
	code, raw := c.streamUpload("", "two.txt", c.root, data)
	if code != http.StatusConflict {
		t.Fatalf("duplicate content without suppress = %d %s, want 409", code, raw)
	}
	e := errorBody(t, raw)
	if e.Info == nil || e.Info.NodeID != first.ID || !strings.Contains(e.Message, first.ID) {
		t.Errorf("409 body = %s, want info.nodeId %s", raw, first.ID)
	}
	if slices.Contains(c.childNames(c.root), "two.txt") {
		t.Error("refused duplicate was created")
	}
	// Different content is no duplicate.
	if code, raw := c.streamUpload("", "three.txt", c.root, []byte("other bytes")); code != http.StatusCreated {
		t.Errorf("new content without suppress = %d %s, want 201", code, raw)
	}
	// suppress=deduplication lets it through.
	if code, raw := c.streamUpload("?suppress=deduplication", "two.txt", c.root, data); code != http.StatusCreated {
		t.Errorf("duplicate with suppress = %d %s, want 201", code, raw)
	}
	// Empty files never dedup.
	for _, name := range []string{"empty1", "empty2", "empty3"} {
		body := uploadBody(testBoundary, fileMeta(name, c.root), name, "application/octet-stream", nil, "")
		if code, raw := c.send("POST", "/cdproxy/nodes", mpType(testBoundary), body, false); code != http.StatusCreated {
			t.Errorf("empty %s without suppress = %d %s, want 201", name, code, raw)
		}
	}
	// A trashed copy does not count.
	if code, _ := c.api.do("PUT", "/drive/v1/trash/"+first.ID, nil, nil); code != http.StatusOK {
		t.Fatal("trash")
	}
	dup := c.putFile("dup.bin", c.root, []byte("trash dedup"))
	c.api.do("PUT", "/drive/v1/trash/"+dup.ID, nil, nil)
	if code, raw := c.streamUpload("", "dup2.bin", c.root, []byte("trash dedup")); code != http.StatusCreated {
		t.Errorf("content equal to a trashed file = %d %s, want 201", code, raw)
	}

	// localId: the second use is refused, whatever the content.
	code, raw = c.streamUpload("?suppress=deduplication&localId=client-guid-1", "local1.txt", c.root, []byte("l1"))
	if code != http.StatusCreated {
		t.Fatalf("first localId = %d %s, want 201", code, raw)
	}
	l1 := decodeNode(t, raw)
	code, raw = c.streamUpload("?suppress=deduplication&localId=client-guid-1", "local2.txt", c.root, []byte("l2"))
	if code != http.StatusConflict {
		t.Errorf("reused localId = %d %s, want 409", code, raw)
	} else if e := errorBody(t, raw); e.Info == nil || e.Info.NodeID != l1.ID {
		t.Errorf("reused localId body = %s, want info.nodeId %s", raw, l1.ID)
	}
	if slices.Contains(c.childNames(c.root), "local2.txt") {
		t.Error("upload with a reused localId was created")
	}
	if code, raw := c.streamUpload("?suppress=deduplication&localId=client-guid-2", "local2.txt", c.root, []byte("l2")); code != http.StatusCreated {
		t.Errorf("fresh localId = %d %s, want 201", code, raw)
	}
	// localIds belong to their user.
	other := newACDC(t, s, "dedup-other")
	if code, raw := other.streamUpload("?suppress=deduplication&localId=client-guid-1", "local1.txt", other.root, []byte("l1")); code != http.StatusCreated {
		t.Errorf("another user's localId = %d %s, want 201", code, raw)
	}
	// So does dedup.
	if code, raw := other.streamUpload("", "mine.txt", other.root, []byte("other bytes")); code != http.StatusCreated {
		t.Errorf("content another user has = %d %s, want 201", code, raw)
	}
}

func TestDownloads(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newACDC(t, s, "downloads")
	data := []byte("0123456789")
	f := c.putFile("report 2024.txt", c.root, data)
	path := "/cdproxy/nodes/" + f.ID + "/content"

	t.Run("Disposition", func(t *testing.T) {
		resp, body := c.get("GET", path+"?download=true", nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("download=true = %d %q", resp.StatusCode, body)
		}
		typ, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if err != nil || typ != "attachment" || params["filename"] != "report 2024.txt" {
			t.Errorf("Content-Disposition %q = %s %v %v", resp.Header.Get("Content-Disposition"), typ, params, err)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type = %q", ct)
		}
		resp, _ = c.get("GET", path, nil)
		if d := resp.Header.Get("Content-Disposition"); d != "" {
			t.Errorf("Content-Disposition without download=true: %q", d)
		}
		u := c.putFile("ünï €.txt", c.root, []byte("unicode name"))
		resp, _ = c.get("GET", "/cdproxy/nodes/"+u.ID+"/content?download=true", nil)
		if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err != nil || params["filename"] != "ünï €.txt" {
			t.Errorf("unicode Content-Disposition %q: %v %v", resp.Header.Get("Content-Disposition"), params, err)
		}
	})

	t.Run("ETag", func(t *testing.T) {
		resp, _ := c.get("GET", path, nil)
		tag := resp.Header.Get("ETag")
		if tag != `"`+md5hex(data)+`"` {
			t.Fatalf("ETag = %q, want the quoted md5", tag)
		}
		resp, body := c.get("GET", path, map[string]string{"If-None-Match": tag})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match = %d with %d bytes, want 304", resp.StatusCode, len(body))
		}
		resp, _ = c.get("GET", path, map[string]string{"If-None-Match": `"0000", ` + tag})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match list = %d, want 304", resp.StatusCode)
		}
		resp, body = c.get("GET", path, map[string]string{"If-None-Match": `"d41d8cd98f00b204e9800998ecf8427e"`})
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Errorf("If-None-Match other tag = %d, want 200", resp.StatusCode)
		}
	})

	t.Run("Head", func(t *testing.T) {
		resp, body := c.get("HEAD", path, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Length") != "10" || len(body) != 0 {
			t.Errorf("HEAD = %d, Content-Length %q, %d body bytes", resp.StatusCode, resp.Header.Get("Content-Length"), len(body))
		}
		resp, body = c.get("HEAD", path, map[string]string{"Range": "bytes=2-4"})
		if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Length") != "3" || len(body) != 0 {
			t.Errorf("ranged HEAD = %d, Content-Length %q, %d body bytes", resp.StatusCode, resp.Header.Get("Content-Length"), len(body))
		}
	})

	t.Run("FolderContent", func(t *testing.T) {
		d := c.mkdir("a folder", c.root)
		for _, id := range []string{d.ID, c.root} {
			for _, m := range []string{"GET", "HEAD"} {
				resp, body := c.get(m, "/cdproxy/nodes/"+id+"/content", map[string]string{"Range": "bytes=0-10"})
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("%s content of folder = %d %s, want 400", m, resp.StatusCode, body)
				}
			}
		}
		if resp, _ := c.get("GET", "/cdproxy/nodes/AAAAAAAAAAAAAAAAAAAAAA/content", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("content of a missing node = %d, want 404", resp.StatusCode)
		}
	})
}

// usageOf reads account/usage.
func (c *acdc) usage() acd.Usage {
	c.t.Helper()
	var u acd.Usage
	code, raw := c.api.do("GET", "/drive/v1/account/usage", nil, &u)
	if code != http.StatusOK {
		c.t.Fatalf("usage = %d %s", code, raw)
	}
	for _, k := range []string{`"doc"`, `"other"`, `"photo"`, `"video"`, `"total"`, `"billable"`, `"lastCalculated"`} {
		if !bytes.Contains(raw, []byte(k)) {
			c.t.Errorf("usage lacks %s: %s", k, raw)
		}
	}
	return u
}

func (c *acdc) quota() acd.Quota {
	c.t.Helper()
	var q acd.Quota
	code, raw := c.api.do("GET", "/drive/v1/account/quota", nil, &q)
	if code != http.StatusOK || q.LastCalculated == "" {
		c.t.Fatalf("quota = %d %s", code, raw)
	}
	if _, err := time.Parse(time.RFC3339, q.LastCalculated); err != nil {
		c.t.Errorf("lastCalculated %q: %v", q.LastCalculated, err)
	}
	return q
}

func usedBytes(u acd.Usage) int64 {
	return u.Photo.Total.Bytes + u.Video.Total.Bytes + u.Doc.Total.Bytes + u.Other.Total.Bytes
}

func TestQuotaAndUsage(t *testing.T) {
	t.Run("Usage", func(t *testing.T) {
		s := drivetest.New(t, drivetest.Options{})
		c := newACDC(t, s, "usage")
		if u := c.usage(); usedBytes(u) != 0 {
			t.Errorf("fresh usage = %+v", u)
		}
		type file struct {
			name, ctype, wantType string
			size                  int
		}
		files := []file{
			{"photo.jpg", "application/octet-stream", "image/jpeg", 1234}, // upload_stream
			{"clip.mp4", "video/mp4", "video/mp4", 4321},                  // upload_file: guessed type
			{"paper.pdf", "application/octet-stream", "application/pdf", 777},
			{"blob.bin", "application/octet-stream", "application/octet-stream", 55},
			{"second.jpg", "image/jpeg", "image/jpeg", 100},
		}
		for i, f := range files {
			body := uploadBody(testBoundary, fileMeta(f.name, c.root), "filename", f.ctype, randomBytes(f.size, uint64(1000+i)), "")
			code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary), body, i%2 == 0)
			if code != http.StatusCreated {
				t.Fatalf("upload %s = %d %s", f.name, code, raw)
			}
			if n := decodeNode(t, raw); n.ContentProperties.ContentType != f.wantType || n.ContentProperties.Extension != strings.TrimPrefix(filepath.Ext(f.name), ".") {
				t.Errorf("%s: contentType %q extension %q, want %q", f.name, n.ContentProperties.ContentType, n.ContentProperties.Extension, f.wantType)
			}
		}
		c.mkdir("folders do not count", c.root)
		u := c.usage()
		want := map[string]acd.UsageCount{
			"photo": {Bytes: 1334, Count: 2},
			"video": {Bytes: 4321, Count: 1},
			"doc":   {Bytes: 777, Count: 1},
			"other": {Bytes: 55, Count: 1},
		}
		got := map[string]acd.CategoryUsage{"photo": u.Photo, "video": u.Video, "doc": u.Doc, "other": u.Other}
		for k, w := range want {
			if got[k].Total != w || got[k].Billable != w {
				t.Errorf("usage %s = %+v, want total and billable %+v", k, got[k], w)
			}
		}
		q := c.quota()
		if q.Quota <= 0 || q.Available != q.Quota-usedBytes(u) {
			t.Errorf("quota = %+v with %d bytes used", q, usedBytes(u))
		}
	})

	t.Run("Exceeded", func(t *testing.T) {
		s := drivetest.New(t, drivetest.Options{DefaultQuota: 1000})
		c := newACDC(t, s, "quota")
		if q := c.quota(); q.Quota != 1000 || q.Available != 1000 {
			t.Errorf("fresh quota = %+v, want 1000/1000", q)
		}
		before := blobFiles(t, s)
		for _, chunked := range []bool{true, false} {
			code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary),
				uploadBody(testBoundary, fileMeta("big.bin", c.root), "filename", "application/octet-stream", randomBytes(1500, 5), streamJunk(testBoundary)), chunked)
			if code != http.StatusForbidden {
				t.Fatalf("1500 bytes over a 1000 quota (chunked %v) = %d %s, want 403", chunked, code, raw)
			}
			if e := errorBody(t, raw); !strings.Contains(strings.ToLower(e.Message), "quota") {
				t.Errorf("quota error message = %q", e.Message)
			}
		}
		waitTmpEmpty(t, s)
		if names := c.childNames(c.root); len(names) != 0 {
			t.Errorf("root lists %v after refused uploads", names)
		}
		if after := blobFiles(t, s); after != before {
			t.Errorf("blob files %d -> %d after refused uploads", before, after)
		}

		c.putFile("800.bin", c.root, randomBytes(800, 8))
		if q := c.quota(); q.Quota != 1000 || q.Available != 200 {
			t.Errorf("quota after 800 bytes = %+v, want 1000/200", q)
		}
		before = blobFiles(t, s)
		code, raw := c.streamUpload("?suppress=deduplication", "300.bin", c.root, randomBytes(300, 3))
		if code != http.StatusForbidden {
			t.Fatalf("300 more bytes = %d %s, want 403", code, raw)
		}
		waitTmpEmpty(t, s)
		if names := c.childNames(c.root); !slices.Equal(names, []string{"800.bin"}) {
			t.Errorf("root lists %v", names)
		}
		if after := blobFiles(t, s); after != before {
			t.Errorf("blob files %d -> %d after a refused upload", before, after)
		}
		// What fits still goes in, exactly up to the quota.
		c.putFile("200.bin", c.root, randomBytes(200, 2))
		if q := c.quota(); q.Available != 0 {
			t.Errorf("quota when full = %+v", q)
		}
		if code, raw := c.streamUpload("?suppress=deduplication", "1.bin", c.root, []byte{1}); code != http.StatusForbidden {
			t.Errorf("one byte over = %d %s, want 403", code, raw)
		}
		// An empty file takes no space.
		body := uploadBody(testBoundary, fileMeta("zero.txt", c.root), "zero.txt", "text/plain", nil, "")
		if code, raw := c.send("POST", "/cdproxy/nodes?suppress=deduplication", mpType(testBoundary), body, false); code != http.StatusCreated {
			t.Errorf("empty file on a full drive = %d %s, want 201", code, raw)
		}
	})
}
