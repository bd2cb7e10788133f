package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

// fixture is user A's small drive: a folder with a file, a second file, a
// trashed file and a property.
type fixture struct {
	root, folder, file, other, trashed, owner string
}

func multipartBody(t *testing.T, metadata string, content string) (string, io.Reader) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if metadata != "" {
		if err := w.WriteField("metadata", metadata); err != nil {
			t.Fatal(err)
		}
	}
	fw, _ := w.CreateFormFile("content", "f")
	fw.Write([]byte(content))
	w.Close()
	return w.FormDataContentType(), &b
}

func (a api) upload(parent, name, content string) acd.Node {
	a.t.Helper()
	ct, body := multipartBody(a.t, `{"name":"`+name+`","kind":"FILE","parents":["`+parent+`"]}`, content)
	req, _ := http.NewRequest("POST", a.base+"/cdproxy/nodes?suppress=deduplication", body)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var n acd.Node
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &n) != nil {
		a.t.Fatalf("upload %s = %d %s", name, resp.StatusCode, raw)
	}
	return n
}

func newFixture(t *testing.T, a api) fixture {
	t.Helper()
	var list acd.NodeList
	a.do("GET", "/drive/v1/nodes?filters=isRoot:true", nil, &list)
	f := fixture{root: list.Data[0].ID}
	var folder acd.Node
	if code, raw := a.do("POST", "/drive/v1/nodes", acd.NewNode{Name: "shared-looking", Kind: "FOLDER", Parents: []string{f.root}}, &folder); code != 201 {
		t.Fatalf("mkdir = %d %s", code, raw)
	}
	f.folder = folder.ID
	file := a.upload(f.folder, "secret.txt", "top secret")
	f.file, f.owner = file.ID, file.CreatedBy
	f.other = a.upload(f.root, "other.txt", "other").ID
	f.trashed = a.upload(f.root, "old.txt", "old").ID
	if code, _ := a.do("PUT", "/drive/v1/trash/"+f.trashed, nil, nil); code != 200 {
		t.Fatal("trash failed")
	}
	if code, _ := a.do("PUT", "/drive/v1/nodes/"+f.file+"/properties/"+f.owner+"/k", `{"value":"v"}`, nil); code != 201 {
		t.Fatal("property failed")
	}
	return f
}

// call is one request of the matrix.
type call struct {
	method, path string
	body         string // JSON, or "multipart:<metadata>" for content uploads
	mutates      bool
}

func (f fixture) calls() []call {
	up := `{"name":"new.txt","kind":"FILE","parents":["` + f.folder + `"]}`
	return []call{
		{"GET", "/drive/v1/nodes/" + f.file, "", false},
		{"GET", "/drive/v1/nodes/" + f.file + "?tempLink=true", "", false},
		{"GET", "/drive/v1/nodes/" + f.folder + "/children", "", false},
		{"GET", "/cdproxy/nodes/" + f.file + "/content", "", false},
		{"HEAD", "/cdproxy/nodes/" + f.file + "/content", "", false},
		{"GET", "/drive/v1/nodes/" + f.file + "/properties/" + f.owner, "", false},
		{"GET", "/drive/v1/nodes/" + f.file + "/properties/" + f.owner + "/k", "", false},
		{"POST", "/drive/v1/nodes", `{"name":"sub","kind":"FOLDER","parents":["` + f.folder + `"]}`, true},
		{"PATCH", "/drive/v1/nodes/" + f.file, `{"name":"renamed.txt"}`, true},
		{"PATCH", "/drive/v1/nodes/" + f.other, `{"parents":["` + f.folder + `"]}`, true},
		{"POST", "/drive/v1/nodes/" + f.folder + "/children", `{"fromParent":"` + f.root + `","childId":"` + f.other + `"}`, true},
		{"PUT", "/drive/v1/nodes/" + f.folder + "/children/" + f.other, "", true},
		{"DELETE", "/drive/v1/nodes/" + f.folder + "/children/" + f.file, "", true},
		{"PUT", "/drive/v1/nodes/" + f.file + "/properties/" + f.owner + "/k2", `{"value":"x"}`, true},
		{"DELETE", "/drive/v1/nodes/" + f.file + "/properties/" + f.owner + "/k", "", true},
		{"PUT", "/drive/v1/trash/" + f.file, "", true},
		{"POST", "/drive/v1/trash/" + f.trashed + "/restore", "", true},
		{"DELETE", "/drive/v1/nodes/" + f.other, "", true},
		{"POST", "/drive/v1/bulk/nodes/purge", `{"recurse":"false","nodeIds":["` + f.other + `"]}`, true},
		{"POST", "/cdproxy/nodes", "multipart:" + up, true},
		{"PUT", "/cdproxy/nodes/" + f.file + "/content", "multipart:", true},
	}
}

func (a api) send(c call) (int, []byte) {
	a.t.Helper()
	if !strings.HasPrefix(c.body, "multipart:") {
		var body any
		if c.body != "" {
			body = c.body
		}
		return a.do(c.method, c.path, body, nil)
	}
	ct, body := multipartBody(a.t, strings.TrimPrefix(c.body, "multipart:"), "intruder bytes")
	req, _ := http.NewRequest(c.method, a.base+c.path, body)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// checkpoint returns the latest checkpoint of a's changes feed.
func (a api) checkpoint() string {
	a.t.Helper()
	_, raw := a.do("POST", "/drive/v1/changes", "{}", nil)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var cs acd.ChangeSet
	if err := json.Unmarshal([]byte(lines[len(lines)-2]), &cs); err != nil {
		a.t.Fatalf("changes: %v in %s", err, raw)
	}
	return cs.Checkpoint
}

func (a api) changedSince(cp string) int {
	a.t.Helper()
	_, raw := a.do("POST", "/drive/v1/changes", `{"checkpoint":"`+cp+`","includePurged":"true"}`, nil)
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var cs acd.ChangeSet
		json.Unmarshal([]byte(line), &cs)
		n += len(cs.Nodes)
	}
	return n
}

// TestTenancyMatrix: user B's token on user A's ids gives 404 on every
// endpoint and changes nothing.
func TestTenancyMatrix(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	a := api{t, s.URL, s.Token("alice")}
	f := newFixture(t, a)
	b := api{t, s.URL, s.Token("bob")}
	cp := a.checkpoint()
	for _, c := range f.calls() {
		code, raw := b.send(c)
		if code != http.StatusNotFound {
			t.Errorf("bob %s %s = %d %s, want 404", c.method, c.path, code, raw)
		}
	}
	if n := a.changedSince(cp); n != 0 {
		t.Errorf("bob's requests changed %d of alice's nodes", n)
	}
	// Listings and changes never show another user's nodes.
	var list acd.NodeList
	b.do("GET", "/drive/v1/nodes?filters=parents:"+f.folder, nil, &list)
	if list.Count != 0 || len(list.Data) != 0 {
		t.Errorf("bob lists alice's folder: %+v", list)
	}
	_, raw := b.do("POST", "/drive/v1/changes", "{}", nil)
	for _, id := range []string{f.root, f.folder, f.file, f.other, f.trashed} {
		if strings.Contains(string(raw), id) {
			t.Errorf("bob's changes feed contains alice's node %s", id)
		}
	}
	// A temp link is bound to its user and node.
	var n acd.Node
	a.do("GET", "/drive/v1/nodes/"+f.file+"?tempLink=true", nil, &n)
	if code, _ := (api{t, "", ""}).do("GET", n.TempLink, nil, nil); code != http.StatusOK {
		t.Errorf("alice's temp link = %d", code)
	}
}

// TestScopeMatrix: a read-only token reads everything and mutates nothing.
func TestScopeMatrix(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	a := api{t, s.URL, s.Token("carol")}
	f := newFixture(t, a)
	u, err := s.App.Nodes.EnsureUser(context.Background(), "carol")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := s.App.Tokens.Mint(context.Background(), u.ID, auth.AdminClientID, drive.ScopeReadAll, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := api{t, s.URL, ro}
	cp := a.checkpoint()
	for _, c := range f.calls() {
		code, raw := r.send(c)
		want := http.StatusOK
		if c.mutates {
			want = http.StatusForbidden
		}
		if code != want {
			t.Errorf("read-only %s %s = %d %s, want %d", c.method, c.path, code, raw, want)
		}
		if c.mutates {
			var e acd.Error
			if json.Unmarshal(raw, &e) != nil || e.Logref == "" || !strings.Contains(e.Message, "Insufficient permissions") {
				t.Errorf("read-only %s %s body = %s, want an ACD error body", c.method, c.path, raw)
			}
		}
	}
	if n := a.changedSince(cp); n != 0 {
		t.Errorf("read-only requests changed %d nodes", n)
	}
	// The old clouddrive:read scope is read-only too.
	old, _ := s.App.Tokens.Mint(context.Background(), u.ID, auth.AdminClientID, drive.ScopeRead, time.Hour)
	if code, _ := (api{t, s.URL, old}).do("GET", "/drive/v1/nodes/"+f.file, nil, nil); code != http.StatusOK {
		t.Errorf("clouddrive:read GET = %d", code)
	}
	if code, _ := (api{t, s.URL, old}).do("PUT", "/drive/v1/trash/"+f.file, nil, nil); code != http.StatusForbidden {
		t.Errorf("clouddrive:read trash = %d, want 403", code)
	}
}

// TestRateLimit: a flooding token gets 429 with Retry-After and ACD's body;
// another user is not slowed.
func TestRateLimit(t *testing.T) {
	// A stopped clock: no bucket refills while the test runs, however
	// slowly a loaded machine (or a database round trip, for the shared
	// buckets on PostgreSQL) serves the requests.
	start := time.Now()
	s := drivetest.New(t, drivetest.Options{Now: func() time.Time { return start },
		RateLimits: ratelimit.Limits{PerToken: 1, PerTokenBurst: 5, PerUser: 2, PerUserBurst: 8}})
	flood := api{t, s.URL, s.Token("flooder")}
	calm := api{t, s.URL, s.Token("calm")}
	limited := 0
	for i := 0; i < 12; i++ {
		req, _ := http.NewRequest("GET", s.URL+"/drive/v1/account/info", nil)
		req.Header.Set("Authorization", "Bearer "+flood.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
			secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			var e acd.Error
			if err != nil || secs < 1 || json.Unmarshal(raw, &e) != nil || e.Message != "Rate exceeded" {
				t.Errorf("429 reply: Retry-After %q, body %s", resp.Header.Get("Retry-After"), raw)
			}
		}
	}
	if limited != 12-5 {
		t.Errorf("flooding token got %d 429s of 12, want 7 (burst 5)", limited)
	}
	for i := 0; i < 5; i++ {
		if code, _ := calm.do("GET", "/drive/v1/account/info", nil, nil); code != http.StatusOK {
			t.Errorf("calm user request %d = %d, want 200", i, code)
		}
	}
	// A second token of the flooding user shares the per-user bucket.
	second := api{t, s.URL, s.Token("flooder")}
	got429 := false
	for i := 0; i < 6; i++ {
		if code, _ := second.do("GET", "/drive/v1/account/info", nil, nil); code == http.StatusTooManyRequests {
			got429 = true
		}
	}
	if !got429 {
		t.Error("a user's second token escaped the per-user limit")
	}
}
