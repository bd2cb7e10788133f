package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestLoginThrottle: after five wrong passwords for a name, the login
// form refuses that name (even with the right password) with 429 and
// Retry-After for a lock that doubles; other names are unaffected; after
// the lock, the right password works and resets the count.
func TestLoginThrottle(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("alice", "correct horse battery")
	e.addUser("bob", "bob's password")
	cb := callback(t)
	clientID, secret := e.addApp("app", false, cb.URL+"/cb")
	conf := &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: e.endpoint(oauth2.AuthStyleAutoDetect), RedirectURL: cb.URL + "/cb"}
	b := newBrowser(t)
	login := b.get(conf.AuthCodeURL("st"))
	try := func(user, password string) *page {
		t.Helper()
		return b.submit(login, url.Values{"username": {user}, "password": {password}})
	}
	for i := 0; i < 5; i++ {
		wantStatus(t, try("Alice", "guess"), http.StatusUnauthorized)
	}
	wantStatus(t, try("alice", "guess"), http.StatusUnauthorized) // the sixth failure locks
	p := try("alice", "correct horse battery")
	wantStatus(t, p, http.StatusTooManyRequests)
	if !strings.Contains(p.Body, "Too many failed sign-in attempts") || p.Header.Get("Retry-After") != "30" {
		t.Errorf("locked login: Retry-After %q, body:\n%s", p.Header.Get("Retry-After"), p.Body)
	}
	// Another name is not locked.
	wantStatus(t, try("bob", "bob's password"), http.StatusSeeOther)

	// After the lock the right password works, and the count starts over.
	e.Clock.Advance(31 * time.Second)
	b = newBrowser(t)
	login = b.get(conf.AuthCodeURL("st"))
	wantStatus(t, try("alice", "correct horse battery"), http.StatusSeeOther)
	b = newBrowser(t)
	login = b.get(conf.AuthCodeURL("st"))
	for i := 0; i < 5; i++ {
		wantStatus(t, try("alice", "guess"), http.StatusUnauthorized)
	}
	// Locks double: 30 s, then 60 s.
	wantStatus(t, try("alice", "guess"), http.StatusUnauthorized)
	e.Clock.Advance(31 * time.Second)
	wantStatus(t, try("alice", "guess"), http.StatusUnauthorized)
	if p := try("alice", "correct horse battery"); p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") != "60" {
		t.Errorf("second lock: %d Retry-After %q, want 429 and 60", p.Status, p.Header.Get("Retry-After"))
	}

	// Unknown names are throttled the same way, so a lock says nothing
	// about which names exist.
	for i := 0; i < 6; i++ {
		try("mallory", "guess")
	}
	wantStatus(t, try("mallory", "guess"), http.StatusTooManyRequests)
}
