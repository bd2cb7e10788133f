package app

import (
	"log"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/httpguard"
)

// ClientLimits are the limits per client address of the endpoints used
// without a token (Config.Clients).
type ClientLimits struct {
	// OAuthRate is the requests per second one client address may send to
	// the OAuth endpoints and pages, OAuthBurst at once; 0 disables.
	OAuthRate  rate.Limit
	OAuthBurst int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (httpguard.ClientAddr); without them every client behind
	// a proxy has its address.
	TrustedProxies []netip.Prefix
}

// clientAddr returns the function that names a request's client.
func (c ClientLimits) clientAddr() func(*http.Request) string {
	return httpguard.ClientAddr(c.TrustedProxies)
}

// HTTPServer returns the http.Server that `clouddrive serve` runs: the
// handler of Handler behind an httpguard.Guard with limits l (zero fields
// take their defaults), and the header and idle timeouts of l. errorLog
// receives the server's own errors (nil: the log package's default).
//
// Requests with a valid bearer token or a signed-in OAuth session count
// as authenticated and are never refused for the cap on unauthenticated
// requests; GET and HEAD /healthz and /readyz are exempt from it;
// POST /cdproxy/nodes, PUT /cdproxy/nodes/{id}/content and /cdproxy/uploads/
// are uploads, held to the minimum rate instead of the body timeout.
func (a *App) HTTPServer(l httpguard.Limits, errorLog *log.Logger) *http.Server {
	l = l.WithDefaults()
	known := &tokenCache{valid: map[string]time.Time{}}
	g := &httpguard.Guard{
		Limits: l,
		Authenticated: func(r *http.Request) bool {
			return a.hasToken(r, known) || a.signedIn(r, known)
		},
		Upload:  isUpload,
		Exempt:  isHealthCheck,
		Refused: func(*http.Request) { a.API.Metrics.BusyRefused.Inc() },
	}
	return &http.Server{Handler: g.Wrap(a.Handler()), ReadHeaderTimeout: l.ReadHeaderTimeout,
		IdleTimeout: l.IdleTimeout, ErrorLog: errorLog}
}

func isUpload(r *http.Request) bool {
	p := r.URL.Path
	switch r.Method {
	case http.MethodPost:
		return p == "/cdproxy/nodes" || strings.HasPrefix(p, "/cdproxy/uploads/")
	case http.MethodPut:
		return strings.HasPrefix(p, "/cdproxy/nodes/") && strings.HasSuffix(p, "/content") ||
			strings.HasPrefix(p, "/cdproxy/uploads/")
	case http.MethodPatch:
		return strings.HasPrefix(p, "/cdproxy/uploads/")
	}
	return false
}

func isHealthCheck(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz")
}

// hasToken reports whether r carries a valid bearer token. Tokens found
// valid are remembered for tokenCacheTTL, so an API request is looked up
// once more only that often; the API itself checks every request (a
// revoked token is refused there at once, it only keeps counting as
// authenticated here for the rest of its cache time).
func (a *App) hasToken(r *http.Request, c *tokenCache) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || len(tok) > 512 {
		return false
	}
	now, key := time.Now(), auth.Hash(tok)
	if c.known(key, now) {
		return true
	}
	if _, err := a.Tokens.Authenticate(r.Context(), tok); err != nil {
		return false
	}
	c.add(key, now)
	return true
}

// signedIn reports whether r carries the session cookie of a signed-in
// user, remembered like a token: a cookie that is signed but whose user
// signed out, was disabled or deleted does not count (it did before: the
// cookie's signature alone let it past the cap), and a valid one is
// looked up once per tokenCacheTTL.
func (a *App) signedIn(r *http.Request, c *tokenCache) bool {
	key, ok := a.OAuth.SessionKey(r)
	if !ok {
		return false
	}
	now := time.Now()
	if c.known(key, now) {
		return true
	}
	if !a.OAuth.SignedIn(r) {
		return false
	}
	c.add(key, now)
	return true
}

const (
	tokenCacheTTL = 30 * time.Second
	tokenCacheMax = 10000
)

// tokenCache remembers recently valid bearer tokens by their hash.
type tokenCache struct {
	mu    sync.Mutex
	valid map[string]time.Time // auth.Hash(token) -> valid until
}

func (c *tokenCache) known(tok string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.valid[tok]
	if ok && now.After(until) {
		delete(c.valid, tok)
		return false
	}
	return ok
}

func (c *tokenCache) add(tok string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.valid) >= tokenCacheMax {
		for k, until := range c.valid {
			if now.After(until) {
				delete(c.valid, k)
			}
		}
		if len(c.valid) >= tokenCacheMax {
			clear(c.valid)
		}
	}
	c.valid[tok] = now.Add(tokenCacheTTL)
}
