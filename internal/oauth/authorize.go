package oauth

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"path"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// authzRequest is a validated authorization request.
type authzRequest struct {
	app         *meta.App
	redirectURI string
	scope       string // normalised
	state       string
	challenge   string // PKCE S256 challenge, or ""
}

// fields returns the request as form fields, for the login and consent
// forms and for the redirect back to the GET after signing in.
func (q *authzRequest) fields() []field {
	f := []field{
		{"client_id", q.app.ClientID},
		{"response_type", "code"},
		{"redirect_uri", q.redirectURI},
		{"scope", q.scope},
	}
	if q.state != "" {
		f = append(f, field{"state", q.state})
	}
	if q.challenge != "" {
		f = append(f, field{"code_challenge", q.challenge}, field{"code_challenge_method", "S256"})
	}
	return f
}

func (q *authzRequest) query() string {
	v := url.Values{}
	for _, f := range q.fields() {
		v.Set(f.Name, f.Value)
	}
	return v.Encode()
}

// authzFailure is why an authorization request was refused. With page
// set it is shown on an error page (the client or its redirect URI is not
// trustworthy); otherwise the user agent is sent back to the client with
// error and error_description (RFC 6749 section 4.1.2.1).
type authzFailure struct {
	page   bool
	status int
	code   string
	desc   string
}

// parseAuthz validates the parameters of an authorization request.
func (s *Server) parseAuthz(ctx context.Context, r *http.Request, v url.Values) (*authzRequest, *authzFailure, error) {
	for k, vs := range v {
		if len(vs) > 1 && k != "op" {
			return nil, &authzFailure{page: true, status: http.StatusBadRequest, desc: "The parameter " + k + " appears more than once."}, nil
		}
	}
	clientID := v.Get("client_id")
	if clientID == "" {
		return nil, &authzFailure{page: true, status: http.StatusBadRequest, desc: "The request names no application (client_id is missing)."}, nil
	}
	var app *meta.App
	err := view(ctx, s.cfg.Meta, func(tx Tx) error {
		var err error
		app, err = tx.App(ctx, clientID)
		return err
	})
	if drive.Is(drive.NotFound, err) {
		return nil, &authzFailure{page: true, status: http.StatusBadRequest, desc: "The application is not registered with this server."}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	q := &authzRequest{app: app, redirectURI: v.Get("redirect_uri"), state: v.Get("state")}
	if !matchRedirect(app, q.redirectURI, s.baseURL(r)) {
		return nil, &authzFailure{page: true, status: http.StatusBadRequest,
			desc: "The redirect address is missing or not registered for " + app.Name + ", so this server will not send you there."}, nil
	}
	fail := func(code, desc string) (*authzRequest, *authzFailure, error) {
		return q, &authzFailure{code: code, desc: desc}, nil
	}
	if rt := v.Get("response_type"); rt != "code" {
		return fail("unsupported_response_type", "response_type must be code")
	}
	scope, ok := parseScope(v.Get("scope"))
	if !ok {
		return fail("invalid_scope", "known scopes are clouddrive:read_all and clouddrive:write")
	}
	q.scope = scope
	q.challenge = v.Get("code_challenge")
	method := v.Get("code_challenge_method")
	switch {
	case q.challenge == "" && method != "":
		return fail("invalid_request", "code_challenge_method without code_challenge")
	case q.challenge == "" && app.Public:
		return fail("invalid_request", "public clients must use PKCE (code_challenge with code_challenge_method=S256)")
	case q.challenge != "" && method != "S256":
		return fail("invalid_request", "code_challenge_method must be S256")
	case q.challenge != "" && !validChallenge(q.challenge):
		return fail("invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the verifier")
	}
	if len(q.state) > 2048 {
		return fail("invalid_request", "state is too long")
	}
	return q, nil, nil
}

// validChallenge reports whether c has the shape of an S256 challenge.
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !isUnreserved(c[i]) || c[i] == '.' || c[i] == '~' {
			return false
		}
	}
	return true
}

// isUnreserved reports whether b is an RFC 3986 unreserved character, the
// alphabet of PKCE verifiers.
func isUnreserved(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '.' || b == '_' || b == '~'
}

// redirectBack sends the user agent to the client's redirect URI with
// params added to its query. status is 302 for GET, 303 after a form.
func redirectBack(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values, status int) {
	u, err := url.Parse(redirectURI)
	if err != nil { // validated before; never happens
		http.Error(w, "bad redirect URI", http.StatusInternalServerError)
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), status)
}

func (q *authzRequest) errorParams(code, desc string) url.Values {
	v := url.Values{"error": {code}}
	if desc != "" {
		v.Set("error_description", desc)
	}
	if q.state != "" {
		v.Set("state", q.state)
	}
	return v
}

// authorize serves the authorization endpoint (/ap/oa, /oauth/authorize).
// GET shows the login form, or the consent form when the browser is
// signed in. POST carries op=login, op=approve or op=deny with the CSRF
// token.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var v url.Values
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		v = r.URL.Query()
	case http.MethodPost:
		if err := parseForm(w, r); err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return
		}
		v = r.PostForm
	default:
		w.Header().Set("Allow", "GET, POST")
		s.errorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed", "Use GET or POST.")
		return
	}
	var sess *session
	if r.Method == http.MethodPost {
		var ok bool
		if sess, ok = s.checkCSRF(r); !ok {
			s.csrfFailed(w, r)
			return
		}
	}
	q, fail, err := s.parseAuthz(ctx, r, v)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if fail != nil {
		if fail.page {
			s.errorPage(w, r, fail.status, "Cannot continue", fail.desc)
			return
		}
		redirectBack(w, r, q.redirectURI, q.errorParams(fail.code, fail.desc), http.StatusFound)
		return
	}
	if sess == nil {
		sess = s.ensureSession(w, r)
	}
	user, err := s.sessionUser(ctx, sess)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	op := ""
	if r.Method == http.MethodPost {
		op = v.Get("op")
	}
	loginPage := func(status int, msg, name string) {
		s.render(w, r, status, "login", &pageData{Title: "Sign in", Error: msg, Action: selfRef(r), CSRF: sess.CSRF,
			Hidden: q.fields(), AppName: q.app.Name, Login: name})
	}
	switch op {
	case "":
		if user == nil {
			loginPage(http.StatusOK, "", "")
			return
		}
		s.render(w, r, http.StatusOK, "consent", &pageData{Title: "Allow access", Action: selfRef(r), CSRF: sess.CSRF,
			Hidden: q.fields(), AppName: q.app.Name, UserName: user.Name, Scopes: describeScopes(q.scope)})
	case "login":
		if s.signIn(w, r, v, loginPage) {
			seeOther(w, selfRef(r)+"?"+q.query())
		}
	case "approve", "deny":
		if user == nil {
			loginPage(http.StatusUnauthorized, "Please sign in again.", "")
			return
		}
		if op == "deny" {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "authorization denied", slog.String("user_id", user.ID), slog.String("client_id", q.app.ClientID))
			redirectBack(w, r, q.redirectURI, q.errorParams("access_denied", "the user denied the request"), http.StatusSeeOther)
			return
		}
		code, err := s.issueCode(ctx, q, user)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		params := url.Values{"code": {code}}
		if q.state != "" {
			params.Set("state", q.state)
		}
		redirectBack(w, r, q.redirectURI, params, http.StatusSeeOther)
	default:
		s.errorPage(w, r, http.StatusBadRequest, "Bad request", "Unknown form action.")
	}
}

// issueCode stores a new authorization code for the request and user and
// returns it.
func (s *Server) issueCode(ctx context.Context, q *authzRequest, user *drive.User) (string, error) {
	code := randomString(32)
	now := s.cfg.Now().UTC()
	rec := &meta.AuthCode{Hash: auth.Hash(code), ClientID: q.app.ClientID, UserID: user.ID, RedirectURI: q.redirectURI,
		Scope: q.scope, Challenge: q.challenge, Family: auth.NewFamily(), ExpiresAt: now.Add(s.cfg.CodeTTL), CreatedAt: now}
	if err := update(ctx, s.cfg.Meta, func(tx Tx) error { return tx.InsertAuthCode(ctx, rec) }); err != nil {
		return "", err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "authorization code issued", slog.String("user_id", user.ID),
		slog.String("client_id", q.app.ClientID), slog.String("scope", q.scope))
	s.maybePurge(ctx)
	return code, nil
}

// selfRef is a relative reference to the endpoint serving r ("oa" for
// /ap/oa), for form actions and redirects back to it. Being relative, it
// stays right when a reverse proxy serves this server under a path prefix
// (a PublicURL such as https://example.com/drive).
func selfRef(r *http.Request) string { return path.Base(r.URL.Path) }

// seeOther redirects to a relative reference as is (http.Redirect would
// make it absolute, dropping a proxy's path prefix).
func seeOther(w http.ResponseWriter, ref string) {
	w.Header().Set("Location", ref)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

func (s *Server) csrfFailed(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusForbidden, "Session expired",
		"This form was not sent with a valid session token. Go back, reload the page and try again.")
}

func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "oauth request failed", slog.String("path", r.URL.Path), slog.Any("err", err))
	s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The server could not complete the request. Try again later.")
}
