package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// The CLI is the server's first-party public OAuth client: no secret,
// PKCE (S256) on the authorization-code flow, loopback redirect on any
// port (RFC 8252), and the device grant (RFC 8628) for machines without a
// browser.
const (
	cliClientID = "clouddrive-cli"
	// loginTimeout bounds how long login waits for the user.
	loginTimeout = 10 * time.Minute
)

var cliScopes = []string{"clouddrive:read_all", "clouddrive:write"}

// oauthClient is the OAuth client a flow logs in as: the CLI itself
// (the zero value), or an app registered for another client (connect).
type oauthClient struct {
	id, secret string
	// listen is the address of the browser flow's redirect listener and
	// path its path: any loopback port for the CLI, which the server
	// allows for public clients; a fixed one for confidential apps, whose
	// redirect URIs match exactly.
	listen, path string
}

// orCLI returns c, or the CLI's own client for the zero value.
func (c oauthClient) orCLI() oauthClient {
	if c.id == "" {
		return oauthClient{id: cliClientID, listen: "127.0.0.1:0", path: "/callback"}
	}
	return c
}

func (c oauthClient) config(server, redirect string) *oauth2.Config {
	c = c.orCLI()
	return &oauth2.Config{
		ClientID:     c.id,
		ClientSecret: c.secret,
		Scopes:       cliScopes,
		RedirectURL:  redirect,
		Endpoint: oauth2.Endpoint{
			AuthURL:       server + "/ap/oa",
			TokenURL:      server + "/auth/o2/token",
			DeviceAuthURL: server + "/auth/o2/device",
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
}

// oauthContext makes x/oauth2 use the CLI's HTTP client (tests inject one).
func (e *Env) oauthContext(ctx context.Context) context.Context {
	if e.HTTPClient != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, e.HTTPClient)
	}
	return ctx
}

func oauthCredentials(server, flow string, c oauthClient, tok *oauth2.Token) *Credentials {
	c = c.orCLI()
	return &Credentials{Server: server, Flow: flow, Token: tok, ClientID: c.id, ClientSecret: c.secret,
		TokenURL: server + "/auth/o2/token"}
}

// browserFlow is the authorization-code flow with PKCE and a loopback
// redirect: the CLI listens on 127.0.0.1, opens the login page, and
// receives the code on /callback (for the CLI's own client).
type browserFlow struct{ client oauthClient }

func (browserFlow) name() string { return "browser" }

func (f browserFlow) login(ctx context.Context, env *Env, server string) (*Credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	oc := f.client.orCLI()
	ln, err := net.Listen("tcp", oc.listen)
	if err != nil {
		return nil, fmt.Errorf("listening for the login redirect on %s: %w", oc.listen, err)
	}
	defer ln.Close()
	redirect := fmt.Sprintf("http://%s%s", ln.Addr(), oc.path)
	conf := oc.config(server, redirect)
	verifier := oauth2.GenerateVerifier()
	state := randomState()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	type result struct {
		code string
		err  error
	}
	got := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != oc.path {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != state:
			res.err = errors.New("the login redirect carried a wrong state; try again")
		case q.Get("error") != "":
			res.err = fmt.Errorf("login refused: %s %s", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			res.err = errors.New("the login redirect carried no code")
		default:
			res.code = q.Get("code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		msg := "You are logged in to clouddrive. You can close this window."
		if res.err != nil {
			msg = "Login failed: " + res.err.Error()
		}
		fmt.Fprintf(w, "<!doctype html><title>clouddrive</title><p>%s</p>", html.EscapeString(msg))
		select {
		case got <- res:
		default:
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	fmt.Fprintf(env.Stderr, "Open this address in your browser to log in:\n\n  %s\n\n", authURL)
	if err := env.openURL(authURL); err != nil {
		fmt.Fprintf(env.Stderr, "(could not open a browser: %v)\n", err)
	}
	var res result
	select {
	case res = <-got:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the browser login: %w", ctx.Err())
	}
	if res.err != nil {
		return nil, res.err
	}
	tok, err := conf.Exchange(env.oauthContext(ctx), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the login code: %w", err)
	}
	return oauthCredentials(server, f.name(), oc, tok), nil
}

// deviceFlow is the device authorization grant: the CLI shows a code
// that the user enters at <server>/device on any device with a browser.
type deviceFlow struct{ client oauthClient }

func (deviceFlow) name() string { return "device" }

func (f deviceFlow) login(ctx context.Context, env *Env, server string) (*Credentials, error) {
	ctx, cancel := context.WithTimeout(env.oauthContext(ctx), loginTimeout)
	defer cancel()
	oc := f.client.orCLI()
	conf := oc.config(server, "")
	var opts []oauth2.AuthCodeOption
	if oc.secret != "" {
		// x/oauth2 sends only the client id to the device endpoint; a
		// confidential client authenticates there too.
		opts = append(opts, oauth2.SetAuthURLParam("client_secret", oc.secret))
	}
	da, err := conf.DeviceAuth(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("starting the device login: %w", err)
	}
	fmt.Fprintf(env.Stderr, "To log in, visit\n\n  %s\n\nand enter the code  %s\n\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(env.Stderr, "(or open %s)\n", da.VerificationURIComplete)
	}
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		return nil, fmt.Errorf("waiting for the device login: %w", err)
	}
	return oauthCredentials(server, f.name(), oc, tok), nil
}

func randomState() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// openURL shows authURL in the user's browser: the test hook if set,
// otherwise the platform's opener. Failing to open is not fatal: the URL
// is printed too.
func (e *Env) openURL(u string) error {
	if e.OpenURL != nil {
		return e.OpenURL(u)
	}
	if e.getenv("CLOUDDRIVE_NO_BROWSER") != "" {
		return errors.New("CLOUDDRIVE_NO_BROWSER is set")
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	return cmd.Start()
}

// revoke asks the server to revoke a refresh token (logout). Errors are
// reported, not fatal: the local credentials are removed either way.
func (e *Env) revoke(ctx context.Context, c *Credentials) error {
	if c.Token == nil || c.Token.RefreshToken == "" || c.ClientID == "" {
		return nil
	}
	form := url.Values{"token": {c.Token.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {c.ClientID}}
	resp, err := e.postForm(ctx, strings.TrimSuffix(c.Server, "/")+"/auth/o2/revoke", form)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation answered %s", resp.Status)
	}
	return nil
}

// postForm POSTs an OAuth form to target with the environment's HTTP client
// (a 30 s timeout when none is set).
func (e *Env) postForm(ctx context.Context, target string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := e.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return hc.Do(req)
}
