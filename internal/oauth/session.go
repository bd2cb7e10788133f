package oauth

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/httpstatus"
)

// sessionCookie is the cookie of the login, consent and device pages.
const sessionCookie = "clouddrive_session"

// session is the signed content of the session cookie. It is not
// encrypted: it holds nothing secret from its own browser. The CSRF token
// is bound to it, so a form is accepted only with the cookie it was
// rendered for (a signed double-submit token); signing in replaces the
// session, and with it the CSRF token.
type session struct {
	CSRF    string `json:"c"`
	UserID  string `json:"u,omitempty"`
	Expires int64  `json:"e"` // Unix seconds
	// Gen is the user's session generation at sign-in (signout.go): the
	// session is signed in only while it is current.
	Gen string `json:"g,omitempty"`
}

func (s *Server) sign(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("clouddrive-session\x00"))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// readSession returns the request's session if its cookie is present,
// correctly signed and not expired.
func (s *Server) readSession(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.sign(payload))) {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil
	}
	var sess session
	if err := json.Unmarshal(raw, &sess); err != nil || sess.CSRF == "" {
		return nil
	}
	if !s.cfg.Now().Before(time.Unix(sess.Expires, 0)) {
		return nil
	}
	return &sess
}

// writeSession sets the session cookie: HttpOnly, SameSite=Lax, Secure
// over TLS.
func (s *Server) writeSession(w http.ResponseWriter, r *http.Request, sess *session) {
	raw, _ := json.Marshal(sess)
	payload := base64.RawURLEncoding.EncodeToString(raw)
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    payload + "." + s.sign(payload),
		Path:     "/",
		MaxAge:   int(max(sess.Expires-s.cfg.Now().Unix(), 1)),
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// newSession returns a fresh session for userID ("" for anonymous).
func (s *Server) newSession(userID string) *session {
	return &session{CSRF: randomString(24), UserID: userID, Expires: s.cfg.Now().Add(s.cfg.SessionTTL).Unix()}
}

// ensureSession returns the request's session, starting an anonymous one
// (and setting its cookie) when there is none.
func (s *Server) ensureSession(w http.ResponseWriter, r *http.Request) *session {
	if sess := s.readSession(r); sess != nil {
		return sess
	}
	sess := s.newSession("")
	s.writeSession(w, r, sess)
	return sess
}

// checkCSRF reports whether the POSTed form carries the CSRF token of the
// request's valid session.
func (s *Server) checkCSRF(r *http.Request) (*session, bool) {
	sess := s.readSession(r)
	if sess == nil {
		return nil, false
	}
	got := r.PostForm.Get("csrf")
	return sess, got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}

// sessionUser returns the signed-in user of sess, or nil when nobody is
// signed in, the user was since deleted or disabled, or signed out since
// (the session's generation is stale).
func (s *Server) sessionUser(ctx context.Context, sess *session) (*drive.User, error) {
	if sess == nil || sess.UserID == "" {
		return nil, nil
	}
	var u *drive.User
	var gen string
	err := view(ctx, s.cfg.Meta, func(tx Tx) error {
		var err error
		if u, err = tx.User(ctx, sess.UserID); err != nil {
			return err
		}
		gen, err = sessionGen(ctx, tx, sess.UserID)
		return err
	})
	if drive.Is(drive.NotFound, err) || (err == nil && (u.Disabled || gen != sess.Gen)) {
		return nil, nil
	}
	return u, err
}

// Messages shown by the login form.
const (
	msgBadLogin = "Wrong user name or password."
	msgDisabled = "This account is disabled."
)

// loginFailure is why a sign-in failed, for the login page: its kind
// (Unauthorized or RateLimited) gives the page's status.
type loginFailure struct {
	kind       drive.Kind
	msg        string
	retryAfter time.Duration
}

// show renders the failure with the login page of the caller.
func (f *loginFailure) show(w http.ResponseWriter, page func(status int, msg, name string), name string) {
	if f.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(f.retryAfter.Round(time.Second)/time.Second)))
	}
	page(httpstatus.Of(f.kind), f.msg, name)
}

// signIn handles a submitted login form (fields username and password):
// on success it starts the session and reports true, and the caller
// redirects; otherwise it has answered with page (the caller's login page)
// or an error page.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, form url.Values, page func(status int, msg, name string)) bool {
	name := form.Get("username")
	u, fail, err := s.login(r.Context(), s.cfg.ClientAddr(r), name, form.Get("password"))
	if err != nil {
		s.internalError(w, r, err)
		return false
	}
	if fail != nil {
		fail.show(w, page, name)
		return false
	}
	sess := s.newSession(u.ID)
	err = view(r.Context(), s.cfg.Meta, func(tx Tx) error {
		sess.Gen, err = sessionGen(r.Context(), tx, u.ID)
		return err
	})
	if err != nil {
		s.internalError(w, r, err)
		return false
	}
	s.writeSession(w, r, sess)
	return true
}

// login checks a user name and password from client address addr. It
// returns the user, or why the page must ask again. Unknown users and
// users without a password cost one hash verification too, so timing does
// not tell them apart; repeated failures for one name, and many from one
// address, lock them for a while (auth.FailureThrottle); hashes wait for
// their turn in cfg.Hasher, and a sign-in that finds none in time is
// answered 429.
func (s *Server) login(ctx context.Context, addr, name, password string) (*drive.User, *loginFailure, error) {
	now := s.cfg.Now()
	for _, t := range []struct {
		th   *auth.FailureThrottle
		key  string
		what string
	}{{&s.addrs, addr, " from your address"}, {&s.throttle, name, ""}} {
		if wait := t.th.Wait(t.key, now); wait > 0 {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "login refused", slog.String("user", name), slog.String("addr", addr),
				slog.String("reason", "too many failures"+t.what), slog.Duration("retry_after", wait))
			mins := int((wait + time.Minute - 1) / time.Minute)
			msg := "Too many failed sign-in attempts" + t.what + ". Try again in " + strconv.Itoa(mins) + " minute"
			if mins != 1 {
				msg += "s"
			}
			return nil, &loginFailure{kind: drive.RateLimited, msg: msg + ".", retryAfter: wait}, nil
		}
	}
	failed := func() {
		s.throttle.Failed(name, now)
		s.addrs.Failed(addr, now)
	}
	var u *drive.User
	var phc string
	err := view(ctx, s.cfg.Meta, func(tx Tx) error {
		var err error
		if u, err = tx.UserByName(ctx, name); err != nil {
			return err
		}
		phc, err = tx.UserPassword(ctx, u.ID)
		return err
	})
	if err != nil && !drive.Is(drive.NotFound, err) {
		return nil, nil, err
	}
	bad := &loginFailure{kind: drive.Unauthorized, msg: msgBadLogin}
	if u == nil || phc == "" || name == "" {
		if _, err := s.cfg.Hasher.Verify(ctx, s.dummy(), password); drive.Is(drive.RateLimited, err) {
			return nil, busy(err), nil
		}
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "login failed", slog.String("user", name), slog.String("reason", "unknown user or no password"))
		failed()
		return nil, bad, nil
	}
	ok, err := s.cfg.Hasher.Verify(ctx, phc, password)
	if drive.Is(drive.RateLimited, err) {
		return nil, busy(err), nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "login failed", slog.String("user", name), slog.String("reason", "wrong password"))
		failed()
		return nil, bad, nil
	}
	s.throttle.Succeeded(name)
	if u.Disabled {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "login failed", slog.String("user", name), slog.String("reason", "disabled"))
		return nil, &loginFailure{kind: drive.Unauthorized, msg: msgDisabled}, nil
	}
	return u, nil, nil
}

// busy is the failure of a sign-in whose password check found no turn.
func busy(err error) *loginFailure {
	f := &loginFailure{kind: drive.RateLimited, msg: "The server is busy checking other sign-ins. Try again in a moment.",
		retryAfter: time.Second}
	if de := drive.AsError(err); de != nil && de.RetryAfter > 0 {
		f.retryAfter = de.RetryAfter
	}
	return f
}

// dummy returns a valid hash of a random password, computed once with
// the parameters of new hashes, so that it costs what a user's does.
func (s *Server) dummy() string {
	s.dummyOnce.Do(func() {
		h, err := auth.HashPasswordWith(randomString(16), cmp.Or(s.cfg.Hasher.Params, auth.DefaultArgon2()))
		if err != nil {
			panic("oauth: hashing a dummy password: " + err.Error())
		}
		s.dummyHash = h
	})
	return s.dummyHash
}
