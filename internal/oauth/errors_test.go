package oauth_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/oauth"
)

func authURL(base, clientID, redirect, state string, extra ...string) string {
	v := url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {redirect}, "state": {state},
		"scope": {drive.ScopeReadAll}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return base + "/ap/oa?" + v.Encode()
}

func TestLoginFailures(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("alice", "correct horse battery")
	e.addUser("carol", "carol's password")
	e.setDisabled("carol", true)
	cb := callback(t)
	clientID, _ := e.addApp("app", false, cb.URL+"/cb")
	for _, tc := range []struct {
		name, user, password, want string
	}{
		{"WrongPassword", "alice", "wrong horse", "Wrong user name or password."},
		{"UnknownUser", "mallory", "correct horse battery", "Wrong user name or password."},
		{"EmptyPassword", "alice", "", "Wrong user name or password."},
		{"Disabled", "carol", "carol's password", "This account is disabled."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t)
			login := b.get(authURL(e.URL, clientID, cb.URL+"/cb", "s"))
			wantStatus(t, login, http.StatusOK)
			p := b.submit(login, url.Values{"username": {tc.user}, "password": {tc.password}})
			wantStatus(t, p, http.StatusUnauthorized)
			if p.Header.Get("Location") != "" {
				t.Errorf("failed login redirected to %s", p.Header.Get("Location"))
			}
			if !strings.Contains(p.Body, tc.want) || !strings.Contains(p.Body, `role="alert"`) {
				t.Errorf("failed login page lacks the alert %q:\n%s", tc.want, p.Body)
			}
			// Still not signed in: the next GET shows the login form again.
			again := b.get(authURL(e.URL, clientID, cb.URL+"/cb", "s"))
			if !strings.Contains(again.Body, `<label for="password">`) {
				t.Errorf("after a failed login the authorization page is not the login form:\n%s", again.Body)
			}
		})
	}
}

// TestBadClientOrRedirect checks that an unknown client or an unregistered
// redirect URI gets an error page and never a redirect.
func TestBadClientOrRedirect(t *testing.T) {
	e := newEnv(t, nil)
	cb := callback(t)
	clientID, _ := e.addApp("app", false, cb.URL+"/cb")
	for _, tc := range []struct{ name, url string }{
		{"WrongRedirect", authURL(e.URL, clientID, "https://evil.example/cb", "s")},
		{"WrongPath", authURL(e.URL, clientID, cb.URL+"/other", "s")},
		{"ExtraQuery", authURL(e.URL, clientID, cb.URL+"/cb?x=1", "s")},
		{"OtherPortForConfidential", authURL(e.URL, clientID, strings.Replace(cb.URL, ":", ":1", 2)+"/cb", "s")},
		{"MissingRedirect", authURL(e.URL, clientID, "", "s")},
		{"UnknownClient", authURL(e.URL, "nobody", cb.URL+"/cb", "s")},
		{"MissingClient", authURL(e.URL, "", cb.URL+"/cb", "s")},
		{"CLIWrongHost", authURL(e.URL, oauth.CLIClientID, "http://192.0.2.1:8000/callback", "s")},
		{"CLIWrongPath", authURL(e.URL, oauth.CLIClientID, "http://127.0.0.1:8000/elsewhere", "s")},
		{"CLIHTTPS", authURL(e.URL, oauth.CLIClientID, "https://127.0.0.1:8000/callback", "s")},
		{"WebOtherOrigin", authURL(e.URL, oauth.WebClientID, "https://evil.example/ui/callback", "s")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newBrowser(t).get(tc.url)
			wantStatus(t, p, http.StatusBadRequest)
			if loc := p.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %s, want an error page", loc)
			}
			if !strings.Contains(p.Body, `role="alert"`) || strings.Contains(p.Body, "<form") {
				t.Errorf("not an error page:\n%s", p.Body)
			}
		})
	}
	// The web UI's relative redirect URI means this server's origin.
	p := newBrowser(t).get(authURL(e.URL, oauth.WebClientID, e.URL+"/ui/callback", "s",
		"code_challenge", oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()), "code_challenge_method", "S256"))
	wantStatus(t, p, http.StatusOK)
	// An unknown scope goes back to a valid redirect URI as an error.
	p = newBrowser(t).get(authURL(e.URL, clientID, cb.URL+"/cb", "s", "scope", "clouddrive:everything"))
	wantStatus(t, p, http.StatusFound)
	if loc, _ := url.Parse(p.Header.Get("Location")); loc.Query().Get("error") != "invalid_scope" || loc.Query().Get("state") != "s" {
		t.Errorf("unknown scope redirected to %s, want error=invalid_scope&state=s", loc)
	}
	p = newBrowser(t).get(authURL(e.URL, clientID, cb.URL+"/cb", "s", "response_type", "token"))
	if loc, _ := url.Parse(p.Header.Get("Location")); p.Status != http.StatusFound || loc.Query().Get("error") != "unsupported_response_type" {
		t.Errorf("response_type=token = %d to %s, want 302 with error=unsupported_response_type", p.Status, loc)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("alice", "correct horse battery")
	cb := callback(t)
	clientID, _ := e.addApp("app", false, cb.URL+"/cb")
	u := authURL(e.URL, clientID, cb.URL+"/cb", "s")

	t.Run("LoginMissing", func(t *testing.T) {
		b := newBrowser(t)
		login := b.get(u)
		p := b.submit(login, url.Values{"username": {"alice"}, "password": {"correct horse battery"}, "csrf": nil})
		wantStatus(t, p, http.StatusForbidden)
	})
	t.Run("LoginWrong", func(t *testing.T) {
		b := newBrowser(t)
		login := b.get(u)
		p := b.submit(login, url.Values{"username": {"alice"}, "password": {"correct horse battery"}, "csrf": {"forged"}})
		wantStatus(t, p, http.StatusForbidden)
	})
	t.Run("LoginNoCookie", func(t *testing.T) {
		login := newBrowser(t).get(u)
		// Another browser (the attacker's page) posts the victim's form.
		p := newBrowser(t).submit(login, url.Values{"username": {"alice"}, "password": {"correct horse battery"}})
		wantStatus(t, p, http.StatusForbidden)
	})
	t.Run("ConsentMissing", func(t *testing.T) {
		b := newBrowser(t)
		consent := b.signIn(b.get(u), "alice", "correct horse battery")
		p := b.submit(consent, url.Values{"op": {"approve"}, "csrf": nil})
		wantStatus(t, p, http.StatusForbidden)
		if p.Header.Get("Location") != "" {
			t.Errorf("approval without CSRF token redirected to %s", p.Header.Get("Location"))
		}
	})
	t.Run("ConsentTokenFromBeforeLogin", func(t *testing.T) {
		b := newBrowser(t)
		login := b.get(u)
		consent := b.signIn(login, "alice", "correct horse battery")
		old := hiddenRE.FindStringSubmatch(login.Body)[2]
		p := b.submit(consent, url.Values{"op": {"approve"}, "csrf": {old}})
		wantStatus(t, p, http.StatusForbidden)
	})
	t.Run("DeviceMissing", func(t *testing.T) {
		b := newBrowser(t)
		login := b.get(e.URL + "/device")
		p := b.submit(login, url.Values{"username": {"alice"}, "password": {"correct horse battery"}, "csrf": nil})
		wantStatus(t, p, http.StatusForbidden)
	})
}

// TestDisabledUser checks that disabling a user stops their tokens at
// once, and enabling them restores the unexpired ones.
func TestDisabledUser(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	e.addUser("alice", "correct horse battery")
	cb := callback(t)
	clientID, secret := e.addApp("app", false, cb.URL+"/cb")
	conf := &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: e.endpoint(oauth2.AuthStyleInParams), RedirectURL: cb.URL + "/cb"}
	q := newBrowser(t).authorize(conf.AuthCodeURL("s"), "alice", "correct horse battery")
	tok, err := conf.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	e.setDisabled("alice", true)
	if s := apiStatus(t, bearer(ctx, tok.AccessToken), e.URL+"/drive/v1/account/info"); s != http.StatusUnauthorized {
		t.Errorf("GET account/info as a disabled user = %d, want 401", s)
	}
	if info := tokenInfo(t, e.URL, tok.AccessToken); info["error"] != "invalid_token" {
		t.Errorf("tokeninfo of a disabled user's token = %v, want invalid_token", info)
	}
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute)
	_, err = conf.TokenSource(ctx, &stale).Token()
	wantRetrieveError(t, "refresh as a disabled user", err, "invalid_grant")

	e.setDisabled("alice", false)
	if s := apiStatus(t, bearer(ctx, tok.AccessToken), e.URL+"/drive/v1/account/info"); s != http.StatusOK {
		t.Errorf("GET account/info after enabling again = %d, want 200", s)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t, nil)
	clientID, secret := e.addApp("app", false, "https://app.example/cb")
	tokenURL := e.URL + "/auth/o2/token"
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"Atzr|unknown"}}
	with := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		basic  []string
		status int
		code   string
	}{
		{"UnknownRefreshToken", with(refresh, "client_id", clientID, "client_secret", secret), nil, 400, "invalid_grant"},
		{"BasicAuth", refresh, []string{clientID, secret}, 400, "invalid_grant"},
		{"WrongSecret", with(refresh, "client_id", clientID, "client_secret", "nope"), nil, 401, "invalid_client"},
		{"WrongSecretBasic", refresh, []string{clientID, "nope"}, 401, "invalid_client"},
		{"NoSecret", with(refresh, "client_id", clientID), nil, 401, "invalid_client"},
		{"NoClient", refresh, nil, 401, "invalid_client"},
		{"UnknownClient", with(refresh, "client_id", "nobody"), nil, 401, "invalid_client"},
		{"PublicWithSecret", with(refresh, "client_id", oauth.CLIClientID, "client_secret", "x"), nil, 401, "invalid_client"},
		{"TwoMethods", with(refresh, "client_secret", secret), []string{clientID, secret}, 400, "invalid_request"},
		{"UnsupportedGrant", url.Values{"grant_type": {"password"}, "client_id": {clientID}, "client_secret": {secret}}, nil, 400, "unsupported_grant_type"},
		{"MissingGrant", url.Values{"client_id": {clientID}, "client_secret": {secret}}, nil, 400, "invalid_request"},
		{"MissingCode", url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "client_secret": {secret}}, nil, 400, "invalid_request"},
		{"UnknownCode", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {clientID}, "client_secret": {secret}}, nil, 400, "invalid_grant"},
		{"RepeatedParameter", with(refresh, "client_id", clientID, "client_secret", secret, "refresh_token", "again"), nil, 400, "invalid_request"},
		{"MissingDeviceCode", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {oauth.CLIClientID}}, nil, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := postForm(t, tokenURL, tc.form, tc.basic...)
			if status != tc.status || body["error"] != tc.code {
				t.Errorf("POST token = %d %v, want %d %s", status, body, tc.status, tc.code)
			}
			if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	resp, err := http.Get(tokenURL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET token endpoint = %d, want 405", resp.StatusCode)
	}
}

func TestTokenInfo(t *testing.T) {
	e := newEnv(t, nil)
	admin, err := app.AdminToken(t.Context(), app.Config{Now: e.Clock.Now}, e.App.Meta, "alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	info := tokenInfo(t, e.URL, admin)
	if info["aud"] != "clouddrive-admin" || info["scope"] != drive.ScopeReadAll+" "+drive.ScopeWrite || info["status"] != float64(200) {
		t.Errorf("tokeninfo(admin token) = %v", info)
	}
	if _, ok := info["exp"]; ok {
		t.Errorf("tokeninfo(never-expiring token) has exp %v, want none", info["exp"])
	}
	// The Bearer header works too, and through the alias.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL+"/oauth/tokeninfo", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /oauth/tokeninfo with a Bearer header = %d, want 200", resp.StatusCode)
	}
	if info := tokenInfo(t, e.URL, "Atza|forged"); info["status"] != float64(400) || info["error"] != "invalid_token" {
		t.Errorf("tokeninfo(forged) = %v, want 400 invalid_token", info)
	}
}
