package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/httpguard"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

// Config configures a Server. Meta and Tokens are required; zero
// durations take the defaults named on each field.
type Config struct {
	Meta   meta.Store
	Tokens *auth.Tokens
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now drive.Clock
	// PublicURL is the external base URL (scheme://host[:port][/prefix]);
	// empty derives it from each request's Host. It is the base of the
	// device verification URI and of same-origin redirect URIs.
	PublicURL string
	// AccessTTL is the lifetime of access tokens (default 1 hour).
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of a refresh token; every rotation
	// starts a new one (default 90 days).
	RefreshTTL time.Duration
	// CodeTTL is the lifetime of authorization codes (default 10 minutes).
	CodeTTL time.Duration
	// DeviceTTL is the lifetime of device codes (default 10 minutes).
	DeviceTTL time.Duration
	// DeviceInterval is the minimum time between device polls (default 5
	// seconds; RFC 8628 adds 5 seconds on every slow_down).
	DeviceInterval time.Duration
	// SessionTTL is how long a browser stays signed in to the login and
	// consent pages (default 12 hours).
	SessionTTL time.Duration
	// Hasher checks sign-in passwords; its bound on concurrent hashes is
	// shared with whatever else uses it (default: one of its own).
	Hasher *auth.Hasher
	// ClientAddr names a request's client for per-address limits
	// (default: httpguard.ClientAddr without trusted proxies).
	ClientAddr func(r *http.Request) string
	// PerAddress limits requests to every endpoint of this server per
	// client address, PerAddressBurst at once; beyond it they get 429
	// with Retry-After. 0 disables the limit.
	PerAddress      rate.Limit
	PerAddressBurst int
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AccessTTL, time.Hour)
	def(&c.RefreshTTL, 90*24*time.Hour)
	def(&c.CodeTTL, 10*time.Minute)
	def(&c.DeviceTTL, 10*time.Minute)
	def(&c.DeviceInterval, 5*time.Second)
	def(&c.SessionTTL, 12*time.Hour)
	if c.Hasher == nil {
		c.Hasher = &auth.Hasher{}
	}
	if c.ClientAddr == nil {
		c.ClientAddr = httpguard.ClientAddr(nil)
	}
}

// Server is the OAuth 2.0 authorization server: the authorization, token,
// revocation, token-info and device endpoints plus the login, consent and
// device pages. It keeps no state of its own beyond a cache of the cookie
// key, so any number of replicas may serve one metadata store.
type Server struct {
	cfg   Config
	key   []byte // signs session cookies; shared by replicas through settings
	pages *pages
	apps  *Apps

	dummyOnce sync.Once
	dummyHash string               // a hash to verify against when the user is unknown
	throttle  auth.FailureThrottle // failures per user name
	addrs     auth.FailureThrottle // failures per client address
	perAddr   *ratelimit.PerKey    // requests per client address

	purgeMu   sync.Mutex
	lastPurge time.Time
}

// addrFreeFailures is how many failed sign-ins one client address has
// before it is locked (10 s, doubling up to 5 minutes); more than for a
// user name, since several people may share an address.
const addrFreeFailures = 30

// cookieKeySetting names the setting that holds the session-cookie key.
const cookieKeySetting = "oauth_cookie_key"

// New builds a server: it loads (creating on first start) the cookie
// signing key from the store's settings and seeds the first-party apps.
func New(ctx context.Context, c Config) (*Server, error) {
	const op = "oauth.New"
	if c.Meta == nil || c.Tokens == nil {
		return nil, drive.E(op, drive.Internal, "Meta and Tokens are required")
	}
	c.defaults()
	p, err := loadPages()
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	key, err := sharedKey(ctx, c.Meta, cookieKeySetting)
	if err != nil {
		return nil, err
	}
	apps := &Apps{Meta: c.Meta, Now: c.Now}
	if err := apps.Seed(ctx); err != nil {
		return nil, err
	}
	return &Server{cfg: c, key: key, pages: p, apps: apps,
		addrs:   auth.FailureThrottle{Free: addrFreeFailures, Base: 10 * time.Second, Max: 5 * time.Minute},
		perAddr: &ratelimit.PerKey{Rate: c.PerAddress, Burst: c.PerAddressBurst, Now: c.Now}}, nil
}

// sharedKey returns the 32-byte key stored under setting, creating it
// when absent; every replica reads the same one.
func sharedKey(ctx context.Context, m meta.Store, setting string) ([]byte, error) {
	const op = "oauth.sharedKey"
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, drive.Wrap(op, err)
	}
	var v string
	err := update(ctx, m, func(tx Tx) error {
		var err error
		v, err = tx.PutSettingIfAbsent(ctx, setting, hex.EncodeToString(b[:]))
		return err
	})
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, drive.E(op, drive.Internal, "stored key "+setting+" is malformed", err)
	}
	return key, nil
}

// Paths served. The ACD paths come first; the /oauth/ ones are aliases.
const (
	PathAuthorize  = "/ap/oa"
	PathToken      = "/auth/o2/token"
	PathRevoke     = "/auth/o2/revoke"
	PathTokenInfo  = "/auth/o2/tokeninfo"
	PathDevice     = "/auth/o2/device"
	PathDevicePage = "/device"
)

// routes maps each served path to its handler. Paths match exactly.
func (s *Server) routes() map[string]http.Handler {
	m := map[string]http.Handler{}
	for _, r := range []struct {
		paths []string
		h     http.HandlerFunc
	}{
		{[]string{PathAuthorize, "/oauth/authorize"}, s.authorize},
		{[]string{PathToken, "/oauth/token"}, s.token},
		{[]string{PathRevoke, "/oauth/revoke"}, s.revoke},
		{[]string{PathTokenInfo, "/oauth/tokeninfo"}, s.tokenInfo},
		{[]string{PathDevice, "/oauth/device"}, s.deviceAuthorization},
		{[]string{PathDevicePage}, s.devicePage},
		{[]string{PathSignOut, "/oauth/signout"}, s.signOut},
	} {
		h := s.logged(s.limited(r.h))
		for _, p := range r.paths {
			m[p] = h
		}
	}
	return m
}

// jsonPaths are the endpoints that answer in JSON; the others are pages.
var jsonPaths = map[string]bool{PathToken: true, "/oauth/token": true, PathRevoke: true, "/oauth/revoke": true,
	PathTokenInfo: true, "/oauth/tokeninfo": true, PathDevice: true, "/oauth/device": true}

// limited applies the per-address limit to h: a request over it gets 429
// with Retry-After, as an OAuth error (temporarily_unavailable) on the
// JSON endpoints and as a page on the others, before any database work.
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		addr := s.cfg.ClientAddr(r)
		ok, wait := s.perAddr.Allow(addr)
		if ok {
			h(w, r)
			return
		}
		secs := max(int((wait+time.Second-1)/time.Second), 1)
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelDebug, "request rate limited", slog.String("addr", addr),
			slog.String("path", r.URL.Path), slog.Int("retry_after", secs))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		in := strconv.Itoa(secs) + " seconds"
		if secs == 1 {
			in = "1 second"
		}
		if jsonPaths[r.URL.Path] {
			writeOAuthError(w, &oauthError{status: http.StatusTooManyRequests, Code: "temporarily_unavailable",
				Desc: "too many requests from your address; try again in " + in})
			return
		}
		s.errorPage(w, r, http.StatusTooManyRequests, "Too many requests", "Too many requests from your address. Try again in "+in+".")
	}
}

// Wrap returns a handler that serves the OAuth endpoints and passes every
// other request to next untouched (no path cleaning or redirects, unlike
// a ServeMux in front of next). A wrong method on an OAuth path gets this
// server's 405.
func (s *Server) Wrap(next http.Handler) http.Handler {
	routes := s.routes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := routes[r.URL.Path]; ok {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// SessionKey returns a key naming the signed-in session r's cookie
// carries (correctly signed, not expired, with a user), and false when it
// carries none. It reads no store, so it is cheap enough for every request;
// whether the session still counts is SignedIn's question.
func (s *Server) SessionKey(r *http.Request) (string, bool) {
	sess := s.readSession(r)
	if sess == nil || sess.UserID == "" {
		return "", false
	}
	return "session\x00" + sess.UserID + "\x00" + sess.Gen, true
}

// SignedIn reports whether r carries the session cookie of a user who is
// signed in: a valid cookie (SessionKey) whose user exists, is not
// disabled and has not signed out since (the session generation is
// current). It reads the store.
func (s *Server) SignedIn(r *http.Request) bool {
	u, err := s.sessionUser(r.Context(), s.readSession(r))
	return err == nil && u != nil
}

// Handler returns a handler serving only the OAuth endpoints; other paths
// get 404.
func (s *Server) Handler() http.Handler {
	return s.Wrap(http.NotFoundHandler())
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// logged logs each request. Only the path is logged: queries and forms
// carry codes, tokens and passwords.
func (s *Server) logged(h http.HandlerFunc) http.Handler {
	log := s.cfg.Logger
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		start := s.cfg.Now()
		h(sw, r)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", sw.status),
			slog.Duration("duration", s.cfg.Now().Sub(start)))
	})
}

// baseURL is the public base URL for r, without a trailing slash.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// secure reports whether cookies for r should be Secure.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https://")
}

// maxForm bounds form bodies; nothing legitimate comes near it.
const maxForm = 64 << 10

// parseForm reads an urlencoded body into r.PostForm.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	return r.ParseForm()
}

// randomString returns n random bytes in unpadded base64url.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("oauth: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// maybePurge deletes expired codes and tokens, at most every ten minutes
// per process. Failures are logged: the purge only saves space.
func (s *Server) maybePurge(ctx context.Context) {
	now := s.cfg.Now()
	s.purgeMu.Lock()
	if now.Sub(s.lastPurge) < 10*time.Minute {
		s.purgeMu.Unlock()
		return
	}
	s.lastPurge = now
	s.purgeMu.Unlock()
	var n int64
	err := update(ctx, s.cfg.Meta, func(tx Tx) error {
		var err error
		n, err = tx.DeleteExpired(ctx, now)
		return err
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "purging expired grants failed", slog.Any("err", err))
		return
	}
	if n > 0 {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "purged expired grants", slog.Int64("rows", n))
	}
}
