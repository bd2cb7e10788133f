// Package webui serves clouddrive's browser interface: the file manager
// at /ui/, its OAuth callback at /ui/callback and the file picker at
// /picker. The pages are hand-written HTML, CSS and JavaScript modules
// embedded in the binary (no build step, no external assets); they talk
// only to the public API, as any other client does, after an OAuth
// authorization code flow with PKCE as the public first-party client
// clouddrive-web. One third-party script is vendored, unmodified:
// tus-js-client's browser bundle (static/assets/vendor/tus-js-client, its
// version, licence and checksum beside it), which the UI imports for
// resumable uploads of large files (tus, {contentUrl}uploads/).
//
// # Routes
//
//	GET /ui/            the file manager (its state is in the query: ?folder=ID, ?trash)
//	GET /ui/callback    OAuth redirect URI: trades the code for tokens, then goes back
//	GET /ui/assets/...  scripts, styles and icons
//	GET /picker         the picker (see below)
//	GET /               302 to /ui/ for browsers (Accept: text/html); other
//	                    clients keep the API's 404
//
// # Content-Security-Policy
//
// Every response carries a Content-Security-Policy, nosniff and
// no-referrer. Styles, images, media and connections may come from this
// origin only (images and media also from blob: URLs, which hold
// thumbnails fetched with the token); no plugins, no frames, no workers, no
// <base>, forms post to this origin; no framing by others (except the
// picker, see below). With a separate content origin (`serve
// --content-url`), connections, images and media may also come from it:
// the API's contentUrl points there, and the pages fetch thumbnails,
// downloads and uploads from it with the bearer token (CORS).
//
// Scripts are not trusted by origin. This origin also serves the bytes
// users upload (/cdproxy/..., /s/...), so `script-src 'self'` would let an
// injected <script src="/cdproxy/templink/..."> run a user's JavaScript as
// the UI. Instead each page is rendered with a fresh random nonce, and its
// policy is `script-src 'nonce-N'`: only the page's own entry module runs,
// and the modules it imports (a static or dynamic import inherits the
// importer's nonce). No user byte can carry the nonce. A path-restricted
// source (script-src <origin>/ui/assets/) was not chosen: CSP ignores the
// path after a redirect, so any redirect on the origin would reopen it.
// Pages are therefore never cached (no-store, no ETag): a cached page
// would carry a stale nonce. Assets (scripts, styles, icons) are static,
// with ETags, and their own responses allow no script at all.
//
// User bytes are a second line of defence: the API sends them sandboxed,
// nosniff, and script or style types as application/octet-stream, which no
// <script> accepts (package httpapi, usercontent.go).
//
// # Picker
//
// A third-party site opens /picker?client_id=ID&origin=ORIGIN[&multiple=1]
// in a popup (window.open) or an iframe. ID is the client id of an app
// registered with `clouddrive admin app add`; ORIGIN is the site's own
// origin (scheme://host[:port]) and must be the origin of one of that
// app's registered redirect URIs, exactly (no loopback port wildcard).
// Otherwise the picker answers 400 and never runs, so it can only ever
// talk to an origin that an administrator registered. The page may be
// framed by ORIGIN only (frame-ancestors).
//
// The user signs in if needed (the same OAuth flow as the UI, in the same
// window; in an iframe, where the login page refuses to be framed, in a
// popup), picks files, and the page creates a share link for each and
// posts
//
//	{type: "clouddrive:picked", files: [{id, name, size, url}]}
//
// with postMessage(msg, ORIGIN) to window.opener, or to window.parent when
// framed; Cancel posts {type: "clouddrive:cancel"}. docs/picker-example.html
// is a working opener.
package webui

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

//go:embed static
var staticFS embed.FS

// Handler serves the web UI and the picker. Make one with New.
type Handler struct {
	apps      Apps // where the picker looks up registered apps
	publicURL string
	// contentOrigin is the origin of the separate content URL, or "".
	contentOrigin string
	logger        *slog.Logger
	assets        map[string]asset   // by path below static/, but the pages
	pages         *template.Template // index.html, callback.html, picker.html
}

// pageData is what the page templates are rendered with.
type pageData struct {
	// Nonce is the script nonce of this response.
	Nonce string
	// Origin, ClientID and Multiple are the picker's.
	Origin, ClientID string
	Multiple         bool
}

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// contentTypes maps the extensions of the embedded files to their types;
// a file with another extension is an error at start-up.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8", // the vendored script's licence and note
}

// Apps looks up registered apps (oauth.Apps).
type Apps interface {
	// Get returns the app with the given client id, NotFound if none.
	Get(ctx context.Context, clientID string) (*meta.App, error)
}

// New returns a handler over the embedded files. apps is where the picker
// looks up registered apps; publicURL is the external base URL (empty:
// derived from each request's Host, as the API does), against which
// relative redirect URIs of apps ("/ui/callback") resolve; contentURL is
// the separate content origin's URL, if any, which the pages may then
// fetch from and show images of; a nil logger discards.
func New(apps Apps, publicURL, contentURL string, logger *slog.Logger) (*Handler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{apps: apps, publicURL: publicURL, logger: logger, assets: map[string]asset{}}
	if contentURL != "" {
		o, ok := originOf(contentURL)
		if !ok {
			return nil, drive.Errorf("webui.New", drive.Invalid, "content URL %q is not an http(s) URL", contentURL)
		}
		h.contentOrigin = o
	}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Dir(p) == "static" && path.Ext(p) == ".html" {
			return err // pages are templates, below
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return drive.Errorf("webui.New", drive.Internal, "embedded file %s has no known content type", p)
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h.assets[strings.TrimPrefix(p, "static/")] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.pages, err = template.ParseFS(staticFS, "static/*.html")
	if err != nil {
		return nil, err
	}
	return h, nil
}

// csp is the Content-Security-Policy of a UI response (see the package
// doc): scripts only with nonce, the page's (none at all when nonce is
// empty); everything else from this origin only, but connections, images
// and media also from the content origin, if there is one.
func (h *Handler) csp(nonce, frameAncestors string) string {
	script := "'none'"
	if nonce != "" {
		script = "'nonce-" + nonce + "'"
	}
	content := ""
	if h.contentOrigin != "" {
		content = " " + h.contentOrigin
	}
	return "default-src 'self'; script-src " + script + "; style-src 'self'; img-src 'self' blob: data:" + content +
		"; media-src 'self' blob:" + content + "; connect-src 'self'" + content +
		"; frame-src 'none'; worker-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; " + frameAncestors
}

// newNonce returns a fresh script nonce: 128 random bits.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Wrap returns a handler that serves the UI paths and passes every other
// request to next.
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/ui" || p == "/ui/" || strings.HasPrefix(p, "/ui/"):
		case p == "/picker":
		case p == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r):
			redirect(w, "ui/", http.StatusFound)
			return
		default:
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch {
		case p == "/ui":
			redirect(w, "ui/", http.StatusMovedPermanently)
		case p == "/picker":
			h.servePicker(w, r)
		case strings.HasPrefix(p, "/ui/assets/"):
			a, ok := h.assets[strings.TrimPrefix(p, "/ui/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			h.serve(w, r, a, "frame-ancestors 'none'")
		case p == "/ui/callback":
			h.servePage(w, r, "callback.html", pageData{}, "frame-ancestors 'none'")
		case p == "/ui/":
			// The app keeps its place (folder, trash) in the query string.
			h.servePage(w, r, "index.html", pageData{}, "frame-ancestors 'none'")
		default:
			http.NotFound(w, r)
		}
	})
}

// redirect sends a relative Location as is, so that a reverse proxy may
// serve the server under a path prefix (http.Redirect would make it
// absolute).
func redirect(w http.ResponseWriter, ref string, status int) {
	w.Header().Set("Location", ref)
	w.WriteHeader(status)
}

// wantsHTML reports whether r comes from a browser navigating.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// headers sets the security headers of a response; nonce is the page's
// script nonce, "" for responses that run no script.
func (h *Handler) headers(w http.ResponseWriter, ct, nonce, frameAncestors string) {
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("Content-Security-Policy", h.csp(nonce, frameAncestors))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if frameAncestors == "frame-ancestors 'none'" {
		hd.Set("X-Frame-Options", "DENY")
	}
}

// serve writes an embedded asset. Assets are revalidated on every use
// (they change with the binary), with a content hash as ETag.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, a asset, frameAncestors string) {
	h.headers(w, a.contentType, "", frameAncestors)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", a.etag)
	if inm := r.Header.Get("If-None-Match"); inm == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// servePage renders the page name with a fresh script nonce, never to be
// cached (the nonce is this response's only).
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request, name string, data pageData, frameAncestors string) {
	data.Nonce = newNonce()
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		h.logger.LogAttrs(r.Context(), slog.LevelError, "webui: rendering failed", slog.String("page", name), slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h.headers(w, "text/html; charset=utf-8", data.Nonce, frameAncestors)
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(buf.Bytes()))
}

// servePicker checks client_id and origin and renders the picker.
func (h *Handler) servePicker(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	origin, err := h.pickerOrigin(r.Context(), q.Get("client_id"), q.Get("origin"), h.baseURL(r))
	if err != nil {
		if drive.KindOf(err) == drive.Internal {
			h.logger.LogAttrs(r.Context(), slog.LevelError, "picker: app lookup failed", slog.Any("err", err))
		}
		h.headers(w, "text/plain; charset=utf-8", "", "frame-ancestors 'none'")
		w.Header().Set("Cache-Control", "no-store")
		msg := "The picker cannot be opened: internal error."
		if de := drive.AsError(err); de != nil && de.Kind != drive.Internal {
			msg = "The picker cannot be opened: " + de.Message + "."
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(msg + "\n"))
		return
	}
	h.servePage(w, r, "picker.html", pageData{Origin: origin, ClientID: q.Get("client_id"),
		Multiple: q.Get("multiple") == "1" || q.Get("multiple") == "true"}, "frame-ancestors "+origin)
}

// pickerOrigin returns the normalised origin the picker may post to: the
// origin asked for, when it is the origin of a redirect URI registered for
// clientID. A registered URI starting with "/" is on base (this server).
func (h *Handler) pickerOrigin(ctx context.Context, clientID, origin, base string) (string, error) {
	const op = "webui.picker"
	if clientID == "" {
		return "", drive.E(op, drive.Invalid, "client_id is missing")
	}
	want, ok := parseOrigin(origin)
	if !ok {
		return "", drive.E(op, drive.Invalid, "origin must be scheme://host[:port]")
	}
	app, err := h.apps.Get(ctx, clientID)
	if drive.Is(drive.NotFound, err) {
		return "", drive.E(op, drive.Invalid, "the application is not registered")
	}
	if err != nil {
		return "", err
	}
	for _, reg := range app.RedirectURIs {
		if strings.HasPrefix(reg, "/") {
			reg = base + reg
		}
		if o, ok := originOf(reg); ok && o == want {
			return want, nil
		}
	}
	return "", drive.E(op, drive.Invalid, "origin "+want+" is not registered for "+app.Name)
}

// originOf returns the serialised origin (lower-case scheme and host,
// default port dropped) of an http(s) URL with nothing but a path after
// the authority.
func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443" {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	o := strings.ToLower(u.Scheme) + "://" + host
	if port != "" {
		o += ":" + port
	}
	return o, true
}

// parseOrigin returns the serialised form of an origin parameter, which
// must be scheme://host[:port] with at most a "/" after it.
func parseOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return "", false
	}
	return originOf(raw)
}

// baseURL is the public base URL for r, without a trailing slash.
func (h *Handler) baseURL(r *http.Request) string {
	if h.publicURL != "" {
		return strings.TrimSuffix(h.publicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
