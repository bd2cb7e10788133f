package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// shareClock is a settable clock for the share-link tests.
type shareClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *shareClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *shareClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// shareOwner is a user with a bearer token and a principal for direct
// calls into the node service.
type shareOwner struct {
	t   *testing.T
	s   *drivetest.Server
	api api
	ctx context.Context
}

func newShareOwner(t *testing.T, s *drivetest.Server, name string) *shareOwner {
	tok := s.Token(name)
	p, err := s.App.Tokens.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return &shareOwner{t: t, s: s, api: api{t: t, base: s.URL, token: tok}, ctx: drive.NewContext(context.Background(), p)}
}

func (o *shareOwner) root() string {
	o.t.Helper()
	r, err := o.s.App.Nodes.Root(o.ctx)
	if err != nil {
		o.t.Fatal(err)
	}
	return r.ID
}

func (o *shareOwner) folder(name, parent string) string {
	o.t.Helper()
	n, err := o.s.App.Nodes.CreateFolder(o.ctx, nodes.NewNode{Name: name, Parents: []string{parent}})
	if err != nil {
		o.t.Fatal(err)
	}
	return n.ID
}

func (o *shareOwner) file(name, parent string, content []byte) string {
	o.t.Helper()
	n, err := o.s.App.Nodes.Upload(o.ctx, nodes.NewNode{Name: name, Parents: []string{parent}}, bytes.NewReader(content),
		nodes.UploadOptions{SuppressDedup: true})
	if err != nil {
		o.t.Fatal(err)
	}
	return n.ID
}

type linkReply struct {
	ID          string
	NodeID      string
	Kind        string
	Name        string
	URL         string
	CreatedDate string
	ExpiresAt   *string
	HasPassword bool
}

// link creates a link and checks the 201 reply.
func (o *shareOwner) link(nodeID string, body any) linkReply {
	o.t.Helper()
	var l linkReply
	code, raw := o.api.do(http.MethodPost, "/drive/v1/nodes/"+nodeID+"/links", body, &l)
	if code != http.StatusCreated {
		o.t.Fatalf("POST links for %s: %d %s", nodeID, code, raw)
	}
	return l
}

// visit makes an unauthenticated request and returns the response with
// its body read.
func visit(t *testing.T, method, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

type listingReply struct {
	Count int
	Data  []struct {
		ID, Name, Kind, ContentType, ModifiedDate string
		Size                                      *int64
	}
}

func listing(t *testing.T, url string) listingReply {
	t.Helper()
	resp, b := visit(t, http.MethodGet, url, map[string]string{"Accept": "application/json"})
	var l listingReply
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &l) != nil {
		t.Fatalf("GET %s (JSON): %d %s", url, resp.StatusCode, b)
	}
	return l
}

func TestShareLinks(t *testing.T) {
	clk := &shareClock{t: time.Now().UTC().Truncate(time.Millisecond)}
	s := drivetest.New(t, drivetest.Options{Now: clk.Now})
	alice := newShareOwner(t, s, "alice")
	bob := newShareOwner(t, s, "bob")
	root := alice.root()
	shared := alice.folder("shared", root)
	aData := randomBytes(1000, 1)
	a := alice.file("a report.txt", shared, aData)
	sub := alice.folder("sub", shared)
	bData := randomBytes(300, 2)
	b := alice.file("b.bin", sub, bData)
	gone := alice.file("gone.txt", shared, []byte("trashed"))
	if _, err := s.App.Nodes.Trash(alice.ctx, gone); err != nil {
		t.Fatal(err)
	}
	private := alice.folder("private", root)
	secret := alice.file("secret.txt", private, []byte("not shared"))
	bobFile := bob.file("bob.txt", bob.root(), []byte("bob's"))

	fileLink := alice.link(a, nil)
	t.Run("Create", func(t *testing.T) {
		if fileLink.NodeID != a || fileLink.Kind != "FILE" || fileLink.Name != "a report.txt" || fileLink.HasPassword ||
			fileLink.ExpiresAt != nil || fileLink.ID == "" || fileLink.CreatedDate == "" {
			t.Errorf("link = %+v", fileLink)
		}
		tok, ok := strings.CutPrefix(fileLink.URL, s.URL+"/s/")
		if !ok || len(tok) != 43 {
			t.Errorf("url = %q, want %s/s/<43-character token>", fileLink.URL, s.URL)
		}
		code, raw := alice.api.do(http.MethodPost, "/drive/v1/nodes/"+gone+"/links", nil, nil)
		if code != http.StatusNotFound {
			t.Errorf("link to a trashed node: %d %s, want 404", code, raw)
		}
		code, raw = alice.api.do(http.MethodPost, "/drive/v1/nodes/"+bobFile+"/links", nil, nil)
		if code != http.StatusNotFound {
			t.Errorf("link to another user's node: %d %s, want 404", code, raw)
		}
	})

	t.Run("DownloadWithoutAuth", func(t *testing.T) {
		resp, body := visit(t, http.MethodGet, fileLink.URL, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, aData) {
			t.Fatalf("GET link: %d, %d bytes", resp.StatusCode, len(body))
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline") || !strings.Contains(cd, `filename="a report.txt"`) {
			t.Errorf("Content-Disposition = %q", cd)
		}
		if et := resp.Header.Get("ETag"); et != `"`+md5hex(aData)+`"` {
			t.Errorf("ETag = %q, want the md5", et)
		}
		resp, body = visit(t, http.MethodGet, fileLink.URL, map[string]string{"Range": "bytes=10-19"})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, aData[10:20]) ||
			resp.Header.Get("Content-Range") != "bytes 10-19/1000" {
			t.Errorf("ranged GET: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(body))
		}
		resp, body = visit(t, http.MethodHead, fileLink.URL, nil)
		if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Length") != "1000" {
			t.Errorf("HEAD: %d, Content-Length %q, %d body bytes", resp.StatusCode, resp.Header.Get("Content-Length"), len(body))
		}
		resp, _ = visit(t, http.MethodGet, fileLink.URL+"?download=1", nil)
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
			t.Errorf("download=1 Content-Disposition = %q", cd)
		}
		resp, _ = visit(t, http.MethodGet, s.URL+"/s/"+strings.Repeat("A", 43), nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown token: %d, want 404", resp.StatusCode)
		}
		// A file link reaches only its file.
		resp, _ = visit(t, http.MethodGet, fileLink.URL+"/nodes/"+secret, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("another node through a file link: %d, want 404", resp.StatusCode)
		}
	})

	folderLink := alice.link(shared, map[string]any{})
	t.Run("Folder", func(t *testing.T) {
		if folderLink.Kind != "FOLDER" || folderLink.Name != "shared" {
			t.Errorf("folder link = %+v", folderLink)
		}
		l := listing(t, folderLink.URL)
		var names []string
		for _, e := range l.Data {
			names = append(names, e.Name+":"+e.Kind)
		}
		if l.Count != 2 || strings.Join(names, ",") != "sub:FOLDER,a report.txt:FILE" {
			t.Errorf("listing = %d %v; want the subfolder, then the file, and not the trashed file", l.Count, names)
		}
		if l.Data[1].Size == nil || *l.Data[1].Size != 1000 || l.Data[1].ID != a {
			t.Errorf("file entry = %+v", l.Data[1])
		}
		resp, body := visit(t, http.MethodGet, folderLink.URL, nil)
		html := string(body)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(html, "a report.txt") || !strings.Contains(html, "/nodes/"+sub+`"`) ||
			strings.Contains(html, "gone.txt") || strings.Contains(html, "<script") || strings.Contains(html, "http://") && strings.Contains(html, "src=") {
			t.Errorf("HTML listing: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), html)
		}
		if l := listing(t, folderLink.URL+"/nodes/"+sub); l.Count != 1 || l.Data[0].ID != b {
			t.Errorf("subfolder listing = %+v", l)
		}
		resp, body = visit(t, http.MethodGet, folderLink.URL+"/nodes/"+b, map[string]string{"Range": "bytes=0-9"})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, bData[:10]) {
			t.Errorf("file inside: %d, %d bytes", resp.StatusCode, len(body))
		}
		for name, id := range map[string]string{"outside the folder": secret, "the folder's parent": root,
			"trashed inside": gone, "another user's": bobFile, "malformed": "..%2f"} {
			resp, _ := visit(t, http.MethodGet, folderLink.URL+"/nodes/"+id, nil)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("node %s: %d, want 404", name, resp.StatusCode)
			}
		}
		// A node that also lives outside is reachable through its shared
		// parent, and only while that parent is available.
		if _, err := s.App.Nodes.AddParent(alice.ctx, private, b); err != nil {
			t.Fatal(err)
		}
		if resp, _ := visit(t, http.MethodGet, folderLink.URL+"/nodes/"+b, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("node with a second parent outside: %d, want 200", resp.StatusCode)
		}
		if _, err := s.App.Nodes.Trash(alice.ctx, sub); err != nil {
			t.Fatal(err)
		}
		if resp, _ := visit(t, http.MethodGet, folderLink.URL+"/nodes/"+b, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("node whose shared parent is trashed: %d, want 404", resp.StatusCode)
		}
		if _, err := s.App.Nodes.Restore(alice.ctx, sub); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ListAndOwnership", func(t *testing.T) {
		var l struct {
			Count int
			Data  []linkReply
		}
		if code, raw := alice.api.do(http.MethodGet, "/drive/v1/nodes/"+a+"/links", nil, &l); code != http.StatusOK || l.Count != 1 || l.Data[0].ID != fileLink.ID {
			t.Errorf("node links: %d %s", code, raw)
		}
		// Both links were made at the same (stopped) clock time, so their
		// order is by id.
		if code, raw := alice.api.do(http.MethodGet, "/drive/v1/links", nil, &l); code != http.StatusOK || l.Count != 2 ||
			!slices.ContainsFunc(l.Data, func(x linkReply) bool { return x.URL == fileLink.URL }) {
			t.Errorf("all links: %d %s", code, raw)
		}
		if code, raw := bob.api.do(http.MethodGet, "/drive/v1/links", nil, &l); code != http.StatusOK || l.Count != 0 || l.Data == nil {
			t.Errorf("bob's links: %d %s, want none", code, raw)
		}
		if code, _ := bob.api.do(http.MethodGet, "/drive/v1/nodes/"+a+"/links", nil, nil); code != http.StatusNotFound {
			t.Errorf("bob lists alice's node links: %d, want 404", code)
		}
		if code, _ := bob.api.do(http.MethodDelete, "/drive/v1/links/"+fileLink.ID, nil, nil); code != http.StatusNotFound {
			t.Errorf("bob revokes alice's link: %d, want 404", code)
		}
		if code, _ := (api{t: t, base: s.URL}).do(http.MethodGet, "/drive/v1/links", nil, nil); code != http.StatusUnauthorized {
			t.Errorf("links without a token: %d, want 401", code)
		}
	})

	t.Run("TrashedNode", func(t *testing.T) {
		if _, err := s.App.Nodes.Trash(alice.ctx, a); err != nil {
			t.Fatal(err)
		}
		if resp, _ := visit(t, http.MethodGet, fileLink.URL, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("link of a trashed file: %d, want 404", resp.StatusCode)
		}
		if _, err := s.App.Nodes.Restore(alice.ctx, a); err != nil {
			t.Fatal(err)
		}
		if resp, _ := visit(t, http.MethodGet, fileLink.URL, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("link of a restored file: %d, want 200", resp.StatusCode)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		exp := clk.Now().Add(5 * time.Minute).Format(time.RFC3339)
		l := alice.link(a, map[string]any{"expiresAt": exp})
		if l.ExpiresAt == nil {
			t.Fatalf("link with expiry = %+v", l)
		}
		if got, _ := time.Parse(time.RFC3339, *l.ExpiresAt); got.Format(time.RFC3339) != exp {
			t.Errorf("expiresAt = %s, want %s", *l.ExpiresAt, exp)
		}
		if resp, _ := visit(t, http.MethodGet, l.URL, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("before expiry: %d", resp.StatusCode)
		}
		clk.Add(10 * time.Minute)
		if resp, _ := visit(t, http.MethodGet, l.URL, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("after expiry: %d, want 404", resp.StatusCode)
		}
		for _, bad := range []string{clk.Now().Add(-time.Minute).Format(time.RFC3339), "tomorrow"} {
			if code, raw := alice.api.do(http.MethodPost, "/drive/v1/nodes/"+a+"/links", map[string]any{"expiresAt": bad}, nil); code != http.StatusBadRequest {
				t.Errorf("expiresAt %q: %d %s, want 400", bad, code, raw)
			}
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		l := alice.link(a, nil)
		if code, raw := alice.api.do(http.MethodDelete, "/drive/v1/links/"+l.ID, nil, nil); code != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", code, raw)
		}
		if resp, _ := visit(t, http.MethodGet, l.URL, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("revoked link: %d, want 404", resp.StatusCode)
		}
		if code, _ := alice.api.do(http.MethodDelete, "/drive/v1/links/"+l.ID, nil, nil); code != http.StatusNotFound {
			t.Errorf("second DELETE: %d, want 404", code)
		}
	})

	t.Run("Password", func(t *testing.T) {
		l := alice.link(shared, map[string]any{"password": "open sesame"})
		if !l.HasPassword {
			t.Fatalf("link = %+v, want hasPassword", l)
		}
		resp, body := visit(t, http.MethodGet, l.URL, nil)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `type="password"`) {
			t.Errorf("no password: %d\n%s", resp.StatusCode, body)
		}
		resp, body = visit(t, http.MethodGet, l.URL, map[string]string{"Accept": "application/json"})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"message"`) {
			t.Errorf("no password, JSON: %d %s", resp.StatusCode, body)
		}
		resp, _ = visit(t, http.MethodGet, l.URL, map[string]string{"X-Share-Password": "wrong"})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong header password: %d, want 401", resp.StatusCode)
		}
		resp, body = visit(t, http.MethodGet, l.URL, map[string]string{"X-Share-Password": "open sesame", "Accept": "application/json"})
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"count":2`) {
			t.Errorf("right header password: %d %s", resp.StatusCode, body)
		}

		post := func(url, pw string) *http.Response {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("password="+pw+"&next="+strings.TrimPrefix(url, s.URL)+"/nodes/"+sub))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		if resp := post(l.URL, "nope"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
			t.Errorf("wrong form password: %d, cookies %v", resp.StatusCode, resp.Cookies())
		}
		resp = post(l.URL, "open+sesame")
		cookies := resp.Cookies()
		if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 || !cookies[0].HttpOnly ||
			cookies[0].Path != strings.TrimPrefix(l.URL, s.URL) || !strings.HasSuffix(resp.Header.Get("Location"), "/nodes/"+sub) {
			t.Fatalf("right form password: %d, Location %q, cookies %+v", resp.StatusCode, resp.Header.Get("Location"), cookies)
		}
		cookie := cookies[0].Name + "=" + cookies[0].Value
		resp, body = visit(t, http.MethodGet, l.URL+"/nodes/"+b, map[string]string{"Cookie": cookie})
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, bData) {
			t.Errorf("with the cookie: %d, %d bytes", resp.StatusCode, len(body))
		}
		// The cookie proves this link's password only.
		other := alice.link(shared, map[string]any{"password": "open sesame"})
		if resp, _ := visit(t, http.MethodGet, other.URL, map[string]string{"Cookie": cookie}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("cookie of another link: %d, want 401", resp.StatusCode)
		}
		if resp, _ := visit(t, http.MethodGet, l.URL, map[string]string{"Cookie": cookies[0].Name + "=forged"}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("forged cookie: %d, want 401", resp.StatusCode)
		}
	})

	// Guessing a link's password: after five wrong ones the link refuses
	// every password (429 + Retry-After) for 30 s; a cookie issued before
	// still works, and so does the right password once the lock ends.
	t.Run("PasswordThrottle", func(t *testing.T) {
		l := alice.link(shared, map[string]any{"password": "open sesame"})
		try := func(pw string) *http.Response {
			t.Helper()
			resp, _ := visit(t, http.MethodGet, l.URL, map[string]string{"X-Share-Password": pw, "Accept": "application/json"})
			return resp
		}
		for i := 0; i < 6; i++ {
			if resp := try("guess"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d, want 401", i+1, resp.StatusCode)
			}
		}
		resp := try("open sesame")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "30" {
			t.Fatalf("right password while locked: %d Retry-After %q, want 429 and 30", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		// Another link of the same user is not locked.
		other := alice.link(shared, map[string]any{"password": "other"})
		if resp, _ := visit(t, http.MethodGet, other.URL, map[string]string{"X-Share-Password": "other", "Accept": "application/json"}); resp.StatusCode != http.StatusOK {
			t.Errorf("another link: %d, want 200", resp.StatusCode)
		}
		clk.Add(31 * time.Second)
		if resp := try("open sesame"); resp.StatusCode != http.StatusOK {
			t.Errorf("right password after the lock: %d, want 200", resp.StatusCode)
		}
	})
}

func TestShareThumbnail(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	alice := newShareOwner(t, s, "alice")
	img := image.NewRGBA(image.Rect(0, 0, 60, 30))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	l := alice.link(alice.file("pic.png", alice.root(), buf.Bytes()), nil)
	resp, body := visit(t, http.MethodGet, l.URL+"?viewBox=20", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("thumbnail through a link: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	m, err := jpeg.Decode(bytes.NewReader(body))
	if err != nil || m.Bounds().Dx() != 20 || m.Bounds().Dy() != 10 {
		t.Errorf("thumbnail = %v, %v; want a 20x10 JPEG", m.Bounds(), err)
	}
}
