package oauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// sessionCookie returns the browser's session cookie for the server.
func (b *browser) sessionCookie(base string) *http.Cookie {
	b.t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "clouddrive_session" {
			return c
		}
	}
	return nil
}

// isLogin reports whether p is the login form.
func isLogin(p *page) bool { return strings.Contains(p.Body, `<label for="password">`) }

// TestSignOut: POST /ap/signout ends the browser's sign-in to the
// authorization pages: it clears the cookie, and the old cookie value,
// replayed from a copy, no longer counts as signed in. Every session of
// the user ends (a per-user generation), and signing in again works.
func TestSignOut(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("alice", "correct horse battery")
	e.addUser("bob", "bob's password")
	cb := callback(t)
	clientID, _ := e.addApp("app", true, cb.URL+"/cb")
	conf := &oauth2.Config{ClientID: clientID, Endpoint: e.endpoint(oauth2.AuthStyleInParams),
		RedirectURL: cb.URL + "/cb", Scopes: []string{drive.ScopeReadAll}}
	authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	signedIn := func(name, password string) *browser {
		t.Helper()
		b := newBrowser(t)
		p := b.signIn(b.get(authURL), name, password)
		wantStatus(t, p, http.StatusOK)
		if again := b.get(authURL); isLogin(again) {
			t.Fatalf("%s: signed in, the authorization page still asks for a login:\n%s", name, again.Body)
		}
		return b
	}
	alice := signedIn("alice", "correct horse battery")
	aliceElsewhere := signedIn("alice", "correct horse battery")
	bob := signedIn("bob", "bob's password")
	old := alice.sessionCookie(e.URL)
	if old == nil {
		t.Fatal("no session cookie after sign-in")
	}

	// What the server's guard asks of every request (the cap on
	// unauthenticated requests): the cookie counts while it is current.
	withCookie := func(c *http.Cookie) *http.Request {
		r := httptest.NewRequest(http.MethodGet, e.URL+"/drive/v1/account/info", nil)
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		return r
	}
	if _, ok := e.App.OAuth.SessionKey(withCookie(old)); !ok || !e.App.OAuth.SignedIn(withCookie(old)) {
		t.Errorf("a signed-in session cookie: SessionKey ok %v, SignedIn %v; want both", ok, e.App.OAuth.SignedIn(withCookie(old)))
	}

	if p := alice.get(e.URL + "/ap/signout"); p.Status != http.StatusMethodNotAllowed || p.Header.Get("Allow") != "POST" {
		t.Errorf("GET /ap/signout: %d Allow %q, want 405 and POST", p.Status, p.Header.Get("Allow"))
	}
	p := alice.post(e.URL+"/ap/signout", url.Values{})
	wantStatus(t, p, http.StatusNoContent)
	if c := alice.sessionCookie(e.URL); c != nil {
		t.Errorf("session cookie after sign-out = %v, want it cleared", c)
	}
	if p := alice.get(authURL); !isLogin(p) {
		t.Errorf("after sign-out, the authorization page does not ask for a login: %d\n%s", p.Status, p.Body)
	}

	// A copy of the old cookie.
	thief := newBrowser(t)
	u, _ := url.Parse(e.URL)
	thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value, Path: "/"}})
	if p := thief.get(authURL); !isLogin(p) {
		t.Errorf("the old cookie replayed after sign-out still signs in: %d\n%s", p.Status, p.Body)
	}
	if e.App.OAuth.SignedIn(withCookie(old)) {
		t.Error("SignedIn accepts the old cookie after sign-out: it would still pass the cap on unauthenticated requests")
	}
	if p := aliceElsewhere.get(authURL); !isLogin(p) {
		t.Errorf("alice's other browser is still signed in after sign-out: %d", p.Status)
	}
	if p := bob.get(authURL); isLogin(p) {
		t.Errorf("alice's sign-out signed bob out")
	}
	// The old cookie cannot sign out anybody either, and signing in again
	// works.
	wantStatus(t, thief.post(e.URL+"/oauth/signout", url.Values{}), http.StatusNoContent)
	again := signedIn("alice", "correct horse battery")
	if p := again.get(authURL); isLogin(p) {
		t.Errorf("signed in again after sign-out, the page asks for a login")
	}
	// Signing out without a session is a no-op.
	wantStatus(t, newBrowser(t).post(e.URL+"/ap/signout", url.Values{}), http.StatusNoContent)
}
