package oauth_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/oauth"
)

// TestPerAddressRateLimit: the OAuth endpoints share one bucket per client
// address. A flood of device authorizations (each a database write) is
// cut at the burst with 429, Retry-After and an OAuth error; the token endpoint and the pages are limited too; another address
// is not slowed; the bucket refills at the rate.
func TestPerAddressRateLimit(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) {
		c.PerAddress, c.PerAddressBurst = 2, 20
		c.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	clientID, _ := e.addApp("tv", true, "http://127.0.0.1/cb")
	send := func(client, method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, e.URL+path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Client", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	grant := url.Values{"client_id": {clientID}, "scope": {"clouddrive:read_all"}}
	ok, limited := 0, 0
	for range 100 {
		resp, body := send("198.51.100.7", http.MethodPost, oauth.PathDevice, grant)
		switch resp.StatusCode {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
			if resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"error":"temporarily_unavailable"`) ||
				!strings.Contains(body, "too many requests from your address") {
				t.Fatalf("429 without Retry-After or OAuth error: %v %s", resp.Header, body)
			}
		default:
			t.Fatalf("device authorization: %d %s", resp.StatusCode, body)
		}
	}
	if ok != 20 || limited != 80 {
		t.Errorf("100 device authorizations from one address: %d granted, %d limited; want the burst of 20 granted", ok, limited)
	}
	// The same address is limited on the token endpoint and on the pages.
	if resp, body := send("198.51.100.7", http.MethodPost, oauth.PathToken, url.Values{"grant_type": {"refresh_token"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("token endpoint: %d %s, want 429", resp.StatusCode, body)
	}
	if resp, body := send("198.51.100.7", http.MethodGet, oauth.PathAuthorize+"?client_id="+clientID, nil); resp.StatusCode != http.StatusTooManyRequests ||
		!strings.Contains(body, "Too many requests from your address") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("authorization page: %d %v %s, want a 429 page with Retry-After", resp.StatusCode, resp.Header, body)
	}
	// Another address is not slowed.
	if resp, body := send("203.0.113.9", http.MethodPost, oauth.PathDevice, grant); resp.StatusCode != http.StatusOK {
		t.Errorf("another address: %d %s", resp.StatusCode, body)
	}
	// The bucket refills at 2 per second.
	e.Clock.Advance(time.Second)
	for i := range 3 {
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if resp, body := send("198.51.100.7", http.MethodPost, oauth.PathDevice, grant); resp.StatusCode != want {
			t.Errorf("after 1 s, request %d: %d %s, want %d", i+1, resp.StatusCode, body, want)
		}
	}
}
