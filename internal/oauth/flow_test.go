package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/oauth"
)

// TestAuthorizationCodeFlow drives the whole flow with golang.org/x/oauth2
// as the client of a confidential app: login, consent, callback, exchange,
// API calls, expiry, automatic refresh, rotation, reuse detection and
// revocation.
func TestAuthorizationCodeFlow(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	e.addUser("alice", "correct horse battery")
	cb := callback(t)
	clientID, secret := e.addApp("rclone", false, cb.URL+"/cb")
	conf := &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: e.endpoint(oauth2.AuthStyleInHeader),
		RedirectURL: cb.URL + "/cb", Scopes: []string{drive.ScopeReadAll, drive.ScopeWrite}}

	// The browser part.
	b := newBrowser(t)
	login := b.get(conf.AuthCodeURL("state-1"))
	wantStatus(t, login, http.StatusOK)
	for _, want := range []string{`<label for="username">`, `<label for="password">`, `name="csrf"`, "rclone"} {
		if !strings.Contains(login.Body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if c := login.Header.Get("Set-Cookie"); !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
		t.Errorf("session cookie = %q, want HttpOnly and SameSite=Lax", c)
	}
	consent := b.signIn(login, "alice", "correct horse battery")
	wantStatus(t, consent, http.StatusOK)
	for _, want := range []string{"alice", drive.ScopeReadAll, drive.ScopeWrite, `value="approve"`, `value="deny"`} {
		if !strings.Contains(consent.Body, want) {
			t.Errorf("consent page lacks %q:\n%s", want, consent.Body)
		}
	}
	redirect := b.submit(consent, url.Values{"op": {"approve"}})
	wantStatus(t, redirect, http.StatusSeeOther)
	got := b.follow(redirect)
	q, err := url.ParseQuery(got.Body)
	if err != nil {
		t.Fatal(err)
	}
	if q.Get("state") != "state-1" || q.Get("code") == "" {
		t.Fatalf("callback got %v, want a code and state=state-1", q)
	}

	// The exchange.
	tok, err := conf.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if !strings.HasPrefix(tok.AccessToken, "Atza|") || !strings.HasPrefix(tok.RefreshToken, "Atzr|") || tok.TokenType != "bearer" {
		t.Errorf("token = {access %.5s…, refresh %.5s…, type %q}, want Atza|, Atzr|, bearer", tok.AccessToken, tok.RefreshToken, tok.TokenType)
	}
	if left := time.Until(tok.Expiry); left < 59*time.Minute || left > time.Hour {
		t.Errorf("token expires in %v, want about 1h", left)
	}

	// API calls with the token; the app's client id is createdBy.
	client := conf.Client(ctx, tok)
	if s := apiStatus(t, client, e.URL+"/drive/v1/account/info"); s != http.StatusOK {
		t.Fatalf("GET account/info = %d, want 200", s)
	}
	if by := createFolder(t, client, e.URL, "made-by-app"); by != clientID {
		t.Errorf("createdBy of a folder made with the app's token = %q, want the client id %q", by, clientID)
	}
	if info := tokenInfo(t, e.URL, tok.AccessToken); info["aud"] != clientID || info["exp"] != float64(3600) ||
		info["scope"] != drive.ScopeReadAll+" "+drive.ScopeWrite {
		t.Errorf("tokeninfo = %v, want aud %s, exp 3600 and both scopes", info, clientID)
	}

	// Expiry: an hour later the server refuses the access token.
	e.Clock.Advance(time.Hour + time.Second)
	if s := apiStatus(t, bearer(ctx, tok.AccessToken), e.URL+"/drive/v1/account/info"); s != http.StatusUnauthorized {
		t.Errorf("GET account/info with an expired token = %d, want 401", s)
	}

	// x/oauth2 refreshes by itself once the token has expired on its
	// clock too.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	ts := conf.TokenSource(ctx, &expired)
	if s := apiStatus(t, oauth2.NewClient(ctx, ts), e.URL+"/drive/v1/account/info"); s != http.StatusOK {
		t.Fatalf("GET account/info through a refreshing client = %d, want 200", s)
	}
	rotated, err := ts.Token()
	if err != nil {
		t.Fatalf("Token() after refresh: %v", err)
	}
	if rotated.AccessToken == tok.AccessToken || rotated.RefreshToken == tok.RefreshToken || rotated.RefreshToken == "" {
		t.Fatalf("refresh did not rotate: access changed %t, refresh changed %t", rotated.AccessToken != tok.AccessToken,
			rotated.RefreshToken != tok.RefreshToken)
	}

	// Reuse of the rotated refresh token revokes the whole family.
	stale := expired
	_, err = conf.TokenSource(ctx, &stale).Token()
	wantRetrieveError(t, "refresh with a rotated token", err, "invalid_grant")
	if s := apiStatus(t, bearer(ctx, rotated.AccessToken), e.URL+"/drive/v1/account/info"); s != http.StatusUnauthorized {
		t.Errorf("GET account/info with the family's newest access token after reuse = %d, want 401", s)
	}
	newest := *rotated
	newest.Expiry = time.Now().Add(-time.Minute)
	_, err = conf.TokenSource(ctx, &newest).Token()
	wantRetrieveError(t, "refresh with the family's newest refresh token after reuse", err, "invalid_grant")

	// Revocation (RFC 7009), in a second grant; the browser is still
	// signed in, so it goes straight to consent.
	q = b.authorize(conf.AuthCodeURL("state-2"), "alice", "")
	if q.Get("state") != "state-2" {
		t.Fatalf("second authorization state = %q, want state-2", q.Get("state"))
	}
	tok2, err := conf.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatalf("second Exchange: %v", err)
	}
	if s := apiStatus(t, bearer(ctx, tok2.AccessToken), e.URL+"/drive/v1/account/info"); s != http.StatusOK {
		t.Fatalf("GET account/info with the second grant = %d, want 200", s)
	}
	status, _, _ := postForm(t, e.URL+"/auth/o2/revoke", url.Values{"token": {tok2.RefreshToken}, "token_type_hint": {"refresh_token"}}, clientID, secret)
	if status != http.StatusOK {
		t.Fatalf("revoke = %d, want 200", status)
	}
	if s := apiStatus(t, bearer(ctx, tok2.AccessToken), e.URL+"/drive/v1/account/info"); s != http.StatusUnauthorized {
		t.Errorf("GET account/info after revoking the refresh token = %d, want 401", s)
	}
	tok2.Expiry = time.Now().Add(-time.Minute)
	_, err = conf.TokenSource(ctx, tok2).Token()
	wantRetrieveError(t, "refresh after revocation", err, "invalid_grant")
	// Revoking an unknown token is still 200.
	if status, _, _ := postForm(t, e.URL+"/auth/o2/revoke", url.Values{"token": {"Atzr|nonsense"}}, clientID, secret); status != http.StatusOK {
		t.Errorf("revoke(unknown token) = %d, want 200", status)
	}
}

// createFolder creates a folder in the root and returns its createdBy.
func createFolder(t *testing.T, c *http.Client, base, name string) string {
	t.Helper()
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	resp, err := c.Get(base + "/drive/v1/nodes?filters=isRoot:true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Data) != 1 {
		t.Fatalf("root lookup: %v, %d nodes", err, len(list.Data))
	}
	body := `{"name":"` + name + `","kind":"FOLDER","parents":["` + list.Data[0].ID + `"]}`
	resp2, err := c.Post(base+"/drive/v1/nodes", "", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var node struct {
		CreatedBy string `json:"createdBy"`
	}
	if resp2.StatusCode != http.StatusCreated {
		t.Fatalf("create folder = %d, want 201", resp2.StatusCode)
	}
	if err := json.NewDecoder(resp2.Body).Decode(&node); err != nil {
		t.Fatal(err)
	}
	return node.CreatedBy
}

// tokenInfo calls GET /auth/o2/tokeninfo and returns the JSON body.
func tokenInfo(t *testing.T, base, access string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/auth/o2/tokeninfo?" + url.Values{"access_token": {access}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	m["status"] = float64(resp.StatusCode)
	return m
}

// TestPKCEPublicClient runs the first-party CLI app (public, loopback
// redirect on any port) through the /oauth/ aliases.
func TestPKCEPublicClient(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	e.addUser("alice", "correct horse battery")
	cb := callback(t)
	conf := &oauth2.Config{ClientID: "clouddrive-cli",
		Endpoint:    oauth2.Endpoint{AuthURL: e.URL + "/oauth/authorize", TokenURL: e.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: cb.URL + "/callback", Scopes: []string{drive.ScopeRead}}
	b := newBrowser(t)

	// Without a challenge the request goes back to the client as an error.
	p := b.get(conf.AuthCodeURL("s0"))
	wantStatus(t, p, http.StatusFound)
	loc, _ := url.Parse(p.Header.Get("Location"))
	if loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "s0" || !strings.HasPrefix(loc.String(), cb.URL) {
		t.Errorf("authorization without PKCE redirected to %s, want the callback with error=invalid_request&state=s0", loc)
	}
	// plain is refused too.
	p = b.get(conf.AuthCodeURL("s0", oauth2.SetAuthURLParam("code_challenge", "x"), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	wantStatus(t, p, http.StatusFound)
	if loc, _ := url.Parse(p.Header.Get("Location")); loc.Query().Get("error") != "invalid_request" {
		t.Errorf("code_challenge_method=plain redirected to %s, want error=invalid_request", loc)
	}

	verifier := oauth2.GenerateVerifier()
	code := func(state string) string {
		t.Helper()
		q := b.authorize(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "alice", "correct horse battery")
		if q.Get("state") != state || q.Get("code") == "" {
			t.Fatalf("callback got %v, want a code and state %s", q, state)
		}
		return q.Get("code")
	}

	_, err := conf.Exchange(ctx, code("s1"))
	wantRetrieveError(t, "Exchange without code_verifier", err, "invalid_grant")
	_, err = conf.Exchange(ctx, code("s2"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantRetrieveError(t, "Exchange with a wrong code_verifier", err, "invalid_grant")

	// The right verifier; the reply is exactly ACD's four fields.
	c := code("s3")
	status, h, body := postForm(t, e.URL+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {c},
		"client_id": {"clouddrive-cli"}, "redirect_uri": {conf.RedirectURL}, "code_verifier": {verifier}})
	if status != http.StatusOK {
		t.Fatalf("token exchange = %d %v, want 200", status, body)
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"access_token", "expires_in", "refresh_token", "token_type"}; !slices.Equal(keys, want) {
		t.Errorf("token response keys = %v, want %v", keys, want)
	}
	if body["token_type"] != "bearer" || body["expires_in"] != float64(3600) {
		t.Errorf("token response = %v, want token_type bearer and expires_in 3600", body)
	}
	if h.Get("Cache-Control") != "no-store" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("token response headers: Cache-Control %q, Content-Type %q", h.Get("Cache-Control"), h.Get("Content-Type"))
	}
	access := body["access_token"].(string)
	client := bearer(ctx, access)
	if s := apiStatus(t, client, e.URL+"/drive/v1/account/info"); s != http.StatusOK {
		t.Fatalf("GET account/info = %d, want 200", s)
	}
	// read became read_all, and read_all alone cannot write.
	if info := tokenInfo(t, e.URL, access); info["scope"] != drive.ScopeReadAll || info["aud"] != "clouddrive-cli" {
		t.Errorf("tokeninfo = %v, want scope %s and aud clouddrive-cli", info, drive.ScopeReadAll)
	}

	// Replaying the code revokes what it issued.
	status, _, body = postForm(t, e.URL+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {c},
		"client_id": {"clouddrive-cli"}, "redirect_uri": {conf.RedirectURL}, "code_verifier": {verifier}})
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("replayed code = %d %v, want 400 invalid_grant", status, body)
	}
	if s := apiStatus(t, client, e.URL+"/drive/v1/account/info"); s != http.StatusUnauthorized {
		t.Errorf("GET account/info after the code was replayed = %d, want 401", s)
	}

	// A refresh by the public client needs no secret.
	c = code("s4")
	tok, err := conf.Exchange(ctx, c, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	tok.Expiry = time.Now().Add(-time.Second)
	if _, err := conf.TokenSource(ctx, tok).Token(); err != nil {
		t.Errorf("refresh by the public client: %v", err)
	}
	// A code is bound to its redirect URI.
	c = code("s5")
	status, _, body = postForm(t, e.URL+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {c},
		"client_id": {"clouddrive-cli"}, "redirect_uri": {"http://127.0.0.1:1/callback"}, "code_verifier": {verifier}})
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("exchange with another redirect_uri = %d %v, want 400 invalid_grant", status, body)
	}
}

// TestDeny checks that denying consent sends the user back with
// access_denied and the state.
func TestDeny(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("alice", "correct horse battery")
	cb := callback(t)
	clientID, secret := e.addApp("app", false, cb.URL+"/cb")
	conf := &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: e.endpoint(oauth2.AuthStyleAutoDetect), RedirectURL: cb.URL + "/cb"}
	b := newBrowser(t)
	consent := b.signIn(b.get(conf.AuthCodeURL("st")), "alice", "correct horse battery")
	res := b.submit(consent, url.Values{"op": {"deny"}})
	wantStatus(t, res, http.StatusSeeOther)
	q, _ := url.ParseQuery(b.follow(res).Body)
	if q.Get("error") != "access_denied" || q.Get("state") != "st" || q.Has("code") {
		t.Errorf("callback after deny got %v, want error=access_denied&state=st and no code", q)
	}
}

// TestPathPrefix runs the browser part of the flow behind a reverse proxy
// that serves the server under /drive: forms and redirects stay under the
// prefix, and the device verification URI carries it.
func TestPathPrefix(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("alice", "correct horse battery")
	cb := callback(t)
	clientID, _ := e.addApp("app", false, cb.URL+"/cb")
	var h http.Handler
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/drive/") {
			t.Errorf("request outside the prefix: %s %s", r.Method, r.URL)
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	oa, err := oauth.New(t.Context(), oauth.Config{Meta: e.App.Meta, Tokens: e.App.Tokens, Now: e.Clock.Now, PublicURL: proxy.URL + "/drive"})
	if err != nil {
		t.Fatal(err)
	}
	h = http.StripPrefix("/drive", oa.Handler())

	q := newBrowser(t).authorize(authURL(proxy.URL+"/drive", clientID, cb.URL+"/cb", "p"), "alice", "correct horse battery")
	if q.Get("code") == "" || q.Get("state") != "p" {
		t.Errorf("callback behind a prefix got %v", q)
	}
	status, _, body := postForm(t, proxy.URL+"/drive/auth/o2/device", url.Values{"client_id": {oauth.CLIClientID}})
	if status != http.StatusOK || body["verification_uri"] != proxy.URL+"/drive/device" {
		t.Errorf("device authorization behind a prefix = %d %v, want verification_uri %s/drive/device", status, body, proxy.URL)
	}
	b := newBrowser(t)
	p := b.signIn(b.get(body["verification_uri_complete"].(string)), "alice", "correct horse battery")
	if done := b.submit(p, url.Values{"op": {"approve"}}); !strings.Contains(done.Body, "Device connected") {
		t.Errorf("device approval behind a prefix: %d\n%s", done.Status, done.Body)
	}
}
