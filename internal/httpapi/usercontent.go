package httpapi

// User content: every response that carries bytes a user uploaded (a
// download, a temp link, a share link's file, a thumbnail, an archive)
// takes its security headers from this file, and only from here.
//
// A file is whatever its uploader says it is: a page of HTML or an SVG
// with script, served inline on the server's origin, would run as a page
// of that origin, read the OAuth consent page with the visitor's session
// and take a token. So every such response
//
//   - carries UserContentCSP, whose sandbox gives the document an opaque
//     origin and no script, and whose default-src 'none' lets it load
//     nothing (images and media from the response itself still render);
//   - carries X-Content-Type-Options: nosniff, so a browser never guesses
//     a more active type than the one sent, and refuses a script or style
//     sheet whose type is not a script or style type;
//   - is sent inline only when its stored type is on the passive list
//     (passiveType: non-SVG images, audio, video, text/plain), with that
//     stored type; anything else is Content-Disposition: attachment, so a
//     browser that opens it saves it instead;
//   - never carries a type a browser would run or apply from <script src>,
//     <link rel=stylesheet>, a module import or a service worker: stored
//     JavaScript and CSS types, and types that do not parse, are sent as
//     application/octet-stream (the bytes are unchanged; ACD clients only
//     read the bytes, and the node's metadata keeps the stored type).
//
// ?download=true (or 1) makes any file an attachment, as before. ACD
// fidelity: a passive file keeps its stored Content-Type and, on
// /cdproxy/nodes/{id}/content, no Content-Disposition.
//
// A separate content origin (Server.ContentURL, `serve --content-url`)
// adds a second wall, as ACD's content host did: account/endpoint's
// contentUrl and temp links then point there, and that host answers
// content routes only (SplitContentHost), so even a browser that ignored
// the headers above would run a user's page on an origin that holds no
// session, no UI and no OAuth pages.

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// UserContentCSP is the Content-Security-Policy of every response that
// carries a user's bytes.
const UserContentCSP = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"

// octetStream is the type of content that has none, or one that must not
// be sent as is.
const octetStream = "application/octet-stream"

// sandboxUserBytes sets the headers every response with user bytes has,
// whatever its type; error replies on those routes carry them too.
func sandboxUserBytes(h http.Header) {
	h.Set("Content-Security-Policy", UserContentCSP)
	h.Set("X-Content-Type-Options", "nosniff")
}

// userFileHeaders sets Content-Type and Content-Disposition for a user's
// file named name with stored type stored. download forces an attachment;
// named adds the file name to an inline disposition (share links and temp
// links; the content route keeps ACD's bare reply).
func userFileHeaders(h http.Header, name, stored string, download, named bool) {
	ct, passive := servedType(stored)
	h.Set("Content-Type", ct)
	switch {
	case download || !passive:
		h.Set("Content-Disposition", disposition("attachment", name))
	case named:
		h.Set("Content-Disposition", disposition("inline", name))
	default:
		h.Del("Content-Disposition")
	}
}

// disposition is a Content-Disposition value with the file name
// (RFC 6266; a non-ASCII name goes as an RFC 2231 filename*).
func disposition(kind, name string) string {
	if name == "" {
		return kind
	}
	if v := mime.FormatMediaType(kind, map[string]string{"filename": name}); v != "" {
		return v
	}
	return kind
}

// servedType returns the Content-Type to send for a stored type, and
// whether the file may be shown inline. The stored value is parsed and
// written again, so the browser reads exactly the type classified here (a
// value a browser might parse differently, such as "text/plain,
// text/html", does not parse and goes as application/octet-stream).
func servedType(stored string) (contentType string, passive bool) {
	mt, params, err := mime.ParseMediaType(stored)
	if err != nil || strings.Count(mt, "/") != 1 {
		return octetStream, false
	}
	ct := mime.FormatMediaType(mt, params)
	if ct == "" {
		ct = mt
	}
	switch {
	case passiveType(mt):
		return ct, true
	case scriptOrStyle(mt):
		return octetStream, false
	}
	return ct, false
}

// passiveTypes are the types, besides audio/* and video/*, that cannot
// run script wherever a browser loads them, and render usefully inline.
var passiveTypes = map[string]bool{
	"text/plain": true,
	"image/png":  true, "image/apng": true, "image/jpeg": true, "image/pjpeg": true, "image/gif": true,
	"image/webp": true, "image/avif": true, "image/bmp": true, "image/x-ms-bmp": true, "image/x-icon": true,
	"image/vnd.microsoft.icon": true, "image/tiff": true, "image/heic": true, "image/heif": true, "image/jxl": true,
}

// passiveType reports whether the media type mt (lower case, no
// parameters) may be served inline. Not SVG (it runs script), not any XML
// (XSLT, XHTML), not HTML, PDF (viewers run script) or anything unknown.
func passiveType(mt string) bool {
	if passiveTypes[mt] {
		return true
	}
	typ, sub, _ := strings.Cut(mt, "/")
	return (typ == "audio" || typ == "video") && !strings.Contains(sub, "xml")
}

// scriptOrStyle reports whether a browser would execute or apply content
// of type mt as a script (the WHATWG JavaScript MIME types and anything
// naming a script language) or a style sheet.
func scriptOrStyle(mt string) bool {
	typ, sub, _ := strings.Cut(mt, "/")
	if typ == "text" && sub == "css" {
		return true
	}
	for _, w := range []string{"javascript", "ecmascript", "jscript", "livescript"} {
		if strings.Contains(sub, w) {
			return true
		}
	}
	return false
}

// contentBaseURL is the base URL of the content routes for r: ContentURL
// when set, else the public base URL.
func (s *Server) contentBaseURL(r *http.Request) string {
	if s.ContentURL != "" {
		return strings.TrimSuffix(s.ContentURL, "/")
	}
	return s.baseURL(r)
}

// onContentHost reports whether r was sent to the content origin.
func (s *Server) onContentHost(r *http.Request) bool {
	if s.ContentURL == "" {
		return false
	}
	u, err := url.Parse(s.ContentURL)
	return err == nil && hostKey(r.Host) == hostKey(u.Host)
}

// hostKey is a Host value compared case-insensitively and without a
// default port (:80 or :443: behind a TLS-terminating proxy the request
// itself may be plain HTTP).
func hostKey(host string) string {
	host = strings.ToLower(host)
	return strings.TrimSuffix(strings.TrimSuffix(host, ":443"), ":80")
}

// SplitContentHost returns main, except when ContentURL is set: then a
// request whose Host is the content host goes to content (the API handler)
// if it is a content route, /cdproxy/... or a GET or HEAD of /s/...
// (serveShared answers only files there), and gets the API's 404
// otherwise. So the UI, the OAuth pages and /drive/v1 (and the cookies
// and tokens they handle) are never reachable on the content origin.
//
// Content routes on the content host answer CORS requests from the
// public origin (the web UI fetches thumbnails and uploads there with its
// bearer token; no cookies are involved), and from no other origin.
func (s *Server) SplitContentHost(main, content http.Handler) http.Handler {
	if s.ContentURL == "" {
		return main
	}
	notFound := s.withRequestID(http.HandlerFunc(s.unknownOperation))
	allowOrigin := ""
	if u, err := url.Parse(s.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		host := strings.ToLower(u.Host)
		if u.Scheme == "https" {
			host = strings.TrimSuffix(host, ":443")
		} else {
			host = strings.TrimSuffix(host, ":80")
		}
		allowOrigin = strings.ToLower(u.Scheme) + "://" + host
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.onContentHost(r) {
			main.ServeHTTP(w, r)
			return
		}
		p := r.URL.Path
		get := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case strings.HasPrefix(p, "/cdproxy/"):
			if cors(w, r, allowOrigin) {
				return
			}
		case strings.HasPrefix(p, "/s/") && get:
		default:
			notFound.ServeHTTP(w, r)
			return
		}
		content.ServeHTTP(w, r)
	})
}

// cors adds the CORS headers for a request from allowOrigin and answers
// its preflight (reporting true); requests from other origins get no CORS
// headers, so browsers keep their replies from the page.
func cors(w http.ResponseWriter, r *http.Request, allowOrigin string) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || allowOrigin == "" || !strings.EqualFold(origin, allowOrigin) {
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	methods, headers := "GET, HEAD, POST, PUT", "Authorization, Content-Type, Range, If-None-Match"
	expose := "Content-Disposition, Content-Length, Content-Range, ETag, Retry-After, X-Amzn-Requestid"
	if r.URL.Path == "/cdproxy/uploads" || strings.HasPrefix(r.URL.Path, "/cdproxy/uploads/") { // resumable uploads (tus)
		methods = "POST, HEAD, PATCH, DELETE"
		headers = "Authorization, Content-Type, Tus-Resumable, Upload-Length, Upload-Offset, Upload-Metadata, Upload-Checksum, X-Requested-With"
		expose = "Location, Upload-Offset, Upload-Length, Upload-Expires, Tus-Resumable, Tus-Version, Tus-Extension, " +
			"Tus-Max-Size, Tus-Checksum-Algorithm, Clouddrive-Node-Id, Retry-After, X-Amzn-Requestid"
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", headers)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	h.Set("Access-Control-Expose-Headers", expose)
	return false
}
