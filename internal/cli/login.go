package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/client"
)

// loginFlow obtains credentials for a server. Exactly one flow runs per
// login; it returns the token and, for OAuth flows, what is needed to
// refresh it (Credentials.ClientID, TokenURL): tokenFlow (a pasted admin
// token), browserFlow and deviceFlow (oauthlogin.go). tokenSource
// (config.go) refreshes OAuth tokens before they expire and saves each new
// token (refresh tokens rotate on use); logout revokes them.
type loginFlow interface {
	// name is the value of Credentials.Flow.
	name() string
	login(ctx context.Context, env *Env, server string) (*Credentials, error)
}

// tokenFlow stores a bearer token made by `clouddrive admin token USER`.
type tokenFlow struct{ token string }

func (tokenFlow) name() string { return "token" }

func (f tokenFlow) login(_ context.Context, env *Env, server string) (*Credentials, error) {
	tok := strings.TrimSpace(f.token)
	if tok == "-" {
		line, err := bufio.NewReader(env.stdin()).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		tok = strings.TrimSpace(line)
	}
	if tok == "" {
		return nil, usageErrorf("--token is empty")
	}
	return &Credentials{Server: server, Flow: f.name(), Token: &oauth2.Token{AccessToken: tok, TokenType: "Bearer"}}, nil
}

func (e *Env) stdin() io.Reader {
	if e.Stdin != nil {
		return e.Stdin
	}
	return strings.NewReader("")
}

func newLogin(env *Env) *cobra.Command {
	var o common
	var server, token string
	var browser, device bool
	cmd := &cobra.Command{
		Use:   "login --server URL (--browser | --device | --token TOKEN)",
		Short: "Log in to a clouddrive server and store the token",
		Long: `Log in to a clouddrive server: check the token against the server, then store
it, with the server URL, in <config dir>/clouddrive/credentials.json (mode
0600; the directory is os.UserConfigDir(), or $CLOUDDRIVE_CONFIG_DIR).
Every other client command uses it. Logging in again replaces it and
clears the account's node cache (each account on each server has its own,
so several users may share a cache directory).

Three ways to log in:

  --browser   opens the server's login page in your browser (OAuth 2.0
              authorization code with PKCE; the answer comes back to a
              one-off listener on 127.0.0.1). Set CLOUDDRIVE_NO_BROWSER=1
              to only print the address.
  --device    for a machine without a browser: prints a code to enter at
              <server>/device from any other device (OAuth device grant).
  --token T   stores a token made on the server with
              clouddrive admin token USER; --token - reads it from stdin
              (keeps it out of the shell history).

Tokens from --browser and --device are refreshed automatically when they
expire; logout revokes them.`,
		Example: `  clouddrive login --server https://drive.example.com --browser
  clouddrive login --server https://drive.example.com --device
  clouddrive login --server http://127.0.0.1:8080 --token "$(clouddrive admin token alice)"
  echo "$TOKEN" | clouddrive login --server https://drive.example.com --token -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if server == "" {
				server = env.getenv(EnvServer)
			}
			if server == "" {
				return usageErrorf("--server URL is required (or set %s)", EnvServer)
			}
			srv, err := normalizeServer(server)
			if err != nil {
				return err
			}
			if n := btoi(token != "") + btoi(browser) + btoi(device); n > 1 {
				return usageErrorf("give only one of --token, --browser and --device")
			}
			var flow loginFlow
			switch {
			case token != "":
				flow = tokenFlow{token: token}
			case browser:
				flow = browserFlow{}
			case device:
				flow = deviceFlow{}
			default:
				return usageErrorf("give --browser, --device, or --token TOKEN (from `clouddrive admin token USER` on the server)")
			}
			creds, err := flow.login(ctx, env, srv)
			if err != nil {
				return err
			}
			d, err := env.dirs()
			if err != nil {
				return err
			}
			// Check the token before storing it; this also caches the
			// endpoints.
			c, err := env.newClient(ctx, srv, oauth2.StaticTokenSource(creds.Token), o.logger(env.Stderr), d)
			if err != nil {
				return usageError{err}
			}
			if _, err := c.RefreshEndpoint(ctx); err != nil {
				return rejectedToken(flow, fmt.Errorf("checking the server at %s: %w", srv, err))
			}
			root, err := c.Root(ctx)
			if err != nil {
				return rejectedToken(flow, fmt.Errorf("checking the token: %w", err))
			}
			creds.Account = root.ID
			if err := saveCredentials(d.credentials(), creds); err != nil {
				return fmt.Errorf("storing the credentials: %w", err)
			}
			// Start this account's node cache afresh; other accounts'
			// caches are theirs. The cache of older versions, keyed by
			// server only, may hold another user's nodes: drop it.
			removeCache(d.nodeCache(srv, root.ID))
			removeCache(d.legacyNodeCache(srv))
			o.infof(env, "logged in to %s (root folder %s); credentials in %s", srv, root.ID, d.credentials())
			o.infof(env, "next: clouddrive sync, then clouddrive ls /")
			return nil
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&server, "server", "", "server base URL, e.g. https://drive.example.com (env "+EnvServer+")")
	cmd.Flags().StringVar(&token, "token", "", "bearer token from `clouddrive admin token USER`; - reads it from stdin")
	cmd.Flags().BoolVar(&browser, "browser", false, "log in through the server's login page in a browser (OAuth with PKCE)")
	cmd.Flags().BoolVar(&device, "device", false, "log in with a code entered at <server>/device on another device")
	return cmd
}

// rejectedToken explains a pasted token the server refused at once: it
// is most often made on another data directory than the server's.
func rejectedToken(flow loginFlow, err error) error {
	if _, pasted := flow.(tokenFlow); !pasted || !errors.Is(err, client.ErrUnauthorized) {
		return err
	}
	return withHint(err, "the server does not know this token. `clouddrive admin token USER` makes tokens for the "+
		"server whose data directory it opens: run it on the server's machine with the same --data (or --config, "+
		"--db) as `clouddrive serve`, then log in with the new token; a token also stops working when it expires or is revoked")
}

func removeCache(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		_ = os.Remove(p)
	}
}

func newLogout(env *Env) *cobra.Command {
	var o common
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget the stored token and clear the node cache",
		Long: `Delete the stored credentials and the node cache of the server. Tokens from
--browser and --device logins are revoked on the server; a pasted admin
token stays valid until it expires or the administrator revokes it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := env.dirs()
			if err != nil {
				return err
			}
			creds, err := loadCredentials(d.credentials())
			if errors.Is(err, errNotLoggedIn) {
				o.infof(env, "not logged in")
				return nil
			}
			if err != nil {
				return err
			}
			if err := env.revoke(cmd.Context(), creds); err != nil {
				o.infof(env, "warning: could not revoke the token on the server: %v", err)
			}
			if err := os.Remove(d.credentials()); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if creds.Account != "" {
				removeCache(d.nodeCache(creds.Server, creds.Account))
			}
			removeCache(d.legacyNodeCache(creds.Server))
			o.infof(env, "logged out of %s", creds.Server)
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
