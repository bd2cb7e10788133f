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
)

// loginFlow obtains credentials for a server. Exactly one flow runs per
// login; it returns the token and, for OAuth flows, what is needed to
// refresh it (Credentials.ClientID, TokenURL).
//
// HOOK(oauth): the browser and device flows plug in here once the
// server's OAuth endpoints land. Each is a loginFlow selected by its flag
// in newLogin (today pendingFlow stands in for both):
//
//   - browser: authorization code with PKCE (S256) for the public app
//     "clouddrive-cli": listen on 127.0.0.1:0, open <server>/ap/oa with
//     redirect_uri http://127.0.0.1:PORT/callback, scope
//     "clouddrive:read_all clouddrive:write" and a state, then exchange the
//     code at <server>/auth/o2/token (oauth2.Config.Exchange with
//     oauth2.VerifierOption).
//   - device: POST <server>/auth/o2/device, print the user code and
//     <server>/device, poll the token endpoint
//     (oauth2.Config.DeviceAuth and DeviceAccessToken).
//
// Both return Credentials with Flow, ClientID, TokenURL and a token that
// has a RefreshToken; tokenSource (config.go) then refreshes it before it
// expires and saves each new token (refresh tokens rotate on use), and
// logout should revoke it at <server>/auth/o2/revoke. Nothing else in the
// CLI changes.
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
	return &Credentials{Server: server, Flow: "token", Token: &oauth2.Token{AccessToken: tok, TokenType: "Bearer"}}, nil
}

// pendingFlow is a flow the server cannot serve yet.
type pendingFlow struct{ flow string }

func (f pendingFlow) name() string { return f.flow }

func (f pendingFlow) login(context.Context, *Env, string) (*Credentials, error) {
	return nil, usageErrorf("login --%s is not available yet: the server's OAuth endpoints are being built; "+
		"use --token with a token from `clouddrive admin token USER`", f.flow)
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
		Use:   "login --server URL --token TOKEN",
		Short: "Log in to a clouddrive server and store the token",
		Long: `Log in to a clouddrive server: check the token against the server, then store
it, with the server URL, in <config dir>/clouddrive/credentials.json (mode
0600; the directory is os.UserConfigDir(), or $CLOUDDRIVE_CONFIG_DIR).
Every other client command uses it. Logging in again replaces it and
clears the node cache.

Today the token comes from the server's administrator:

  clouddrive admin token alice          # on the server: prints a token
  clouddrive login --server https://drive.example.com --token TOKEN

--token - reads the token from standard input (keeps it out of the shell
history). Tokens obtained through OAuth (--browser, --device; coming with
the server's OAuth endpoints) are refreshed automatically when they expire.`,
		Example: `  clouddrive login --server http://127.0.0.1:8080 --token "$(clouddrive admin token alice)"
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
				flow = pendingFlow{"browser"}
			case device:
				flow = pendingFlow{"device"}
			default:
				return usageErrorf("give --token TOKEN (from `clouddrive admin token USER` on the server)")
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
				return fmt.Errorf("checking the server at %s: %w", srv, err)
			}
			root, err := c.Root(ctx)
			if err != nil {
				return fmt.Errorf("checking the token: %w", err)
			}
			if err := saveCredentials(d.credentials(), creds); err != nil {
				return fmt.Errorf("storing the credentials: %w", err)
			}
			// A new login may be another user: drop the old node cache.
			removeCache(d.nodeCache(srv))
			o.infof(env, "logged in to %s (root folder %s); credentials in %s", srv, root.ID, d.credentials())
			o.infof(env, "next: clouddrive sync, then clouddrive ls /")
			return nil
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&server, "server", "", "server base URL, e.g. https://drive.example.com (env "+EnvServer+")")
	cmd.Flags().StringVar(&token, "token", "", "bearer token from `clouddrive admin token USER`; - reads it from stdin")
	cmd.Flags().BoolVar(&browser, "browser", false, "log in through the browser (OAuth; not available yet)")
	cmd.Flags().BoolVar(&device, "device", false, "log in with a device code (OAuth; not available yet)")
	return cmd
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
		Long: `Delete the stored credentials and the node cache of the server. The token
itself stays valid on the server until it expires or the administrator
revokes it.`,
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
			// HOOK(oauth): revoke refresh tokens here once the server has a
			// revocation endpoint.
			if err := os.Remove(d.credentials()); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			removeCache(d.nodeCache(creds.Server))
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
