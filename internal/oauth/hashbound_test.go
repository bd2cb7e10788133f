package oauth_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/oauth"
)

// loginForm is the login form of a fresh browser: its action, its fields
// (CSRF token included) and the browser's client, which holds the
// session cookie; concurrent posts can share it.
func loginForm(t *testing.T, e *env) (string, url.Values, *http.Client) {
	t.Helper()
	cb := callback(t)
	clientID, secret := e.addApp("app", false, cb.URL+"/cb")
	conf := &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: e.endpoint(oauth2.AuthStyleAutoDetect), RedirectURL: cb.URL + "/cb"}
	b := newBrowser(t)
	p := b.get(conf.AuthCodeURL("st"))
	m := formRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no login form:\n%s", p.Body)
	}
	form := url.Values{}
	for _, h := range hiddenRE.FindAllStringSubmatch(m[2], -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return resolve(t, p.URL, html.UnescapeString(m[1])), form, b.c
}

type loginResult struct {
	status     int
	retryAfter string
	body       string
	err        error
}

// logins posts the form concurrently with n user names (name(i)) and
// password pw, and returns the results once all have answered.
func logins(c *http.Client, action string, form url.Values, n int, name func(i int) string, pw string) []loginResult {
	out := make([]loginResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("username", name(i))
			f.Set("password", pw)
			resp, err := c.PostForm(action, f)
			if err != nil {
				out[i].err = err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out[i] = loginResult{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
		})
	}
	wg.Wait()
	return out
}

// TestSignInHashBound: concurrent sign-ins with made-up names (each costs
// a 64 MiB argon2id verification of the dummy hash) never run more than
// the hasher's bound at once; those that find no turn in time get the
// login page with 429 and Retry-After.
func TestSignInHashBound(t *testing.T) {
	const bound, n = 2, 12
	var mu sync.Mutex
	running, most, entered := 0, 0, 0
	hold := make(chan struct{}) // closed: hashes run freely
	var holding bool
	h := &auth.Hasher{Max: bound, Wait: 300 * time.Millisecond, Running: func(k int) {
		mu.Lock()
		running, entered = k, entered+1
		most = max(most, running)
		wait := holding
		mu.Unlock()
		if wait {
			<-hold
		}
	}}
	e := newEnv(t, func(c *oauth.Config) { c.Hasher = h })
	action, form, c := loginForm(t, e)
	random := func(i int) string { return fmt.Sprintf("nobody-%d-%d", i, time.Now().UnixNano()) }

	// Round 1: the first two hashes hold their turns; the other ten wait
	// 300 ms and are told to come back.
	holding = true
	done := make(chan []loginResult)
	go func() { done <- logins(c, action, form, n, random, "guess") }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		k := entered
		mu.Unlock()
		if k >= bound || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // the others' 300 ms wait is long over
	mu.Lock()
	holding = false
	mu.Unlock()
	close(hold)
	var n429, n401 int
	for _, r := range <-done {
		switch {
		case r.err != nil:
			t.Errorf("login: %v", r.err)
		case r.status == http.StatusTooManyRequests:
			n429++
			if r.retryAfter == "" || !strings.Contains(r.body, "The server is busy checking other sign-ins") {
				t.Errorf("429 without Retry-After or message: %q\n%s", r.retryAfter, r.body)
			}
		case r.status == http.StatusUnauthorized:
			n401++
		default:
			t.Errorf("login: status %d", r.status)
		}
	}
	if n429 != n-bound || n401 != bound || most > bound {
		t.Errorf("held round: %d got 429, %d got 401, at most %d hashes at once; want %d, %d and at most %d", n429, n401, most, n-bound, bound, bound)
	}

	// Round 2: real hashes, enough time for everybody: all are checked,
	// never more than the bound at once.
	mu.Lock()
	most = 0
	mu.Unlock()
	res := logins(c, action, form, n, random, "guess")
	for _, r := range res {
		if r.err != nil || (r.status != http.StatusUnauthorized && r.status != http.StatusTooManyRequests) {
			t.Errorf("login: %d %v", r.status, r.err)
		}
	}
	if most > bound || most == 0 {
		t.Errorf("%d argon2id hashes ran at once, want at most %d", most, bound)
	}
}

// TestSignInThrottlePerAddress: many failed sign-ins from one address,
// each with another name, lock the address for a while, even for a
// correct password.
func TestSignInThrottlePerAddress(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) { c.Hasher = &auth.Hasher{Params: cheapArgon()} })
	e.addUser("alice", "correct horse battery")
	action, form, c := loginForm(t, e)
	try := func(name, pw string) loginResult {
		t.Helper()
		r := logins(c, action, form, 1, func(int) string { return name }, pw)[0]
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r
	}
	for i := range 30 {
		if r := try(fmt.Sprintf("guess%d", i), "guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, r.status)
		}
	}
	if r := try("alice", "guess"); r.status != http.StatusUnauthorized {
		t.Fatalf("31st failure: status %d, want 401 (it locks)", r.status)
	}
	r := try("alice", "correct horse battery")
	if r.status != http.StatusTooManyRequests || r.retryAfter != "10" || !strings.Contains(r.body, "from your address") {
		t.Errorf("locked address: %d Retry-After %q, want 429 and 10; body:\n%s", r.status, r.retryAfter, r.body)
	}
	e.Clock.Advance(11 * time.Second)
	if r := try("alice", "correct horse battery"); r.status != http.StatusSeeOther {
		t.Errorf("after the lock: status %d, want 303", r.status)
	}
}
