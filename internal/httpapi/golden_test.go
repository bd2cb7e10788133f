package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drivetest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current responses")

// fixedClock starts at a fixed instant and advances 1 ms per call, so every
// timestamp in a response depends only on the order of calls.
func fixedClock() func() time.Time {
	start := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	var mu sync.Mutex
	var n int64
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := start.Add(time.Duration(n) * time.Millisecond)
		n++
		return t
	}
}

// counterIDs returns 22-character node-id-shaped ids: id00000000000000000001, ...
func counterIDs() func() string {
	var mu sync.Mutex
	var n int
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("id%020d", n)
	}
}

var (
	logrefRE    = regexp.MustCompile(`"logref":"[^"]*"`)
	tempLinkRE  = regexp.MustCompile(`"tempLink":"[^"]*"`)
	nextTokenRE = regexp.MustCompile(`"nextToken":"[^"]*"`)
)

// normalise replaces the parts of a body that differ between runs.
func normalise(raw []byte, serverURL string) []byte {
	b := bytes.TrimSpace(raw)
	b = logrefRE.ReplaceAll(b, []byte(`"logref":"LOGREF"`))
	b = tempLinkRE.ReplaceAll(b, []byte(`"tempLink":"TEMPLINK"`))
	b = nextTokenRE.ReplaceAll(b, []byte(`"nextToken":"NEXTTOKEN"`))
	return bytes.ReplaceAll(b, []byte(serverURL), []byte("http://SERVER"))
}

// goldenHarness talks to one server and checks bodies against
// testdata/<name>.golden.json.
type goldenHarness struct {
	t     *testing.T
	s     *drivetest.Server
	token string
	hc    *http.Client
	used  map[string]bool
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request. body is nil, a string, []byte or a value encoded
// as JSON; JSON bodies go without a Content-Type, as ACD clients send them.
func (h *goldenHarness) do(method, path string, body any, hdr http.Header) reply {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = h.s.URL + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if _, ok := hdr["Authorization"]; !ok && h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	// Reading to EOF also waits for the handler to return, so the server
	// makes no clock call after the next request has started.
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

// call sends a request, checks its status and compares its JSON body with
// the golden file name. It returns the raw (not normalised) body.
func (h *goldenHarness) call(name string, want int, method, path string, body any, hdr http.Header) []byte {
	h.t.Helper()
	r := h.do(method, path, body, hdr)
	if r.status != want {
		h.t.Errorf("%s: %s %s: status %d, want %d; body %s", name, method, path, r.status, want, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		h.t.Errorf("%s: Content-Type %q, want application/json", name, ct)
	}
	h.golden(name, r.body)
	return r.body
}

// golden compares one JSON document with testdata/<name>.golden.json, or
// rewrites that file under -update.
func (h *goldenHarness) golden(name string, raw []byte) {
	h.t.Helper()
	if h.used[name] {
		h.t.Fatalf("golden name %q used twice", name)
	}
	h.used[name] = true
	if bytes.Contains(raw, []byte(":null")) {
		h.t.Errorf("%s: body contains null (lists must be [], absent fields omitted): %s", name, raw)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, normalise(raw, h.s.URL), "", "  "); err != nil {
		h.t.Errorf("%s: body is not JSON: %v\n%s", name, err, raw)
		return
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			h.t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		h.t.Errorf("%s: %v (run go test ./internal/httpapi -update)", name, err)
		return
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		h.t.Errorf("%s: body differs from %s (-want +got):\n%s", name, path, diff)
	}
}

// changes posts to changes, checks the stream framing and compares each
// line with <name>_NN.golden.json.
func (h *goldenHarness) changes(name string, body any) []map[string]any {
	h.t.Helper()
	r := h.do("POST", "/drive/v1/changes", body, nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("%s: status %d, want 200; body %s", name, r.status, r.body)
	}
	text := string(r.body)
	// As ACD: every change set ends with '\n', the end object does not.
	if strings.HasSuffix(text, "\n") {
		h.t.Errorf("%s: stream ends with a newline after the end object: %q", name, text)
	}
	lines := strings.Split(text, "\n")
	if last := lines[len(lines)-1]; last != `{"end":true}` {
		h.t.Errorf("%s: last line = %q, want {\"end\":true}", name, last)
	}
	if len(lines) < 2 {
		h.t.Fatalf("%s: %d lines, want change sets then the end line: %q", name, len(lines), text)
	}
	var sets []map[string]any
	for i, line := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			h.t.Errorf("%s: line %d is not one JSON object: %v: %q", name, i+1, err, line)
			continue
		}
		if i < len(lines)-1 {
			for _, k := range []string{"checkpoint", "nodes", "reset", "statusCode"} {
				if _, ok := obj[k]; !ok {
					h.t.Errorf("%s: line %d has no %q: %s", name, i+1, k, line)
				}
			}
			sets = append(sets, obj)
		}
		h.golden(fmt.Sprintf("%s_%02d", name, i+1), []byte(line))
	}
	// One golden file per line: a stream that grew or shrank must fail.
	extra := filepath.Join("testdata", fmt.Sprintf("%s_%02d.golden.json", name, len(lines)+1))
	if _, err := os.Stat(extra); err == nil && !*update {
		h.t.Errorf("%s: the stream has %d lines but %s exists", name, len(lines), extra)
	}
	return sets
}

func (h *goldenHarness) decode(raw []byte, v any) {
	h.t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		h.t.Fatalf("decode %s: %v", raw, err)
	}
}

func (h *goldenHarness) id(raw []byte) string {
	h.t.Helper()
	var n struct {
		ID string `json:"id"`
	}
	h.decode(raw, &n)
	if n.ID == "" {
		h.t.Fatalf("no id in %s", raw)
	}
	return n.ID
}

// multipartBody builds an upload body: the metadata field first (if any),
// then the content file part, as go-acd and acd_cli send it.
func multipartBody(t *testing.T, metadata any, filename string, content []byte) ([]byte, http.Header) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if metadata != nil {
		j, err := json.Marshal(metadata)
		if err != nil {
			t.Fatal(err)
		}
		if err := mw.WriteField("metadata", string(j)); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("content", filename)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), http.Header{"Content-Type": {mw.FormDataContentType()}}
}

// TestGolden drives every route once, in a fixed order, against a server
// with a fixed clock and counter ids, and compares each JSON response with
// testdata/<name>.golden.json. Refresh with go test ./internal/httpapi -update
// and review the diff as an API change.
func TestGolden(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{Now: fixedClock(), NewID: counterIDs()})
	h := &goldenHarness{t: t, s: s, token: s.Token("alice"), used: map[string]bool{},
		// No transparent gzip: the changes stream is checked byte for byte.
		hc: &http.Client{Transport: &http.Transport{DisableCompression: true}}}
	const owner = "clouddrive-admin" // the admin token's app id: createdBy and properties owner

	// Account.
	h.call("account_endpoint", 200, "GET", "/drive/v1/account/endpoint", nil, nil)
	h.call("account_info", 200, "GET", "/drive/v1/account/info", nil, nil)
	h.call("account_quota", 200, "GET", "/drive/v1/account/quota", nil, nil)
	h.call("account_usage", 200, "GET", "/drive/v1/account/usage", nil, nil)

	// Root lookup, as acd_cli does it.
	raw := h.call("root", 200, "GET", "/drive/v1/nodes?filters="+url.QueryEscape("isRoot:true"), nil, nil)
	var rootList struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	h.decode(raw, &rootList)
	if len(rootList.Data) != 1 {
		t.Fatalf("root lookup: %d nodes, want 1", len(rootList.Data))
	}
	root := rootList.Data[0].ID

	// Folders.
	docs := h.id(h.call("create_folder", 201, "POST", "/drive/v1/nodes",
		map[string]any{"name": "Docs", "kind": "FOLDER", "parents": []string{root}}, nil))
	archive := h.id(h.call("create_folder_archive", 201, "POST", "/drive/v1/nodes",
		map[string]any{"name": "Archive", "kind": "FOLDER", "parents": []string{root}, "labels": []string{"old"}, "description": "old things"}, nil))

	// Uploads.
	hello := []byte("hello, world\n")
	// mtime in another zone and below a millisecond: stored in UTC, to the millisecond.
	body, hdr := multipartBody(t, map[string]any{"name": "hello.txt", "kind": "FILE", "parents": []string{docs},
		"mtime": "2025-06-30T08:15:00.2509+02:00"}, "hello.txt", hello)
	file := h.id(h.call("upload", 201, "POST", "/cdproxy/nodes", body, hdr))
	photoBytes := []byte("\xff\xd8\xff\xe0 not really a jpeg")
	body, hdr = multipartBody(t, map[string]any{"name": "photo.jpg", "kind": "FILE", "parents": []string{docs}, "description": "a photo"}, "photo.jpg", photoBytes)
	photo := h.id(h.call("upload_photo", 201, "POST", "/cdproxy/nodes?suppress=deduplication", body, hdr))
	h.call("account_usage_after_upload", 200, "GET", "/drive/v1/account/usage", nil, nil)

	// Get, with and without a temp link.
	h.call("get_node", 200, "GET", "/drive/v1/nodes/"+file, nil, nil)
	raw = h.call("get_node_templink", 200, "GET", "/drive/v1/nodes/"+file+"?tempLink=true", nil, nil)
	var withLink struct {
		TempLink string `json:"tempLink"`
	}
	h.decode(raw, &withLink)
	if !strings.HasPrefix(withLink.TempLink, s.URL+"/cdproxy/templink/") {
		t.Errorf("tempLink = %q, want a link under %s/cdproxy/templink/", withLink.TempLink, s.URL)
	} else {
		noAuth := http.Header{"Authorization": nil}
		if r := h.do("GET", withLink.TempLink, nil, noAuth); r.status != 200 || !bytes.Equal(r.body, hello) {
			t.Errorf("GET tempLink without auth: %d %q, want 200 %q", r.status, r.body, hello)
		}
		if r := h.do("HEAD", withLink.TempLink, nil, noAuth); r.status != 200 || r.header.Get("Content-Length") != strconv.Itoa(len(hello)) {
			t.Errorf("HEAD tempLink: %d Content-Length %q, want 200 %d", r.status, r.header.Get("Content-Length"), len(hello))
		}
	}

	// Listing with filters, sort and limit=1: a page with nextToken, then
	// the last page without the key.
	q := url.Values{"filters": {"kind:FILE"}, "sort": {`["name ASC"]`}, "limit": {"1"}}
	raw = h.call("list_nodes_page1", 200, "GET", "/drive/v1/nodes?"+q.Encode(), nil, nil)
	var page struct {
		NextToken *string `json:"nextToken"`
	}
	h.decode(raw, &page)
	if page.NextToken == nil || *page.NextToken == "" {
		t.Fatalf("list_nodes_page1: no nextToken in %s", raw)
	}
	q.Set("startToken", *page.NextToken)
	raw = h.call("list_nodes_page2", 200, "GET", "/drive/v1/nodes?"+q.Encode(), nil, nil)
	if bytes.Contains(raw, []byte(`"nextToken"`)) {
		t.Errorf("list_nodes_page2: the last page has a nextToken key: %s", raw)
	}
	h.call("list_children", 200, "GET", "/drive/v1/nodes/"+docs+"/children", nil, nil)

	// Metadata updates and parent changes.
	h.call("patch_node", 200, "PATCH", "/drive/v1/nodes/"+file,
		map[string]any{"name": "greeting.txt", "description": "a greeting", "labels": []string{"important", "text"}}, nil)
	h.call("add_child", 200, "PUT", "/drive/v1/nodes/"+archive+"/children/"+file, nil, nil)
	h.call("remove_child", 200, "DELETE", "/drive/v1/nodes/"+docs+"/children/"+file, nil, nil)
	h.call("move_node", 200, "POST", "/drive/v1/nodes/"+docs+"/children",
		map[string]any{"fromParent": archive, "childId": file}, nil)

	// Properties.
	props := "/drive/v1/nodes/" + file + "/properties/" + owner
	h.call("property_put", 201, "PUT", props+"/color", map[string]any{"value": "blue"}, nil)
	h.call("property_put_second", 201, "PUT", props+"/shape", map[string]any{"value": "round"}, nil)
	h.call("property_get", 200, "GET", props+"/color", nil, nil)
	h.call("property_list", 200, "GET", props, nil, nil)
	if r := h.do("DELETE", props+"/color", nil, nil); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("property DELETE: %d %q, want 204 and no body", r.status, r.body)
	}
	h.call("property_list_after_delete", 200, "GET", props, nil, nil)

	// Trash and restore.
	h.call("trash_node", 200, "PUT", "/drive/v1/trash/"+photo, nil, nil)
	h.call("list_trash", 200, "GET", "/drive/v1/trash", nil, nil)
	h.call("restore_node", 200, "POST", "/drive/v1/trash/"+photo+"/restore", nil, nil)

	// Full changes, as acd_cli's first sync but in chunks of 3 so the
	// stream has several change sets.
	sets := h.changes("changes_full", map[string]any{"chunkSize": 3})
	if len(sets) < 2 {
		t.Errorf("changes_full: %d change sets, want several", len(sets))
	}
	checkpoint, _ := sets[len(sets)-1]["checkpoint"].(string)
	if checkpoint == "" {
		t.Fatal("changes_full: no checkpoint in the last change set")
	}

	// Overwrite and downloads.
	newHello := []byte("hello again, world\n")
	body, hdr = multipartBody(t, nil, "greeting.txt", newHello)
	h.call("overwrite", 200, "PUT", "/cdproxy/nodes/"+file+"/content", body, hdr)
	content := "/cdproxy/nodes/" + file + "/content"
	if r := h.do("GET", content, nil, nil); r.status != 200 || !bytes.Equal(r.body, newHello) || r.header.Get("Content-Type") != "text/plain" {
		t.Errorf("download: %d %q %q, want 200 %q text/plain", r.status, r.body, r.header.Get("Content-Type"), newHello)
	}
	if r := h.do("GET", content, nil, http.Header{"Range": {"bytes=0-4"}}); r.status != http.StatusPartialContent ||
		string(r.body) != "hello" || r.header.Get("Content-Range") != fmt.Sprintf("bytes 0-4/%d", len(newHello)) {
		t.Errorf("ranged download: %d %q Content-Range %q, want 206 \"hello\" bytes 0-4/%d", r.status, r.body, r.header.Get("Content-Range"), len(newHello))
	}
	if r := h.do("HEAD", content, nil, nil); r.status != 200 || r.header.Get("Content-Length") != strconv.Itoa(len(newHello)) || len(r.body) != 0 {
		t.Errorf("HEAD content: %d Content-Length %q body %q, want 200 %d and no body", r.status, r.header.Get("Content-Length"), r.body, len(newHello))
	}
	// acd_cli asks for a huge end offset when it does not know the size.
	if r := h.do("GET", content, nil, http.Header{"Range": {"bytes=6-999999999"}}); r.status != http.StatusPartialContent ||
		string(r.body) != "again, world\n" || r.header.Get("Content-Range") != fmt.Sprintf("bytes 6-%d/%d", len(newHello)-1, len(newHello)) {
		t.Errorf("clamped ranged download: %d %q Content-Range %q, want 206 %q bytes 6-%d/%d", r.status, r.body, r.header.Get("Content-Range"),
			"again, world\n", len(newHello)-1, len(newHello))
	}
	// acd_cli reads 416 as end of file.
	r := h.do("GET", content, nil, http.Header{"Range": {fmt.Sprintf("bytes=%d-", len(newHello))}})
	if r.status != http.StatusRequestedRangeNotSatisfiable || r.header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(newHello)) {
		t.Errorf("download at EOF: %d Content-Range %q, want 416 bytes */%d", r.status, r.header.Get("Content-Range"), len(newHello))
	}
	h.golden("download_416", r.body)

	// Purge one node, then a folder created for the purpose in bulk.
	h.call("purge_node", 200, "DELETE", "/drive/v1/nodes/"+photo, nil, nil)
	scratch := h.id(h.call("create_folder_scratch", 201, "POST", "/drive/v1/nodes",
		map[string]any{"name": "Scratch", "kind": "FOLDER"}, nil))
	h.call("bulk_purge", 200, "POST", "/drive/v1/bulk/nodes/purge",
		map[string]any{"recurse": "false", "nodeIds": []string{scratch}}, nil)

	// Changes since the checkpoint, purged nodes included, as acd_cli and
	// rclone poll.
	sets = h.changes("changes_since", map[string]any{"checkpoint": checkpoint, "includePurged": "true"})
	var got []string
	for _, set := range sets {
		if set["reset"] != false {
			t.Errorf("changes_since: reset = %v, want false", set["reset"])
		}
		ns, _ := set["nodes"].([]any)
		for _, n := range ns {
			m, _ := n.(map[string]any)
			got = append(got, fmt.Sprint(m["id"], " ", m["status"]))
		}
	}
	for _, want := range []string{file + " AVAILABLE", photo + " PURGED", scratch + " PURGED"} {
		if !slices.Contains(got, want) {
			t.Errorf("changes_since: nodes %v, want %q among them", got, want)
		}
	}

	// Nothing changed since the last checkpoint: one empty change set.
	last, _ := sets[len(sets)-1]["checkpoint"].(string)
	sets = h.changes("changes_none", map[string]any{"checkpoint": last, "includePurged": true})
	if len(sets) != 1 || sets[0]["checkpoint"] != last {
		t.Errorf("changes_none: %v, want one change set with checkpoint %q", sets, last)
	}

	// Errors.
	h.call("error_conflict", 409, "POST", "/drive/v1/nodes",
		map[string]any{"name": "DOCS", "kind": "FOLDER", "parents": []string{root}}, nil)
	h.call("error_not_found", 404, "GET", "/drive/v1/nodes/zzzzzzzzzzzzzzzzzzzzzz", nil, nil)
	h.call("error_bad_filter", 400, "GET", "/drive/v1/nodes?filters="+url.QueryEscape("kind:(FILE"), nil, nil)
	h.call("error_bad_limit", 400, "GET", "/drive/v1/nodes?limit=0", nil, nil)
	h.call("error_unauthorized", 401, "GET", "/drive/v1/account/info", nil, http.Header{"Authorization": nil})
	h.call("error_unknown_route", 404, "GET", "/drive/v1/no/such/route", nil, nil)

	// Modification times (contentProperties.mtime): the overwrite above
	// sent none and cleared the upload's; one comes as a query parameter
	// of an overwrite and as a PATCH field. Bad values name the field.
	body, hdr = multipartBody(t, nil, "greeting.txt", []byte("third version\n"))
	h.call("overwrite_mtime", 200, "PUT", "/cdproxy/nodes/"+file+"/content?mtime="+url.QueryEscape("2026-12-07T12:00:00.123456+01:00"), body, hdr)
	h.call("patch_mtime", 200, "PATCH", "/drive/v1/nodes/"+file, map[string]any{"mtime": "2020-02-29T23:59:59Z"}, nil)
	h.call("patch_mtime_null", 200, "PATCH", "/drive/v1/nodes/"+file, map[string]any{"mtime": nil}, nil)
	h.call("patch_mtime_again", 200, "PATCH", "/drive/v1/nodes/"+file, map[string]any{"mtime": "2020-02-29T23:59:59Z"}, nil)
	h.call("error_bad_mtime", 400, "PATCH", "/drive/v1/nodes/"+file, map[string]any{"mtime": "yesterday"}, nil)
	h.call("error_bad_mtime_type", 400, "PATCH", "/drive/v1/nodes/"+file, map[string]any{"mtime": 1700000000}, nil)
	h.call("error_mtime_folder", 400, "PATCH", "/drive/v1/nodes/"+docs, map[string]any{"mtime": "2020-02-29T23:59:59Z"}, nil)
	body, hdr = multipartBody(t, map[string]any{"name": "bad.txt", "parents": []string{docs}, "mtime": "2026-13-01T00:00:00Z"}, "bad.txt", hello)
	h.call("error_bad_mtime_upload", 400, "POST", "/cdproxy/nodes", body, hdr)
	body, hdr = multipartBody(t, nil, "greeting.txt", hello)
	h.call("error_bad_mtime_overwrite", 400, "PUT", "/cdproxy/nodes/"+file+"/content?mtime=1700000000", body, hdr)

}
