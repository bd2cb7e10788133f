package oauth_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/oauth"
)

// poll asks the token endpoint once for a device code's tokens.
func poll(t *testing.T, base, clientID, deviceCode string) (int, map[string]any) {
	t.Helper()
	status, _, body := postForm(t, base+"/auth/o2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {deviceCode}, "client_id": {clientID}})
	return status, body
}

func wantPoll(t *testing.T, when string, status int, body map[string]any, wantErr string) {
	t.Helper()
	if status != http.StatusBadRequest || body["error"] != wantErr {
		t.Errorf("poll %s = %d %v, want 400 %s", when, status, body, wantErr)
	}
}

// TestDeviceFlow runs RFC 8628 end to end: x/oauth2 asks for a device
// code, polls (pending, slow_down), the user approves on /device, and
// x/oauth2's own polling loop gets the tokens.
func TestDeviceFlow(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) { c.DeviceInterval = time.Second })
	ctx := t.Context()
	e.addUser("alice", "correct horse battery")
	conf := &oauth2.Config{ClientID: oauth.CLIClientID, Endpoint: e.endpoint(oauth2.AuthStyleInParams),
		Scopes: []string{drive.ScopeReadAll, drive.ScopeWrite}}

	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(da.UserCode) {
		t.Errorf("user_code = %q, want XXXX-XXXX from the consonant alphabet", da.UserCode)
	}
	if da.VerificationURI != e.URL+"/device" || da.VerificationURIComplete != e.URL+"/device?user_code="+da.UserCode {
		t.Errorf("verification URIs = %q, %q", da.VerificationURI, da.VerificationURIComplete)
	}
	if da.Interval != 1 || da.Expiry.IsZero() || time.Until(da.Expiry) > 10*time.Minute {
		t.Errorf("interval = %d, expiry in %v; want 1 and at most 10 minutes", da.Interval, time.Until(da.Expiry))
	}

	status, body := poll(t, e.URL, oauth.CLIClientID, da.DeviceCode)
	wantPoll(t, "before approval", status, body, "authorization_pending")
	status, body = poll(t, e.URL, oauth.CLIClientID, da.DeviceCode)
	wantPoll(t, "again at once", status, body, "slow_down")
	e.Clock.Advance(10 * time.Second)
	status, body = poll(t, e.URL, oauth.CLIClientID, da.DeviceCode)
	wantPoll(t, "after waiting", status, body, "authorization_pending")
	// Another client cannot redeem it.
	otherID, otherSecret := e.addApp("other", false, "https://other.example/cb")
	status, _, body = postForm(t, e.URL+"/auth/o2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {da.DeviceCode}}, otherID, otherSecret)
	wantPoll(t, "by another client", status, body, "invalid_grant")

	// The user opens the complete URI, signs in and approves.
	b := newBrowser(t)
	p := b.get(da.VerificationURIComplete)
	wantStatus(t, p, http.StatusOK)
	p = b.signIn(p, "alice", "correct horse battery")
	wantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.Body, da.UserCode) || !strings.Contains(p.Body, oauth.CLIClientID) || !strings.Contains(p.Body, `value="approve"`) {
		t.Fatalf("device consent page lacks the code, the app or the approve button:\n%s", p.Body)
	}
	done := b.submit(p, url.Values{"op": {"approve"}})
	wantStatus(t, done, http.StatusOK)
	if !strings.Contains(done.Body, "Device connected") {
		t.Errorf("after approval the page says:\n%s", done.Body)
	}

	e.Clock.Advance(time.Minute)
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
	if s := apiStatus(t, conf.Client(ctx, tok), e.URL+"/drive/v1/account/info"); s != http.StatusOK {
		t.Errorf("GET account/info with the device token = %d, want 200", s)
	}
	if by := createFolder(t, conf.Client(ctx, tok), e.URL, "from-device"); by != oauth.CLIClientID {
		t.Errorf("createdBy = %q, want %s", by, oauth.CLIClientID)
	}
	e.Clock.Advance(time.Minute)
	status, body = poll(t, e.URL, oauth.CLIClientID, da.DeviceCode)
	wantPoll(t, "after the tokens were issued", status, body, "invalid_grant")

	// Denial, entering the code by hand (lower case, no dash); the
	// browser is still signed in.
	da2, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	entry := b.get(e.URL + "/device")
	wantStatus(t, entry, http.StatusOK)
	if !strings.Contains(entry.Body, `<label for="user_code">`) {
		t.Fatalf("/device while signed in is not the code entry form:\n%s", entry.Body)
	}
	typed := strings.ToLower(strings.ReplaceAll(da2.UserCode, "-", " "))
	p = b.get(e.URL + "/device?" + url.Values{"user_code": {typed}}.Encode())
	wantStatus(t, p, http.StatusOK)
	denied := b.submit(p, url.Values{"op": {"deny"}})
	wantStatus(t, denied, http.StatusOK)
	if !strings.Contains(denied.Body, "Request denied") {
		t.Errorf("after denial the page says:\n%s", denied.Body)
	}
	status, body = poll(t, e.URL, oauth.CLIClientID, da2.DeviceCode)
	wantPoll(t, "after denial", status, body, "access_denied")

	// A code that is not (or no longer) valid.
	p = b.get(e.URL + "/device?user_code=" + url.QueryEscape(da2.UserCode))
	wantStatus(t, p, http.StatusBadRequest)
	p = b.get(e.URL + "/device?user_code=AAAA-1111")
	wantStatus(t, p, http.StatusBadRequest)

	// Expiry.
	da3, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	e.Clock.Advance(10*time.Minute + time.Second)
	status, body = poll(t, e.URL, oauth.CLIClientID, da3.DeviceCode)
	wantPoll(t, "after expiry", status, body, "expired_token")
	p = b.get(da3.VerificationURIComplete)
	wantStatus(t, p, http.StatusBadRequest)
}

// TestDeviceAlias checks the /oauth/device alias and that a device code
// needs the client to authenticate like the token endpoint does.
func TestDeviceAlias(t *testing.T) {
	e := newEnv(t, nil)
	status, _, body := postForm(t, e.URL+"/oauth/device", url.Values{"client_id": {oauth.CLIClientID}, "scope": {"clouddrive:read_all"}})
	if status != http.StatusOK || body["interval"] != float64(5) || body["expires_in"] != float64(600) {
		t.Errorf("POST /oauth/device = %d %v, want 200 with interval 5 and expires_in 600", status, body)
	}
	status, _, body = postForm(t, e.URL+"/auth/o2/device", url.Values{"client_id": {oauth.CLIClientID}, "scope": {"clouddrive:admin"}})
	if status != http.StatusBadRequest || body["error"] != "invalid_scope" {
		t.Errorf("device request with an unknown scope = %d %v, want 400 invalid_scope", status, body)
	}
	status, _, body = postForm(t, e.URL+"/auth/o2/device", url.Values{"client_id": {"nobody"}})
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("device request by an unknown client = %d %v, want 401 invalid_client", status, body)
	}
}
