package oauth

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds one parsed template set per page, each with the layout.
type pages struct {
	t map[string]*template.Template
}

func loadPages() (*pages, error) {
	p := &pages{t: map[string]*template.Template{}}
	for _, name := range []string{"login", "consent", "device", "message"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		p.t[name] = t
	}
	return p, nil
}

// field is a hidden form field.
type field struct{ Name, Value string }

// pageData is what every page template sees; each uses what it needs.
type pageData struct {
	Title    string
	Error    string
	Message  string
	Action   string  // form action (a path on this server)
	CSRF     string  // the session's CSRF token
	Hidden   []field // request parameters carried through the form
	AppName  string
	UserName string
	Login    string // user name to prefill
	UserCode string
	Scopes   []scopeInfo
}

// render writes a page. Pages are never cached, never framed and run no
// script.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, d *pageData) {
	var buf bytes.Buffer
	if err := s.pages.t[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "rendering page failed", slog.String("page", name), slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage renders a page that explains a failure and goes nowhere: used
// whenever redirecting to the client would be unsafe (unknown client, a
// redirect URI that is not registered) and for CSRF failures.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.render(w, r, status, "message", &pageData{Title: title, Error: msg})
}
