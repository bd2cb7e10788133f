package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/httpstatus"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Grant types of the token endpoint.
const (
	grantCode    = "authorization_code"
	grantRefresh = "refresh_token"
	grantDevice  = "urn:ietf:params:oauth:grant-type:device_code"
)

// tokenResponse is the token endpoint's success body, exactly what ACD
// sent and golang.org/x/oauth2 reads.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// oauthError is an RFC 6749 section 5.2 error response.
type oauthError struct {
	status int
	Code   string `json:"error"`
	Desc   string `json:"error_description,omitempty"`
}

func badRequest(code, desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Code: code, Desc: desc}
}

func invalidGrant(desc string) *oauthError { return badRequest("invalid_grant", desc) }

func invalidClient(desc string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Desc: desc}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="clouddrive"`)
	}
	writeJSON(w, e.status, e)
}

// readTokenForm parses a POSTed urlencoded form and rejects repeated
// parameters (RFC 6749 section 3.2).
func readTokenForm(w http.ResponseWriter, r *http.Request) *oauthError {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		return &oauthError{status: http.StatusMethodNotAllowed, Code: "invalid_request", Desc: "use POST"}
	}
	if err := parseForm(w, r); err != nil {
		return badRequest("invalid_request", "the body must be an application/x-www-form-urlencoded form")
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return badRequest("invalid_request", "parameter "+k+" repeated")
		}
	}
	return nil
}

// clientCredentials returns the client id and secret of a request, from
// HTTP Basic (form-urlencoded per RFC 6749 section 2.3.1, as x/oauth2
// sends them) or from the client_id and client_secret form fields, and
// whether any were given.
func clientCredentials(r *http.Request) (id, secret string, given bool, e *oauthError) {
	if bid, bsecret, ok := r.BasicAuth(); ok {
		id, err1 := url.QueryUnescape(bid)
		secret, err2 := url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil {
			return "", "", true, invalidClient("malformed Basic credentials")
		}
		if r.PostForm.Has("client_secret") {
			return "", "", true, badRequest("invalid_request", "use one client authentication method, not Basic and client_secret")
		}
		if fid := r.PostForm.Get("client_id"); fid != "" && fid != id {
			return "", "", true, badRequest("invalid_request", "client_id differs from the Basic credentials")
		}
		return id, secret, true, nil
	}
	id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	return id, secret, id != "" || secret != "", nil
}

// formClient reads the form of a token-style request (the token and
// device endpoints) and authenticates its client. When it returns false it
// has already answered with the OAuth error.
func (s *Server) formClient(w http.ResponseWriter, r *http.Request) (*meta.App, bool) {
	if e := readTokenForm(w, r); e != nil {
		writeOAuthError(w, e)
		return nil, false
	}
	app, e, err := s.authenticateClient(r.Context(), r)
	if err != nil {
		s.tokenInternal(w, r, err)
		return nil, false
	}
	if e != nil {
		writeOAuthError(w, e)
		return nil, false
	}
	return app, true
}

// authenticateClient identifies the client of a token-endpoint request.
// Confidential clients must present their secret; public clients only
// their id, and no secret.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request) (*meta.App, *oauthError, error) {
	id, secret, _, e := clientCredentials(r)
	if e != nil {
		return nil, e, nil
	}
	if id == "" {
		return nil, invalidClient("client authentication required"), nil
	}
	var app *meta.App
	err := view(ctx, s.cfg.Meta, func(tx Tx) error {
		var err error
		app, err = tx.App(ctx, id)
		return err
	})
	if drive.Is(drive.NotFound, err) {
		return nil, invalidClient("unknown client"), nil
	}
	if err != nil {
		return nil, nil, err
	}
	if app.Public {
		if secret != "" {
			return nil, invalidClient("public clients have no secret"), nil
		}
		return app, nil, nil
	}
	if secret == "" || subtle.ConstantTimeCompare([]byte(auth.Hash(secret)), []byte(app.SecretHash)) != 1 {
		return nil, invalidClient("wrong client secret"), nil
	}
	return app, nil, nil
}

// token serves the token endpoint (/auth/o2/token, /oauth/token).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, ok := s.formClient(w, r)
	if !ok {
		return
	}
	var (
		resp *tokenResponse
		e    *oauthError
		err  error
	)
	switch gt := r.PostForm.Get("grant_type"); gt {
	case grantCode:
		resp, e, err = s.exchangeCode(ctx, app, r.PostForm)
	case grantRefresh:
		resp, e, err = s.refresh(ctx, app, r.PostForm)
	case grantDevice:
		resp, e, err = s.pollDevice(ctx, app, r.PostForm)
	case "":
		e = badRequest("invalid_request", "grant_type is required")
	default:
		e = badRequest("unsupported_grant_type", "grant_type "+gt+" is not supported")
	}
	switch {
	case err != nil:
		s.tokenInternal(w, r, err)
	case e != nil:
		writeOAuthError(w, e)
	default:
		writeJSON(w, http.StatusOK, resp)
		s.maybePurge(ctx)
	}
}

func (s *Server) tokenInternal(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "token request failed", slog.String("path", r.URL.Path), slog.Any("err", err))
	// The status is the kind's (503 for Unavailable); the grants answer
	// the client's own mistakes before this, so a kind below 500 here is
	// still the server's failure.
	status := max(httpstatus.OfErr(err), http.StatusInternalServerError)
	writeJSON(w, status, &oauthError{Code: "server_error", Desc: "the server could not complete the request"})
}

// issue stores a new access and refresh token pair of one family and
// returns the response carrying them. The access token may carry a
// narrower scope than the refresh token.
func (s *Server) issue(ctx context.Context, tx Tx, userID, clientID, accessScope, refreshScope, family string) (*tokenResponse, error) {
	access, arec := s.cfg.Tokens.NewToken(auth.KindAccess, userID, clientID, accessScope, family, s.cfg.AccessTTL)
	refresh, rrec := s.cfg.Tokens.NewToken(auth.KindRefresh, userID, clientID, refreshScope, family, s.cfg.RefreshTTL)
	if err := tx.InsertToken(ctx, arec); err != nil {
		return nil, err
	}
	if err := tx.InsertToken(ctx, rrec); err != nil {
		return nil, err
	}
	return &tokenResponse{AccessToken: access, RefreshToken: refresh, TokenType: "bearer",
		ExpiresIn: int64(s.cfg.AccessTTL.Seconds())}, nil
}

// activeUser returns the user unless deleted or disabled.
func activeUser(ctx context.Context, tx Tx, id string) (*drive.User, error) {
	u, err := tx.User(ctx, id)
	if drive.Is(drive.NotFound, err) {
		return nil, nil
	}
	if err != nil || u.Disabled {
		return nil, err
	}
	return u, nil
}

// exchangeCode redeems an authorization code. The code is used up by the
// attempt whatever its outcome; a second redemption revokes every token
// the first one issued (RFC 6749 section 4.1.2).
func (s *Server) exchangeCode(ctx context.Context, app *meta.App, v url.Values) (*tokenResponse, *oauthError, error) {
	code := v.Get("code")
	if code == "" {
		return nil, badRequest("invalid_request", "code is required"), nil
	}
	var resp *tokenResponse
	var e *oauthError
	err := update(ctx, s.cfg.Meta, func(tx Tx) error {
		resp, e = nil, nil // fn may be retried
		c, err := tx.UseAuthCode(ctx, auth.Hash(code))
		if drive.Is(drive.NotFound, err) {
			e = invalidGrant("unknown authorization code")
			return nil
		}
		if err != nil {
			return err
		}
		if c.Used {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "authorization code replayed; revoking its tokens",
				slog.String("client_id", c.ClientID), slog.String("user_id", c.UserID))
			e = invalidGrant("authorization code already used")
			return tx.RevokeTokens(ctx, "", c.Family)
		}
		switch {
		case !s.cfg.Now().Before(c.ExpiresAt):
			e = invalidGrant("authorization code expired")
		case c.ClientID != app.ClientID:
			e = invalidGrant("authorization code was issued to another client")
		case v.Get("redirect_uri") != c.RedirectURI:
			e = invalidGrant("redirect_uri does not match the authorization request")
		default:
			e = checkVerifier(c.Challenge, v.Get("code_verifier"))
		}
		if e != nil {
			return nil
		}
		u, err := activeUser(ctx, tx, c.UserID)
		if err != nil {
			return err
		}
		if u == nil {
			e = invalidGrant("the user is disabled or deleted")
			return nil
		}
		resp, err = s.issue(ctx, tx, c.UserID, app.ClientID, c.Scope, c.Scope, c.Family)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return resp, e, nil
}

// checkVerifier checks a PKCE code_verifier against the stored S256
// challenge (RFC 7636 section 4.6). A verifier without a challenge is
// refused too, so PKCE cannot be stripped from a request.
func checkVerifier(challenge, verifier string) *oauthError {
	if challenge == "" {
		if verifier != "" {
			return invalidGrant("code_verifier sent but the authorization request had no code_challenge")
		}
		return nil
	}
	if verifier == "" {
		return invalidGrant("code_verifier is required")
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return invalidGrant("code_verifier must be 43 to 128 characters")
	}
	for i := 0; i < len(verifier); i++ {
		if !isUnreserved(verifier[i]) {
			return invalidGrant("code_verifier has characters outside [A-Za-z0-9-._~]")
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) != 1 {
		return invalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}

// refresh rotates a refresh token: the presented token is used up and a
// new pair of the same family is issued. Presenting a token that was
// already rotated (or revoked) means two parties hold it, so the whole
// family is revoked and both must sign in again.
func (s *Server) refresh(ctx context.Context, app *meta.App, v url.Values) (*tokenResponse, *oauthError, error) {
	rt := v.Get("refresh_token")
	if rt == "" {
		return nil, badRequest("invalid_request", "refresh_token is required"), nil
	}
	var resp *tokenResponse
	var e *oauthError
	err := update(ctx, s.cfg.Meta, func(tx Tx) error {
		resp, e = nil, nil
		rec, err := tx.Token(ctx, auth.Hash(rt))
		if drive.Is(drive.NotFound, err) || (err == nil && rec.Kind != auth.KindRefresh) {
			e = invalidGrant("unknown refresh token")
			return nil
		}
		if err != nil {
			return err
		}
		if rec.ClientID != app.ClientID {
			e = invalidGrant("refresh token was issued to another client")
			return nil
		}
		reused := func() error {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "refresh token reused; revoking its family",
				slog.String("client_id", rec.ClientID), slog.String("user_id", rec.UserID))
			e = invalidGrant("refresh token already used or revoked")
			return tx.RevokeTokens(ctx, rec.Hash, rec.Family)
		}
		if rec.Revoked {
			return reused()
		}
		if !rec.ExpiresAt.IsZero() && !s.cfg.Now().Before(rec.ExpiresAt) {
			e = invalidGrant("refresh token expired")
			return nil
		}
		accessScope := rec.Scope
		if raw := v.Get("scope"); raw != "" {
			sc, ok := parseScope(raw)
			if !ok || !subset(sc, rec.Scope) {
				e = badRequest("invalid_scope", "scope must be within the original grant")
				return nil
			}
			accessScope = sc
		}
		u, err := activeUser(ctx, tx, rec.UserID)
		if err != nil {
			return err
		}
		if u == nil {
			e = invalidGrant("the user is disabled or deleted")
			return nil
		}
		claimed, err := tx.ClaimToken(ctx, rec.Hash)
		if err != nil {
			return err
		}
		if !claimed { // a concurrent refresh won
			return reused()
		}
		family := rec.Family
		if family == "" {
			family = auth.NewFamily()
		}
		resp, err = s.issue(ctx, tx, rec.UserID, app.ClientID, accessScope, rec.Scope, family)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return resp, e, nil
}

// revoke serves RFC 7009 token revocation (/auth/o2/revoke,
// /oauth/revoke). Revoking a refresh token revokes its whole family,
// access tokens included; revoking an access token revokes only it. The
// answer is 200 whether or not the token existed. Client credentials are
// optional: a token is its own proof of possession, but when credentials
// are given they must be valid and the token must be the client's.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if e := readTokenForm(w, r); e != nil {
		writeOAuthError(w, e)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		writeOAuthError(w, badRequest("invalid_request", "token is required"))
		return
	}
	var app *meta.App
	if _, _, given, e := clientCredentials(r); e != nil {
		writeOAuthError(w, e)
		return
	} else if given {
		var err error
		if app, e, err = s.authenticateClient(ctx, r); err != nil {
			s.tokenInternal(w, r, err)
			return
		} else if e != nil {
			writeOAuthError(w, e)
			return
		}
	}
	err := update(ctx, s.cfg.Meta, func(tx Tx) error {
		rec, err := tx.Token(ctx, auth.Hash(tok))
		if drive.Is(drive.NotFound, err) {
			return nil
		}
		if err != nil {
			return err
		}
		if app != nil && rec.ClientID != app.ClientID {
			return nil
		}
		if rec.Kind == auth.KindRefresh && rec.Family != "" {
			return tx.RevokeTokens(ctx, rec.Hash, rec.Family)
		}
		return tx.RevokeTokens(ctx, rec.Hash, "")
	})
	if err != nil {
		s.tokenInternal(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// tokenInfoResponse is what acd_cli's get_access_token_info reads.
type tokenInfoResponse struct {
	Aud   string `json:"aud"`
	Exp   *int64 `json:"exp,omitempty"` // seconds left; absent for tokens that never expire
	Scope string `json:"scope"`
}

// tokenInfo serves GET /auth/o2/tokeninfo?access_token=... (also taking
// the token from a Bearer header).
func (s *Server) tokenInfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, Code: "invalid_request", Desc: "use GET"})
		return
	}
	tok := r.URL.Query().Get("access_token")
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); tok == "" && ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(t)
	}
	if tok == "" {
		writeOAuthError(w, badRequest("invalid_request", "access_token is required"))
		return
	}
	var rec *meta.Token
	var user *drive.User
	err := view(ctx, s.cfg.Meta, func(tx Tx) error {
		var err error
		if rec, err = tx.Token(ctx, auth.Hash(tok)); err != nil {
			return err
		}
		user, err = activeUser(ctx, tx, rec.UserID)
		return err
	})
	if err != nil && !drive.Is(drive.NotFound, err) {
		s.tokenInternal(w, r, err)
		return
	}
	now := s.cfg.Now()
	if err != nil || user == nil || rec.Kind != auth.KindAccess || rec.Revoked ||
		(!rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt)) {
		writeOAuthError(w, badRequest("invalid_token", "the access token is invalid, expired or revoked"))
		return
	}
	resp := tokenInfoResponse{Aud: rec.ClientID, Scope: rec.Scope}
	if !rec.ExpiresAt.IsZero() {
		left := int64(rec.ExpiresAt.Sub(now).Seconds())
		resp.Exp = &left
	}
	writeJSON(w, http.StatusOK, resp)
}
