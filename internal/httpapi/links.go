package httpapi

import (
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/share"
	"github.com/clouddrive/clouddrive/internal/webui"
)

// Share links (package share documents the model). The owner's side lives
// under /drive/v1 with bearer tokens; the public side under /s/{token}
// with no authentication.

// shared wraps a share-link handler: 404 when the server has no share
// service.
func (s *Server) shared(h http.HandlerFunc) http.HandlerFunc {
	return s.ifConfigured(func() bool { return s.Shares != nil }, h)
}

// linkJSON is a share link as the API returns it.
type linkJSON struct {
	ID          string `json:"id"`
	NodeID      string `json:"nodeId"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	CreatedDate string `json:"createdDate"`
	ExpiresAt   string `json:"expiresAt,omitempty"`
	HasPassword bool   `json:"hasPassword"`
}

type linkList struct {
	Count int         `json:"count"`
	Data  []*linkJSON `json:"data"`
}

func (s *Server) linkJSON(r *http.Request, l *share.Link) *linkJSON {
	j := &linkJSON{ID: l.ID, NodeID: l.NodeID, Kind: string(l.Node.Kind), Name: l.Node.Name,
		URL:         s.baseURL(r) + "/s/" + l.Token,
		CreatedDate: l.CreatedAt.UTC().Format(acd.TimeFormat), HasPassword: l.HasPassword()}
	if !l.ExpiresAt.IsZero() {
		j.ExpiresAt = l.ExpiresAt.UTC().Format(acd.TimeFormat)
	}
	return j
}

func (s *Server) linksJSON(r *http.Request, ls []*share.Link) linkList {
	out := linkList{Count: len(ls), Data: []*linkJSON{}}
	for _, l := range ls {
		out.Data = append(out.Data, s.linkJSON(r, l))
	}
	return out
}

// createLink is POST /drive/v1/nodes/{id}/links with an optional body
// {"expiresAt": RFC 3339, "password": "..."}.
func (s *Server) createLink(w http.ResponseWriter, r *http.Request) {
	const op = "httpapi.createLink"
	var in struct {
		ExpiresAt *string `json:"expiresAt"`
		Password  *string `json:"password"`
	}
	if err := readJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var o share.CreateOptions
	if in.ExpiresAt != nil && *in.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, *in.ExpiresAt)
		if err != nil {
			s.writeError(w, r, &drive.Error{Op: op, Kind: drive.Invalid, Param: "expiresAt", Message: "expiresAt must be an RFC 3339 time"})
			return
		}
		o.ExpiresAt = t
	}
	if in.Password != nil {
		o.Password = *in.Password
	}
	l, err := s.Shares.Create(r.Context(), r.PathValue("id"), o)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.linkJSON(r, l))
}

// listNodeLinks is GET /drive/v1/nodes/{id}/links.
func (s *Server) listNodeLinks(w http.ResponseWriter, r *http.Request) {
	ls, err := s.Shares.List(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.linksJSON(r, ls))
}

// listLinks is GET /drive/v1/links: every link of the caller.
func (s *Server) listLinks(w http.ResponseWriter, r *http.Request) {
	ls, err := s.Shares.List(r.Context(), "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.linksJSON(r, ls))
}

// revokeLink is DELETE /drive/v1/links/{linkId}: 204.
func (s *Server) revokeLink(w http.ResponseWriter, r *http.Request) {
	if err := s.Shares.Revoke(r.Context(), r.PathValue("linkId")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// shareCookie is the name of the password cookie; its path is the link's.
const shareCookie = "clouddrive_share"

// sharePath is the path of a link's public URL as the browser sees it
// (with the public base URL's path prefix, if any).
func (s *Server) sharePath(r *http.Request, l *share.Link) string {
	prefix := ""
	if u, err := url.Parse(s.baseURL(r)); err == nil {
		prefix = strings.TrimSuffix(u.Path, "/")
	}
	return prefix + "/s/" + l.Token
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// publicHeaders are set on every public share response.
func publicHeaders(h http.Header) {
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-cache")
}

// resolveShare finds the link of the request's token and checks its
// password (cookie or X-Share-Password). On failure it has answered.
func (s *Server) resolveShare(w http.ResponseWriter, r *http.Request) (*share.Link, bool) {
	publicHeaders(w.Header())
	l, err := s.Shares.Resolve(r.Context(), r.PathValue("token"))
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	if !l.HasPassword() {
		return l, true
	}
	if c, err := r.Cookie(shareCookie); err == nil && s.Shares.CheckCookie(l, c.Value) {
		return l, true
	}
	pw := r.Header.Get("X-Share-Password")
	ok, err := s.Shares.CheckPassword(r.Context(), l, pw)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	if ok {
		return l, true
	}
	msg := "this link needs a password"
	if pw != "" {
		msg = "wrong password"
	}
	s.passwordRequired(w, r, l, msg)
	return nil, false
}

// passwordRequired answers 401: an error body for JSON clients, else the
// password form.
func (s *Server) passwordRequired(w http.ResponseWriter, r *http.Request, l *share.Link, msg string) {
	if wantsJSON(r) || r.Method == http.MethodHead {
		s.writeError(w, r, drive.E("httpapi.share", drive.Unauthorized, msg))
		return
	}
	next := r.URL.Path
	if r.Method == http.MethodPost {
		next = r.Form.Get("next") // a wrong password: ask again for the same page
	}
	if !insideLink(l.Token, next) {
		next = ""
	}
	webui.WriteSharePassword(w, http.StatusUnauthorized, webui.SharePassword{
		Action: s.sharePath(r, l), Message: msg, Next: next, Wrong: strings.HasPrefix(msg, "wrong")})
}

// sharePassword is POST /s/{token} with a form field password (or
// ?password=): on success it sets the password cookie and redirects (303)
// to the form's next path, or answers 204 to a JSON client.
func (s *Server) sharePassword(w http.ResponseWriter, r *http.Request) {
	publicHeaders(w.Header())
	l, err := s.Shares.Resolve(r.Context(), r.PathValue("token"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, &drive.Error{Op: "httpapi.sharePassword", Kind: drive.Invalid, Message: "the form cannot be read"})
		return
	}
	ok, err := s.Shares.CheckPassword(r.Context(), l, r.Form.Get("password"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !ok {
		s.passwordRequired(w, r, l, "wrong password")
		return
	}
	path := s.sharePath(r, l)
	http.SetCookie(w, &http.Cookie{Name: shareCookie, Value: s.Shares.Cookie(l), Path: path,
		HttpOnly: true, Secure: strings.HasPrefix(s.baseURL(r), "https:"), SameSite: http.SameSiteLaxMode})
	if wantsJSON(r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	dest := path
	if next := r.Form.Get("next"); insideLink(l.Token, next) {
		dest = strings.TrimSuffix(path, "/s/"+l.Token) + next
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// insideLink reports whether p is a plain path below the link's own,
// /s/{token}/...: already clean (no dot segments, no empty segments, so
// http.Redirect's own cleaning cannot move it elsewhere), made of URL-safe
// characters only (no backslash a browser reads as a slash, no percent
// escapes, no scheme or host), so a redirect to it stays on this server.
func insideLink(token, p string) bool {
	if !strings.HasPrefix(p, "/s/"+token+"/") || path.Clean(p) != p {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
			return false
		}
	}
	return true
}

// shareRoot is GET|HEAD /s/{token}: the linked file or folder.
func (s *Server) shareRoot(w http.ResponseWriter, r *http.Request) {
	l, ok := s.resolveShare(w, r)
	if !ok {
		return
	}
	s.serveShared(w, r, l, l.Node)
}

// shareNode is GET|HEAD /s/{token}/nodes/{nodeId}: a node inside a
// linked folder.
func (s *Server) shareNode(w http.ResponseWriter, r *http.Request) {
	l, ok := s.resolveShare(w, r)
	if !ok {
		return
	}
	n, err := s.Shares.Node(r.Context(), l, r.PathValue("nodeId"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveShared(w, r, l, n)
}

// serveShared answers with a file's content (Range, ETag, ?download=1,
// ?viewBox=N) or a folder's listing (HTML, or JSON for Accept:
// application/json).
func (s *Server) serveShared(w http.ResponseWriter, r *http.Request, l *share.Link, n *drive.Node) {
	if n.Kind != drive.KindFolder {
		if s.wantsThumbnail(r) {
			s.serveThumbnail(w, r, n)
			return
		}
		// serveContent sets the user-content headers (usercontent.go).
		s.serveContent(w, r, n, true, func(off, length int64) (io.ReadCloser, error) {
			return s.Shares.Open(r.Context(), l, n, off, length)
		})
		return
	}
	if s.onContentHost(r) {
		// The content origin serves files only; listings are pages of
		// the public origin.
		s.unknownOperation(w, r)
		return
	}
	kids, err := s.Shares.Children(r.Context(), l, n)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if wantsJSON(r) {
		out := shareListing{Count: len(kids), Data: []shareEntry{}}
		for _, c := range kids {
			e := shareEntry{ID: c.ID, Name: c.Name, Kind: string(c.Kind), ModifiedDate: c.ModifiedAt.UTC().Format(acd.TimeFormat)}
			if c.Content != nil {
				size := c.Content.Size
				e.Size, e.ContentType = &size, c.Content.ContentType
			}
			out.Data = append(out.Data, e)
		}
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Type", "application/json")
			return
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	base := s.sharePath(r, l)
	page := webui.ShareListing{Title: n.Name, Sub: n.ID != l.NodeID, Top: base}
	if page.Title == "" {
		page.Title = "Shared folder"
	}
	for _, c := range kids {
		href := base + "/nodes/" + url.PathEscape(c.ID)
		e := webui.ShareEntry{Name: c.Name, Href: href, Folder: c.Kind == drive.KindFolder, Modified: c.ModifiedAt}
		if c.Content != nil {
			e.Download, e.Size = href+"?download=1", c.Content.Size
		}
		page.Entries = append(page.Entries, e)
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		return
	}
	webui.WriteShareListing(w, http.StatusOK, page)
}

type shareEntry struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Size         *int64 `json:"size,omitempty"`
	ContentType  string `json:"contentType,omitempty"`
	ModifiedDate string `json:"modifiedDate"`
}

type shareListing struct {
	Count int          `json:"count"`
	Data  []shareEntry `json:"data"`
}
