package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/app"
)

// fuzzServer is the real HTTP handler over real stores in a temporary
// directory, with a few fixture nodes whose ids the seeds use.
type fuzzServer struct {
	h      http.Handler
	token  string
	root   string
	folder string
	file   string
	logs   *logBuffer
}

// logBuffer keeps the last error logs, so a failure can show them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 64<<10 {
		l.buf.Reset()
	}
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	logs := &logBuffer{}
	cfg := app.Config{DataDir: f.TempDir(), PublicURL: "http://fuzz.example", Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	tok, err := app.AdminToken(context.Background(), cfg, a.Meta, "fuzz", 0)
	if err != nil {
		f.Fatal(err)
	}
	s := &fuzzServer{h: a.Handler(), token: tok, logs: logs}
	root, _ := s.do("GET", "/drive/v1/nodes?filters=isRoot:true", "", "")
	var list acd.NodeList
	if err := json.Unmarshal(root, &list); err != nil || len(list.Data) != 1 {
		f.Fatalf("root: %s", root)
	}
	s.root = list.Data[0].ID
	// Fixtures get random ids; seeds name them by placeholders (expand).
	body, st := s.do("POST", "/drive/v1/nodes", `{"name":"folder","kind":"FOLDER"}`, "")
	var n acd.Node
	if st != http.StatusCreated || json.Unmarshal(body, &n) != nil {
		f.Fatalf("fixture folder: %d %s", st, body)
	}
	s.folder = n.ID
	body, st = s.do("POST", "/cdproxy/nodes", fuzzMultipart(`{"name":"file.txt","kind":"FILE"}`, "hello"), multipartType)
	if st != http.StatusCreated || json.Unmarshal(body, &n) != nil {
		f.Fatalf("fixture file: %d %s", st, body)
	}
	s.file = n.ID
	return s
}

// expand replaces the placeholders ROOT, FOLDER and FILE by fixture ids.
func (s *fuzzServer) expand(in string) string {
	return strings.NewReplacer("{ROOT}", s.root, "{FOLDER}", s.folder, "{FILE}", s.file).Replace(in)
}

func (s *fuzzServer) do(method, target, body, ctype string) ([]byte, int) {
	return s.doCtx(context.Background(), method, target, body, ctype)
}

func (s *fuzzServer) doCtx(ctx context.Context, method, target, body, ctype string) ([]byte, int) {
	req := httptest.NewRequestWithContext(ctx, method, "http://fuzz.example"+target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec.Body.Bytes(), rec.Code
}

const fuzzBoundary = "fuzzB0undary"

const multipartType = "multipart/form-data; boundary=" + fuzzBoundary

func fuzzMultipart(metadata, content string) string {
	return "--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n" + metadata +
		"\r\n--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"content\"; filename=\"f\"\r\n\r\n" + content +
		"\r\n--" + fuzzBoundary + "--\r\n"
}

// check fails on a server error, or on a reply that is not what an ACD
// client can parse: an error body without logref and message, a JSON
// reply that does not decode, or a changes stream without its end.
// With maxNodes a stream may end without {"end":true}; endless says so.
func (s *fuzzServer) check(t *testing.T, what string, body []byte, st int, stream, endless bool) {
	t.Helper()
	if st >= 500 {
		t.Fatalf("%s: status %d %s\nserver log:\n%s", what, st, body, s.logs.String())
	}
	if st >= 400 {
		var e acd.Error
		if err := json.Unmarshal(body, &e); err != nil || e.Logref == "" || e.Message == "" {
			t.Fatalf("%s: error reply %d %q is not an ACD error body (%v)", what, st, body, err)
		}
		return
	}
	if st == http.StatusNoContent {
		return
	}
	if !stream {
		if !json.Valid(body) {
			t.Fatalf("%s: reply %d is not JSON: %q", what, st, body)
		}
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	last := ""
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("%s: changes line %q is not JSON", what, sc.Bytes())
		}
		last = sc.Text()
	}
	if last != `{"end":true}` && !endless {
		t.Fatalf("%s: changes stream ends with %q, want {\"end\":true}", what, last)
	}
}

// jsonRoutes are the requests that carry a JSON body: the fuzzer picks one
// by number and supplies the body. {FOLDER} and {FILE} stand for fixture
// node ids; the upload's body is the metadata part of a multipart body.
var jsonRoutes = []struct {
	method, path string
	seeds        []string
}{
	{"POST", "/drive/v1/nodes", []string{`{"name":"a","kind":"FOLDER","parents":["{FOLDER}"]}`, `{"name":"b","labels":["x"],"properties":{"clouddrive-admin":{"k":"v"}}}`, `{"kind":"FILE"}`, `[]`, `{"name":null}`}},
	{"PATCH", "/drive/v1/nodes/{FILE}", []string{`{"name":"renamed.txt"}`, `{"description":"d","labels":["a","b"]}`, `{"parents":["{FOLDER}"]}`, `{"status":"AVAILABLE"}`, `{"properties":{"clouddrive-admin":{"k":"` + strings.Repeat("v", 501) + `"}}}`}},
	{"POST", "/drive/v1/nodes/{FOLDER}/children", []string{`{"fromParent":"{ROOT}","childId":"{FILE}"}`, `{"fromParent":"{FOLDER}","childId":"{FILE}"}`, `{"childId":"{FOLDER}"}`}},
	{"POST", "/drive/v1/changes", []string{`{}`, `{"includePurged":"true"}`, `{"includePurged":true,"chunkSize":1}`, `{"checkpoint":"YWJjOjE","maxNodes":1}`, `{"chunkSize":-1}`, `{"wait":0.001,"checkpoint":"x"}`}},
	{"POST", "/drive/v1/bulk/nodes/purge", []string{`{"nodeIds":["nonexistent0000000000x"]}`, `{"recurse":"true","nodeIds":[]}`}},
	{"PUT", "/drive/v1/nodes/{FILE}/properties/clouddrive-admin/key", []string{`{"value":"v"}`, `{"value":1}`, `{}`}},
	{"POST", "/cdproxy/nodes", []string{`{"name":"up.txt","kind":"FILE","parents":["{FOLDER}"]}`, `{"name":"up2.txt","labels":["l"]}`, `{"name":"","kind":"FILE"}`}},
	{"POST", "/cdproxy/nodes?suppress=deduplication&localId=L1", []string{`{"name":"dup.txt","kind":"FILE"}`}},
}

// FuzzJSONBody sends fuzzed JSON bodies to every route that reads one,
// through the real handler over real stores: no body may cause a server
// error or a reply an ACD client cannot parse.
func FuzzJSONBody(f *testing.F) {
	for i, r := range jsonRoutes {
		for _, seed := range r.seeds {
			f.Add(uint8(i), seed)
		}
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		r := jsonRoutes[int(route)%len(jsonRoutes)]
		body = s.expand(body)
		ctype := ""
		if strings.HasPrefix(r.path, "/cdproxy/") {
			body, ctype = fuzzMultipart(body, "content "+body), multipartType
		}
		// A long poll ("wait") would hold the request for up to a minute:
		// the client goes away after 100 ms (cancelling the request, as a
		// closed connection does), and 503 (cancelled) is then fine.
		ctx, cancel := context.WithCancel(context.Background())
		defer time.AfterFunc(100*time.Millisecond, cancel).Stop()
		defer cancel()
		out, st := s.doCtx(ctx, r.method, s.expand(r.path), body, ctype)
		if st == http.StatusServiceUnavailable && ctx.Err() != nil {
			return
		}
		var req struct{ MaxNodes int }
		_ = json.Unmarshal([]byte(body), &req)
		s.check(t, fmt.Sprintf("%s %s %q", r.method, r.path, body), out, st, r.path == "/drive/v1/changes" && st == http.StatusOK, req.MaxNodes > 0)
	})
}

// FuzzListQuery sends fuzzed filters, sort, limit and startToken to the
// listings: no query may cause a server error, and a page never holds
// more than the limit or the count.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []struct{ filters, sort, limit, token string }{
		{"", "", "", ""},
		{"kind:FILE", `["name ASC"]`, "1", ""},
		{"name:file* AND NOT kind:FOLDER", `["modifiedDate DESC","name ASC"]`, "200", ""},
		{"parents:{FOLDER} OR isRoot:true", "", "2", "eyJ2IjpbXSwiaSI6IngiLCJoIjoiIn0"},
		{"contentProperties.md5:5d41402abc4b2a76b9719d911017c592", "", "0", ""},
		{`modifiedDate:[2020-01-01T00:00:00Z TO *]`, `["createdDate ASC"]`, "-1", "!"},
		{"status:TRASH", "", "abc", ""},
	} {
		f.Add(seed.filters, seed.sort, seed.limit, seed.token, false)
		f.Add(seed.filters, seed.sort, seed.limit, seed.token, true)
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, filters, sort, limit, token string, children bool) {
		q := url.Values{}
		for k, v := range map[string]string{"filters": s.expand(filters), "sort": sort, "limit": limit, "startToken": token} {
			if v != "" {
				q.Set(k, v)
			}
		}
		path := "/drive/v1/nodes"
		if children {
			path = "/drive/v1/nodes/" + s.folder + "/children"
		}
		target := path + "?" + q.Encode()
		out, st := s.do("GET", target, "", "")
		s.check(t, "GET "+target, out, st, false, false)
		if st != http.StatusOK {
			return
		}
		var list acd.NodeList
		if err := json.Unmarshal(out, &list); err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		if list.Data == nil || int64(len(list.Data)) > list.Count || len(list.Data) > 200 {
			t.Fatalf("GET %s: %d nodes (nil: %v) with count %d", target, len(list.Data), list.Data == nil, list.Count)
		}
		if list.NextToken != "" {
			q.Set("startToken", list.NextToken)
			out, st := s.do("GET", path+"?"+q.Encode(), "", "")
			s.check(t, "next page of "+target, out, st, false, false)
			if st != http.StatusOK {
				t.Fatalf("next page of %s: %d %s", target, st, out)
			}
		}
	})
}
