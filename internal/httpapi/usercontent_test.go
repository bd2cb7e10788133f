package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/httpapi"
)

// ucServer is the real server (package app) behind httptest, for the
// user-content tests: main is its public URL; content, when set, its
// content URL: the same listener under another host name.
type ucServer struct {
	t             *testing.T
	main, content string
	addr          string // host:port of the listener
	token         string
	client        *http.Client
}

// newUCServer starts a server on http://127.0.0.1:PORT; with contentHost
// it has the separate content origin http://localhost:PORT.
func newUCServer(t *testing.T, contentHost bool) *ucServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	u := &ucServer{t: t, main: fmt.Sprintf("http://127.0.0.1:%d", port), addr: ln.Addr().String(),
		client: &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	cfg := app.Config{DataDir: t.TempDir(), WebhookPoll: -1}
	if contentHost {
		u.content = fmt.Sprintf("http://localhost:%d", port)
		cfg.PublicURL, cfg.ContentURL = u.main, u.content
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.Handler()}}
	srv.Start()
	t.Cleanup(func() { srv.Close(); a.Close() })
	if u.token, err = app.AdminToken(context.Background(), cfg, a.Meta, "alice", time.Hour); err != nil {
		t.Fatal(err)
	}
	return u
}

type ucReply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the listener; rawURL's host is sent as the Host
// header, so http://localhost:PORT/... reaches the content host without a
// name lookup. auth adds the bearer token.
func (u *ucServer) do(method, rawURL string, body io.Reader, hdr http.Header, auth bool) ucReply {
	u.t.Helper()
	pu, err := url.Parse(rawURL)
	if err != nil {
		u.t.Fatal(err)
	}
	host := pu.Host
	pu.Host = u.addr
	req, err := http.NewRequest(method, pu.String(), body)
	if err != nil {
		u.t.Fatal(err)
	}
	req.Host = host
	for k, v := range hdr {
		req.Header[k] = v
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		u.t.Fatal(err)
	}
	return ucReply{resp.StatusCode, resp.Header, b}
}

// json sends an authorised request to the main host and decodes a 2xx reply.
func (u *ucServer) json(method, path, body string, v any) {
	u.t.Helper()
	r := u.do(method, u.main+path, strings.NewReader(body), nil, true)
	if r.status/100 != 2 {
		u.t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		u.t.Fatalf("%s %s: %v: %s", method, path, err, r.body)
	}
}

func (u *ucServer) root() string {
	u.t.Helper()
	var l struct{ Data []struct{ ID string } }
	u.json("GET", "/drive/v1/nodes?filters=isRoot:true", "", &l)
	return l.Data[0].ID
}

func (u *ucServer) mkdir(parent, name string) string {
	u.t.Helper()
	var n struct{ ID string }
	u.json("POST", "/drive/v1/nodes", fmt.Sprintf(`{"name":%q,"kind":"FOLDER","parents":[%q]}`, name, parent), &n)
	return n.ID
}

// upload stores content as name with the part Content-Type ctype (none
// when empty), as any client may send it.
func (u *ucServer) upload(base, parent, name, ctype string, content []byte) string {
	u.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("metadata", fmt.Sprintf(`{"name":%q,"kind":"FILE","parents":[%q]}`, name, parent))
	h := textproto.MIMEHeader{"Content-Disposition": {fmt.Sprintf(`form-data; name="content"; filename=%q`, name)}}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	pw, _ := mw.CreatePart(h)
	_, _ = pw.Write(content)
	_ = mw.Close()
	r := u.do("POST", base+"/cdproxy/nodes?suppress=deduplication", &buf, http.Header{"Content-Type": {mw.FormDataContentType()}}, true)
	if r.status != http.StatusCreated {
		u.t.Fatalf("upload %s: %d %s", name, r.status, r.body)
	}
	var n struct{ ID string }
	if err := json.Unmarshal(r.body, &n); err != nil {
		u.t.Fatal(err)
	}
	return n.ID
}

func (u *ucServer) tempLink(id string) string {
	u.t.Helper()
	var n struct{ TempLink string }
	u.json("GET", "/drive/v1/nodes/"+id+"?tempLink=true", "", &n)
	if n.TempLink == "" {
		u.t.Fatalf("node %s has no tempLink", id)
	}
	return n.TempLink
}

func (u *ucServer) shareLink(id string) string {
	u.t.Helper()
	var l struct{ URL string }
	u.json("POST", "/drive/v1/nodes/"+id+"/links", "", &l)
	return l.URL
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	img.Set(3, 3, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// userContentCSP is the policy of user bytes (httpapi.UserContentCSP),
// spelled out: changing it must be deliberate.
const userContentCSP = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"

// checkSandboxed asserts the headers every reply with user bytes has.
func checkSandboxed(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	if csp != userContentCSP {
		t.Errorf("%s: Content-Security-Policy %q, want %q", what, csp, userContentCSP)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", what, got)
	}
}

// TestUserContentHeaders: every route that returns a user's bytes (the
// content route, temp links, share links, thumbnails, archives) sends
// them sandboxed and nosniff; only passive types (images but SVG, audio,
// video, text/plain) go inline with their stored type; HTML, SVG and
// anything else are attachments; script and style types are sent as
// application/octet-stream, which no <script> or <link> accepts under
// nosniff.
func TestUserContentHeaders(t *testing.T) {
	if httpapi.UserContentCSP != userContentCSP {
		t.Errorf("UserContentCSP = %q, want %q", httpapi.UserContentCSP, userContentCSP)
	}
	u := newUCServer(t, false)
	root := u.root()
	pic := testPNG(t)
	files := []struct {
		name, stored string
		content      []byte
		wantType     string
		inline       bool
	}{
		{"page.html", "text/html", []byte(`<script>fetch('/ap/oa')</script>`), "text/html", false},
		{"page.xhtml", "application/xhtml+xml", []byte(`<html xmlns="http://www.w3.org/1999/xhtml"><script>1</script></html>`), "application/xhtml+xml", false},
		{"pic.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), "image/svg+xml", false},
		{"data.xml", "text/xml", []byte(`<a/>`), "text/xml", false},
		{"app.js", "text/javascript", []byte(`document.title='owned'`), "application/octet-stream", false},
		{"app.mjs", "application/x-javascript; charset=utf-8", []byte(`export {}`), "application/octet-stream", false},
		{"style.css", "text/css", []byte(`body{}`), "application/octet-stream", false},
		{"doc.pdf", "application/pdf", []byte(`%PDF-1.4`), "application/pdf", false},
		{"lying.png", "TEXT/HTML", []byte(`<script>1</script>`), "text/html", false},
		{"two.txt", "text/plain, text/html", []byte(`<script>1</script>`), "application/octet-stream", false},
		{"bare.bin", "", []byte{0, 1, 2}, "application/octet-stream", false},
		// Without a type (or as octet-stream) the name's extension decides.
		{"typeless.html", "", []byte(`<script>1</script>`), "text/html", false},
		{"typeless.svg", "application/octet-stream", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "image/svg+xml", false},
		{"pic.png", "image/png", pic, "image/png", true},
		{"notes.txt", "text/plain; charset=utf-8", []byte(`<script>not run</script>`), "text/plain", true},
		{"song.mp3", "audio/mpeg", []byte{0xff, 0xfb}, "audio/mpeg", true},
		{"clip.mp4", "video/mp4", []byte{0, 0, 0, 0x18}, "video/mp4", true},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			id := u.upload(u.main, root, f.name, f.stored, f.content)
			routes := []struct {
				name, url string
				auth      bool
				named     bool // an inline reply names the file
			}{
				{"content", u.main + "/cdproxy/nodes/" + id + "/content", true, false},
				{"templink", u.tempLink(id), false, true},
				{"share", u.shareLink(id), false, true},
			}
			for _, rt := range routes {
				for _, method := range []string{"GET", "HEAD"} {
					for _, download := range []bool{false, true} {
						what := fmt.Sprintf("%s %s download=%v", method, rt.name, download)
						target := rt.url
						if download {
							target += "?download=true"
						}
						r := u.do(method, target, nil, nil, rt.auth)
						if r.status != http.StatusOK {
							t.Fatalf("%s: %d %s", what, r.status, r.body)
						}
						if method == "GET" && !bytes.Equal(r.body, f.content) {
							t.Errorf("%s: body %q, want the uploaded bytes", what, r.body)
						}
						checkSandboxed(t, what, r.header)
						if ct := r.header.Get("Content-Type"); ct != f.wantType {
							t.Errorf("%s: Content-Type %q, want %q", what, ct, f.wantType)
						}
						cd := r.header.Get("Content-Disposition")
						typ, params, err := mime.ParseMediaType(cd)
						switch {
						case download || !f.inline:
							if err != nil || typ != "attachment" || params["filename"] != f.name {
								t.Errorf("%s: Content-Disposition %q, want attachment; filename=%q", what, cd, f.name)
							}
						case rt.named:
							if err != nil || typ != "inline" || params["filename"] != f.name {
								t.Errorf("%s: Content-Disposition %q, want inline; filename=%q", what, cd, f.name)
							}
						default:
							if cd != "" {
								t.Errorf("%s: Content-Disposition %q, want none (ACD's inline reply)", what, cd)
							}
						}
					}
				}
			}
		})
	}

	t.Run("Thumbnail", func(t *testing.T) {
		id := u.upload(u.main, root, "thumb.png", "image/png", pic)
		for _, target := range []struct {
			url  string
			auth bool
		}{{u.main + "/cdproxy/nodes/" + id + "/content?viewBox=20", true}, {u.shareLink(id) + "?viewBox=20", false}} {
			r := u.do("GET", target.url, nil, nil, target.auth)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("thumbnail %s: %d %s", target.url, r.status, r.header.Get("Content-Type"))
			}
			checkSandboxed(t, "thumbnail", r.header)
		}
		// A viewBox on a file that is no image is an error reply, still sandboxed.
		svg := u.upload(u.main, root, "thumb.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`))
		r := u.do("GET", u.main+"/cdproxy/nodes/"+svg+"/content?viewBox=20", nil, nil, true)
		if r.status/100 == 2 {
			t.Errorf("thumbnail of an SVG: %d %s", r.status, r.header.Get("Content-Type"))
		}
		checkSandboxed(t, "thumbnail error", r.header)
	})

	t.Run("Archive", func(t *testing.T) {
		dir := u.mkdir(root, "site")
		u.upload(u.main, dir, "index.html", "text/html", []byte(`<script>1</script>`))
		r := u.do("GET", u.main+"/cdproxy/nodes/"+dir+"/archive", nil, nil, true)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/zip" {
			t.Fatalf("archive: %d %s", r.status, r.header.Get("Content-Type"))
		}
		checkSandboxed(t, "archive", r.header)
		if typ, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition")); err != nil || typ != "attachment" || params["filename"] != "site.zip" {
			t.Errorf("archive Content-Disposition %q", r.header.Get("Content-Disposition"))
		}
	})

	t.Run("UnicodeName", func(t *testing.T) {
		id := u.upload(u.main, root, "ünï €.html", "text/html", []byte("x"))
		r := u.do("GET", u.tempLink(id), nil, nil, false)
		cd := r.header.Get("Content-Disposition")
		if _, params, err := mime.ParseMediaType(cd); err != nil || params["filename"] != "ünï €.html" || !strings.Contains(cd, "filename*=utf-8''") {
			t.Errorf("Content-Disposition %q, want attachment; filename*=utf-8''...", cd)
		}
	})
}

// TestContentOrigin: with a content URL, account/endpoint's contentUrl and
// temp links point at the content host; that host serves the content
// routes (downloads, uploads, temp links, share-link files) with CORS for
// the public origin only, and 404 for everything else: the web UI, the
// OAuth pages and tokens, the metadata API, share-link listings.
func TestContentOrigin(t *testing.T) {
	u := newUCServer(t, true)
	root := u.root()

	var ep struct{ MetadataURL, ContentURL string }
	u.json("GET", "/drive/v1/account/endpoint", "", &ep)
	if ep.MetadataURL != u.main+"/drive/v1/" || ep.ContentURL != u.content+"/cdproxy/" {
		t.Errorf("endpoint %+v, want metadataUrl %s/drive/v1/ and contentUrl %s/cdproxy/", ep, u.main, u.content)
	}

	// Uploads and downloads on the content host, as ACD clients do.
	page := []byte(`<script>fetch('/ap/oa')</script>`)
	id := u.upload(u.content, root, "page.html", "text/html", page)
	r := u.do("GET", u.content+"/cdproxy/nodes/"+id+"/content", nil, nil, true)
	if r.status != 200 || !bytes.Equal(r.body, page) {
		t.Fatalf("download on the content host: %d %s", r.status, r.body)
	}
	checkSandboxed(t, "content host download", r.header)

	link := u.tempLink(id)
	if !strings.HasPrefix(link, u.content+"/cdproxy/templink/") {
		t.Errorf("tempLink %s, want it on %s", link, u.content)
	}
	if r := u.do("GET", link, nil, nil, false); r.status != 200 || !bytes.Equal(r.body, page) || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("temp link on the content host: %d %v", r.status, r.header)
	}

	// Share links stay on the public origin; their files are also served
	// on the content host, their listings and password form are not.
	share := u.shareLink(id)
	if !strings.HasPrefix(share, u.main+"/s/") {
		t.Errorf("share link %s, want it on %s", share, u.main)
	}
	onContent := u.content + strings.TrimPrefix(share, u.main)
	if r := u.do("GET", onContent, nil, nil, false); r.status != 200 || !bytes.Equal(r.body, page) {
		t.Errorf("share-link file on the content host: %d %s", r.status, r.body)
	} else {
		checkSandboxed(t, "content host share file", r.header)
	}
	folder := u.mkdir(root, "shared")
	folderLink := u.shareLink(folder)
	if r := u.do("GET", folderLink, nil, nil, false); r.status != 200 {
		t.Errorf("folder link on the public host: %d", r.status)
	}

	// Nothing but content on the content host.
	for _, c := range []struct {
		method, path string
		auth         bool
	}{
		{"GET", "/ui/", false},
		{"GET", "/ui/callback", false},
		{"GET", "/ui/assets/app.js", false},
		{"GET", "/picker?client_id=clouddrive-web&origin=" + url.QueryEscape(u.main), false},
		{"GET", "/ap/oa?client_id=clouddrive-web&response_type=code&redirect_uri=%2Fui%2Fcallback", false},
		{"POST", "/auth/o2/token", false},
		{"GET", "/device", false},
		{"GET", "/drive/v1/account/endpoint", true},
		{"GET", "/drive/v1/nodes/" + id, true},
		{"GET", "/", false},
		{"GET", "/metrics", false},
		{"GET", "/healthz", false},
		{"GET", strings.TrimPrefix(folderLink, u.main), false},
		{"POST", strings.TrimPrefix(share, u.main), false},
		{"GET", "/cdproxy/../ap/oa", false},
	} {
		r := u.do(c.method, u.content+c.path, nil, http.Header{"Accept": {"text/html"}}, c.auth)
		if r.status != http.StatusNotFound && !(r.status/100 == 3 && strings.HasPrefix(c.path, "/cdproxy/..")) {
			t.Errorf("%s %s on the content host: %d, want 404\n%s", c.method, c.path, r.status, r.body)
		}
		if r.status/100 == 3 {
			// The API's path cleaning may redirect; the target is then
			// refused in turn.
			loc, _ := url.Parse(r.header.Get("Location"))
			if r2 := u.do("GET", u.content+loc.Path, nil, nil, false); r2.status != http.StatusNotFound {
				t.Errorf("%s %s on the content host redirects to %s: %d, want 404", c.method, c.path, loc, r2.status)
			}
		}
	}
	// The public host still serves all of it.
	if r := u.do("GET", u.main+"/ui/", nil, nil, false); r.status != 200 {
		t.Errorf("/ui/ on the public host: %d", r.status)
	}
	if r := u.do("GET", u.main+"/cdproxy/nodes/"+id+"/content", nil, nil, true); r.status != 200 {
		t.Errorf("download on the public host: %d", r.status)
	}
	// The UI may fetch from the content origin.
	if csp := u.do("GET", u.main+"/ui/", nil, nil, false).header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' "+u.content+";") ||
		!strings.Contains(csp, "img-src 'self' blob: data: "+u.content+";") {
		t.Errorf("UI policy %q does not allow the content origin", csp)
	}

	t.Run("CORS", func(t *testing.T) {
		pre := func(origin string) ucReply {
			return u.do("OPTIONS", u.content+"/cdproxy/nodes", nil, http.Header{"Origin": {origin},
				"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"authorization,content-type"}}, false)
		}
		r := pre(u.main)
		if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != u.main ||
			!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
			!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight from the public origin: %d %v", r.status, r.header)
		}
		if r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Error("CORS allows credentials (cookies); the content API takes bearer tokens only")
		}
		if r := pre("http://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from another origin allowed: %v", r.header)
		}
		r = u.do("GET", u.content+"/cdproxy/nodes/"+id+"/content", nil, http.Header{"Origin": {u.main}}, true)
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != u.main || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "Content-Disposition") {
			t.Errorf("GET from the public origin: %d %v", r.status, r.header)
		}
		// The public host answers no CORS at all, as before.
		if r := u.do("GET", u.main+"/cdproxy/nodes/"+id+"/content", nil, http.Header{"Origin": {u.content}}, true); r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("public host answers CORS: %v", r.header)
		}
	})
}

// TestContentURLChecks: a content URL needs a public URL on another host
// name, and must be an http(s) URL.
func TestContentURLChecks(t *testing.T) {
	for _, c := range []struct{ public, content string }{
		{"", "https://content.example.com"},
		{"https://drive.example.com", "https://drive.example.com"},
		{"https://drive.example.com", "https://DRIVE.example.com:8443/content"},
		{"https://drive.example.com", "ftp://content.example.com"},
		{"https://drive.example.com", "content.example.com"},
		{"https://drive.example.com", "https://content.example.com/?x=1"},
		{"https://drive.example.com", "https://u:p@content.example.com"},
	} {
		err := app.CheckContentURL(c.public, c.content)
		if err == nil {
			t.Errorf("public %q, content %q: accepted", c.public, c.content)
			continue
		}
		if _, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), PublicURL: c.public, ContentURL: c.content, WebhookPoll: -1}); err == nil {
			t.Errorf("app.Open with public %q, content %q: accepted", c.public, c.content)
		}
	}
	for _, c := range []struct{ public, content string }{
		{"https://drive.example.com", "https://content.example.net"},
		{"https://drive.example.com", "http://127.0.0.1:8081/prefix/"},
		{"https://drive.example.com", ""},
		{"", ""},
	} {
		if err := app.CheckContentURL(c.public, c.content); err != nil {
			t.Errorf("public %q, content %q: %v", c.public, c.content, err)
		}
	}
}
