package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
)

// connect sets up a legacy ACD client (rclone, acd_cli) for the server:
// an OAuth app registered for that client (POST apps, with the CLI's own
// login; kept in <config dir>/apps.json and reused), a token from the
// real OAuth flow for that app (browser or device, as login), the
// client's own files, and the shim's CA for the command it prints.

// rcloneRedirectListen is where rclone's own flow receives the code
// (http://127.0.0.1:53682/, registered for the apps); connect --browser
// listens there too, since a confidential app's redirect matches exactly.
const rcloneRedirectListen = "127.0.0.1:53682"

// appsFile names the registrations connect keeps under the config dir.
const appsFile = "apps.json"

// savedApp is one registration: the server shows the secret only once.
type savedApp struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Name         string `json:"name,omitempty"`
}

// savedApps maps server URL, then client name, to a registration.
type savedApps map[string]map[string]savedApp

func (d dirs) apps() string { return filepath.Join(d.config, appsFile) }

func loadApps(path string) (savedApps, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return savedApps{}, nil
	}
	if err != nil {
		return nil, err
	}
	apps := savedApps{}
	if err := json.Unmarshal(raw, &apps); err != nil {
		return nil, fmt.Errorf("%s is corrupt (%v): delete it, connect registers new apps", path, err)
	}
	return apps, nil
}

// setApp records (or, with a nil app, forgets) the registration of
// clientName on server.
func setApp(path, server, clientName string, app *savedApp) error {
	apps, err := loadApps(path)
	if err != nil {
		return err
	}
	if app == nil {
		delete(apps[server], clientName)
	} else {
		if apps[server] == nil {
			apps[server] = map[string]savedApp{}
		}
		apps[server][clientName] = *app
	}
	raw, err := json.MarshalIndent(apps, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return client.WriteFileAtomic(path, append(raw, '\n'), 0o600)
}

// connectOpts are the flags of both connect commands.
type connectOpts struct {
	common
	server                 string
	browser, device        bool
	clientID, clientSecret string
	shimAddr               string
}

func (c *connectOpts) register(cmd *cobra.Command) {
	c.common.register(cmd)
	f := cmd.Flags()
	f.StringVar(&c.server, "server", "", "server base URL (default: $"+EnvServer+", else the server logged in to)")
	f.BoolVar(&c.browser, "browser", false, "log in through the server's login page in a browser (the default); listens on "+rcloneRedirectListen)
	f.BoolVar(&c.device, "device", false, "log in with a code entered at <server>/device on another device")
	f.StringVar(&c.clientID, "client-id", "", "use this app (from clouddrive admin app add) instead of registering one")
	f.StringVar(&c.clientSecret, "client-secret", "", "secret of --client-id")
	f.StringVar(&c.shimAddr, "shim-addr", defaultShimAddr, "address of clouddrive shim, for the printed commands")
}

// connection is what the shared part of connect produces.
type connection struct {
	server string
	app    savedApp
	token  *oauth2.Token
	// caFile is what the client must trust: the shim's CA, or, for an
	// https:// server, a bundle of the system's roots and the CA.
	caFile string
	dirs   dirs
}

// connect registers or reuses the app for clientName and logs in with it.
func (c *connectOpts) connect(ctx context.Context, env *Env, clientName string) (*connection, error) {
	if c.browser && c.device {
		return nil, usageErrorf("give only one of --browser and --device")
	}
	if (c.clientID == "") != (c.clientSecret == "") {
		return nil, usageErrorf("give both --client-id and --client-secret, or neither (connect then registers an app)")
	}
	d, err := env.dirs()
	if err != nil {
		return nil, err
	}
	server, err := env.serverFor(c.server, d)
	if err != nil {
		return nil, err
	}
	cn := &connection{server: server, dirs: d}

	// The app: given, saved, or registered now.
	app, saved, err := c.app(ctx, env, d, server, clientName)
	if err != nil {
		return nil, err
	}
	switch err := env.probeClient(ctx, server, app); {
	case errors.Is(err, errUnknownClient) && saved:
		c.infof(env, "the server no longer knows app %s (%s): registering a new one", app.ClientID, app.Name)
		if err := setApp(d.apps(), server, clientName, nil); err != nil {
			return nil, err
		}
		if app, _, err = c.app(ctx, env, d, server, clientName); err != nil {
			return nil, err
		}
	case errors.Is(err, errUnknownClient):
		return nil, usageErrorf("the server does not know --client-id %s, or --client-secret is wrong", app.ClientID)
	case err != nil:
		return nil, fmt.Errorf("checking the app at %s: %w", server, err)
	}
	cn.app = app

	oc := oauthClient{id: app.ClientID, secret: app.ClientSecret, listen: rcloneRedirectListen, path: "/"}
	var flow loginFlow = browserFlow{client: oc}
	if c.device {
		flow = deviceFlow{client: oc}
	}
	label := app.Name
	if label == "" {
		label = app.ClientID
	}
	c.infof(env, "logging in to %s as the app %q", server, label)
	creds, err := flow.login(ctx, env, server)
	if err != nil {
		return nil, err
	}
	if creds.Token.RefreshToken == "" {
		return nil, errors.New("the server issued no refresh token")
	}
	cn.token = creds.Token

	ca, err := env.loadShimCA(d, &c.common)
	if err != nil {
		return nil, err
	}
	cn.caFile = ca.CertPath
	if strings.HasPrefix(server, "https://") {
		bundle, err := env.writeCABundle(d, ca.PEM())
		switch {
		case err != nil:
			c.infof(env, "warning: %v; the client must trust both %s and the certificate of %s", err, ca.CertPath, server)
		default:
			cn.caFile = bundle
		}
	}
	return cn, nil
}

// app returns the app to log in with, and whether it came from apps.json.
func (c *connectOpts) app(ctx context.Context, env *Env, d dirs, server, clientName string) (savedApp, bool, error) {
	if c.clientID != "" {
		return savedApp{ClientID: c.clientID, ClientSecret: c.clientSecret}, false, nil
	}
	apps, err := loadApps(d.apps())
	if err != nil {
		return savedApp{}, false, err
	}
	if a, ok := apps[server][clientName]; ok && a.ClientID != "" && a.ClientSecret != "" {
		return a, true, nil
	}
	// Register one with the CLI's own login to that server.
	creds, err := loadCredentials(d.credentials())
	if err != nil && !errors.Is(err, errNotLoggedIn) {
		return savedApp{}, false, err
	}
	if err != nil || creds.Server != server {
		return savedApp{}, false, withHint(fmt.Errorf("%w to %s", errNotLoggedIn, server),
			"connect registers an app for "+clientName+" with your own login: run clouddrive login --server "+server+
				" --browser (or --device) first, or pass --client-id and --client-secret of an app from clouddrive admin app add")
	}
	cl, err := env.newClient(ctx, server, tokenSource(ctx, d.credentials(), creds, env.HTTPClient), c.logger(env.Stderr), d)
	if err != nil {
		return savedApp{}, false, err
	}
	reg, err := cl.RegisterApp(ctx, clientName)
	if errors.Is(err, client.ErrNotFound) {
		return savedApp{}, false, fmt.Errorf("the server at %s does not offer app registration (POST /drive/v1/apps); "+
			"ask the administrator for an app and pass --client-id and --client-secret: %w", server, err)
	}
	if err != nil {
		return savedApp{}, false, fmt.Errorf("registering an app for %s: %w", clientName, err)
	}
	a := savedApp{ClientID: reg.ClientID, ClientSecret: reg.ClientSecret, Name: reg.Name}
	if err := setApp(d.apps(), server, clientName, &a); err != nil {
		return savedApp{}, false, fmt.Errorf("saving the app's secret: %w", err)
	}
	c.infof(env, "registered the app %q (%s) on %s; its secret is kept in %s", reg.Name, reg.ClientID, server, d.apps())
	return a, true, nil
}

// errUnknownClient: the token endpoint does not accept the app's id and
// secret.
var errUnknownClient = errors.New("unknown client")

// probeClient checks an app's credentials at the token endpoint with a
// refresh token that cannot exist: invalid_grant means the client
// authenticated, invalid_client that it did not.
func (e *Env) probeClient(ctx context.Context, server string, app savedApp) error {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"clouddrive-connect-probe"},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}}
	resp, err := e.postForm(ctx, server+"/auth/o2/token", form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	switch {
	case body.Error == "invalid_client":
		return errUnknownClient
	case body.Error == "invalid_grant":
		return nil
	}
	return fmt.Errorf("the token endpoint answered %s %s", resp.Status, body.Error)
}

// systemBundles are where systems keep their trusted roots in one file.
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Alpine, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // RHEL 7+
	"/etc/ssl/cert.pem",                                 // macOS, FreeBSD, OpenBSD
}

// writeCABundle writes <shim dir>/bundle.pem: the system's roots and the
// shim's CA. --ca-cert and REQUESTS_CA_BUNDLE replace a client's roots,
// so a client talking to an https:// server through the shim needs both.
func (e *Env) writeCABundle(d dirs, caPEM []byte) (string, error) {
	candidates := systemBundles
	if f := e.getenv("SSL_CERT_FILE"); f != "" {
		candidates = append([]string{f}, candidates...)
	}
	for _, f := range candidates {
		sys, err := os.ReadFile(f)
		if err != nil || len(sys) == 0 {
			continue
		}
		if sys[len(sys)-1] != '\n' {
			sys = append(sys, '\n')
		}
		path := filepath.Join(d.shimCA(), "bundle.pem")
		if err := client.WriteFileAtomic(path, append(sys, caPEM...), 0o600); err != nil {
			return "", err
		}
		return path, nil
	}
	return "", errors.New("found no file of the system's trusted certificates (set SSL_CERT_FILE)")
}

func newConnect(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connect (rclone [REMOTE] | acd-cli)",
		Short: "Set up rclone or acd_cli, unmodified, to use the server",
		Long: `Set up an unmodified Amazon Cloud Drive client to use the server, in one
command:

  clouddrive connect rclone [REMOTE]   writes the remote (default acd) to rclone.conf
  clouddrive connect acd-cli           writes oauth.json, client_data and endpoint_data
                                       to acd_cli's cache directory

Both register an OAuth app for the client on the server with your own login
(clouddrive login first; the app is named "rclone for YOU" and its secret kept
in <config dir>/clouddrive/apps.json for the next connect), or use the app given
with --client-id and --client-secret; then log you in for that app through the
server's login page (--browser, the default) or with a device code (--device),
and write the client's files with a refreshable token. They print the exact
command to run the client through clouddrive shim, which serves the Amazon
hosts these clients call.

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("name the client: clouddrive connect rclone, or clouddrive connect acd-cli")
		},
	}
	cmd.AddCommand(newConnectRclone(env), newConnectACDCLI(env))
	return cmd
}

// proxyPrefix is the environment the printed commands set.
func proxyPrefix(shimAddr string) string { return "HTTPS_PROXY=http://" + shimAddr }

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:=@,%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// homeDir is $HOME (%USERPROFILE% on Windows) through Env.
func (e *Env) homeDir() string {
	if h := e.getenv("HOME"); h != "" {
		return h
	}
	return e.getenv("USERPROFILE")
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// ---------------------------------------------------------------------------
// rclone

// rcloneConfigPath finds rclone.conf as rclone v1.65 does: $RCLONE_CONFIG;
// an existing file in %APPDATA%\rclone (Windows), $XDG_CONFIG_HOME/rclone,
// ~/.config/rclone or ~/.rclone.conf; else a new one in the first of
// %APPDATA% (Windows), $XDG_CONFIG_HOME, ~/.config.
func (e *Env) rcloneConfigPath() (string, error) {
	if p := e.getenv("RCLONE_CONFIG"); p != "" {
		return p, nil
	}
	home := e.homeDir()
	var dirs []string
	if runtime.GOOS == "windows" {
		if a := e.getenv("APPDATA"); a != "" {
			dirs = append(dirs, filepath.Join(a, "rclone"))
		}
	}
	if x := e.getenv("XDG_CONFIG_HOME"); x != "" {
		dirs = append(dirs, filepath.Join(x, "rclone"))
	}
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".config", "rclone"))
	}
	for _, d := range dirs {
		if p := filepath.Join(d, "rclone.conf"); exists(p) {
			return p, nil
		}
	}
	if home != "" {
		if p := filepath.Join(home, ".rclone.conf"); exists(p) {
			return p, nil
		}
	}
	if len(dirs) == 0 {
		return "", usageErrorf("cannot tell where rclone.conf is ($HOME is not set): give --rclone-config FILE")
	}
	return filepath.Join(dirs[0], "rclone.conf"), nil
}

// rcloneToken is the token as rclone stores it in rclone.conf (the JSON
// of x/oauth2's Token without its extra fields).
type rcloneToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry"`
}

// rcloneRemoteType is the backend of the remotes connect writes.
const rcloneRemoteType = "amazon cloud drive"

// validRemoteName checks a remote name as rclone v1.65 accepts it.
func validRemoteName(name string) error {
	if name == "" || strings.HasPrefix(name, "-") || strings.HasPrefix(name, " ") || strings.HasSuffix(name, " ") {
		return usageErrorf("remote name %q: must not be empty, start with - or a space, or end with a space", name)
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || r == '.' || r == '+' || r == '@' || r == ' ' ||
			r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > 127) {
			return usageErrorf("remote name %q: %q is not allowed (letters, digits, _ - . + @ and spaces)", name, r)
		}
	}
	return nil
}

// setRcloneRemote returns conf (the text of rclone.conf) with section
// [name] holding values: keys of an existing section are replaced where
// they are, missing ones appended, other keys and sections kept. A
// section of another type is refused.
func setRcloneRemote(conf, name string, keys []string, values map[string]string) (string, error) {
	if t := strings.TrimSpace(conf); strings.HasPrefix(t, "# Encrypted rclone configuration File") || strings.Contains(t, "RCLONE_ENCRYPT_V0:") {
		return "", errors.New("this rclone.conf is encrypted: decrypt it (rclone config encryption remove) or give --rclone-config another file")
	}
	lines := strings.Split(strings.ReplaceAll(conf, "\r\n", "\n"), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	start, end := -1, len(lines)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "[") || !strings.HasSuffix(t, "]") {
			continue
		}
		if start >= 0 {
			end = i
			break
		}
		if strings.TrimSpace(t[1:len(t)-1]) == name {
			start = i
		}
	}
	section := func() []string {
		out := []string{"[" + name + "]"}
		for _, k := range keys {
			out = append(out, k+" = "+values[k])
		}
		return out
	}
	if start < 0 {
		// Strip trailing blank lines, then one blank line between sections.
		for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		return strings.Join(append(lines, section()...), "\n") + "\n", nil
	}
	body := lines[start+1 : end]
	done := map[string]bool{}
	var out []string
	for _, l := range body {
		k, v, ok := strings.Cut(l, "=")
		k = strings.TrimSpace(k)
		if !ok || strings.HasPrefix(strings.TrimSpace(l), "#") || strings.HasPrefix(strings.TrimSpace(l), ";") {
			out = append(out, l)
			continue
		}
		if k == "type" && strings.TrimSpace(v) != rcloneRemoteType {
			return "", usageErrorf("remote %q is a %q remote, not %q: choose another name", name, strings.TrimSpace(v), rcloneRemoteType)
		}
		if nv, ours := values[k]; ours {
			if !done[k] {
				out = append(out, k+" = "+nv)
				done[k] = true
			}
			continue
		}
		out = append(out, l)
	}
	// Insert missing keys after the last non-blank line of the section.
	last := len(out)
	for last > 0 && strings.TrimSpace(out[last-1]) == "" {
		last--
	}
	var missing []string
	for _, k := range keys {
		if !done[k] {
			missing = append(missing, k+" = "+values[k])
		}
	}
	out = append(append(append([]string{}, out[:last]...), missing...), out[last:]...)
	res := append(append(append([]string{}, lines[:start+1]...), out...), lines[end:]...)
	return strings.Join(res, "\n") + "\n", nil
}

func newConnectRclone(env *Env) *cobra.Command {
	var c connectOpts
	var rcloneConfig string
	cmd := &cobra.Command{
		Use:   "rclone [REMOTE]",
		Short: "Write an rclone remote (type amazon cloud drive) for the server",
		Long: `Set up rclone v1.65 or older (the last releases with the "amazon cloud drive"
backend), unmodified, to use the server: register an app for rclone (or use
--client-id/--client-secret), log in for it, and write the remote REMOTE
(default acd) to rclone.conf:

  [acd]
  type = amazon cloud drive
  client_id = app-...
  client_secret = cds-...
  token = {"access_token":...,"refresh_token":...,"expiry":...}
  auth_url = SERVER/ap/oa
  token_url = SERVER/auth/o2/token

Other remotes and other keys of REMOTE are kept; a REMOTE of another type is
refused. rclone.conf is --rclone-config, else $RCLONE_CONFIG, else where
rclone looks (~/.config/rclone/rclone.conf). rclone refreshes the token itself
at token_url. It still asks https://drive.amazonaws.com for the endpoints on
every start, so run it through clouddrive shim, as the printed command does.`,
		Example: `  clouddrive login --server https://drive.example.com --browser
  clouddrive connect rclone
  clouddrive shim &
  HTTPS_PROXY=http://127.0.0.1:8443 rclone --ca-cert ~/.config/clouddrive/shim/ca.pem ls acd:`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			remote := "acd"
			if len(args) == 1 {
				remote = args[0]
			}
			if err := validRemoteName(remote); err != nil {
				return err
			}
			confPath := rcloneConfig
			if confPath == "" {
				p, err := env.rcloneConfigPath()
				if err != nil {
					return err
				}
				confPath = p
			}
			old, err := os.ReadFile(confPath)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("reading %s: %w", confPath, err)
			}
			// Fail on an unusable file before anyone logs in.
			if _, err := setRcloneRemote(string(old), remote, []string{"type"}, map[string]string{"type": rcloneRemoteType}); err != nil {
				return fmt.Errorf("%s: %w", confPath, err)
			}
			cn, err := c.connect(cmd.Context(), env, acd.AppClientRclone)
			if err != nil {
				return err
			}
			tok, err := json.Marshal(rcloneToken{AccessToken: cn.token.AccessToken, TokenType: cn.token.TokenType,
				RefreshToken: cn.token.RefreshToken, Expiry: cn.token.Expiry})
			if err != nil {
				return err
			}
			keys := []string{"type", "client_id", "client_secret", "token", "auth_url", "token_url"}
			values := map[string]string{"type": rcloneRemoteType, "client_id": cn.app.ClientID, "client_secret": cn.app.ClientSecret,
				"token": string(tok), "auth_url": cn.server + "/ap/oa", "token_url": cn.server + "/auth/o2/token"}
			// Read again: rclone may have rewritten it during the login.
			old, err = os.ReadFile(confPath)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("reading %s: %w", confPath, err)
			}
			conf, err := setRcloneRemote(string(old), remote, keys, values)
			if err != nil {
				return fmt.Errorf("%s: %w", confPath, err)
			}
			if err := os.MkdirAll(filepath.Dir(confPath), 0o700); err != nil {
				return err
			}
			if err := client.WriteFileAtomic(confPath, []byte(conf), 0o600); err != nil {
				return fmt.Errorf("writing %s: %w", confPath, err)
			}
			run := proxyPrefix(c.shimAddr) + " rclone"
			if rcloneConfig != "" {
				run += " --config " + shellQuote(confPath)
			}
			run += " --ca-cert " + shellQuote(cn.caFile) + " ls " + shellQuote(remote+":")
			c.infof(env, "rclone remote %q written to %s, for %s", remote, confPath, cn.server)
			c.infof(env, "run the shim and keep it running:  clouddrive shim --addr %s", c.shimAddr)
			c.infof(env, "then use rclone through it:")
			fmt.Fprintln(env.Stdout, run)
			return nil
		},
	}
	c.register(cmd)
	cmd.Flags().StringVar(&rcloneConfig, "rclone-config", "", "rclone.conf to write (default: $RCLONE_CONFIG, else where rclone looks)")
	return cmd
}

// ---------------------------------------------------------------------------
// acd_cli

// acdCLIEndpointValidity is how long acd_cli trusts its endpoint_data
// (its default, endpoints validity_duration: 3 days); it then asks
// drive.amazonaws.com again, through the shim.
const acdCLIEndpointValidity = 259200 * time.Second

// acdCLICacheDir is acd_cli's cache directory: $ACD_CLI_CACHE_PATH, else
// appdirs.user_cache_dir("acd_cli").
func (e *Env) acdCLICacheDir() (string, error) {
	if p := e.getenv("ACD_CLI_CACHE_PATH"); p != "" {
		return p, nil
	}
	home := e.homeDir()
	switch {
	case runtime.GOOS == "darwin" && home != "":
		return filepath.Join(home, "Library", "Caches", "acd_cli"), nil
	case runtime.GOOS == "windows" && e.getenv("LOCALAPPDATA") != "":
		return filepath.Join(e.getenv("LOCALAPPDATA"), "acd_cli", "acd_cli", "Cache"), nil
	case e.getenv("XDG_CACHE_HOME") != "":
		return filepath.Join(e.getenv("XDG_CACHE_HOME"), "acd_cli"), nil
	case home != "":
		return filepath.Join(home, ".cache", "acd_cli"), nil
	}
	return "", usageErrorf("cannot tell where acd_cli's cache is ($HOME is not set): give --cache-dir DIR")
}

// writeJSONFile writes v as acd_cli writes its files (json.dump with
// indent=4, sort_keys=True: Go sorts map keys too), mode 0600.
func writeJSONFile(path string, v map[string]any) error {
	raw, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	return client.WriteFileAtomic(path, raw, 0o600)
}

// unixSeconds is t as Python's time.time() gives it.
func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func newConnectACDCLI(env *Env) *cobra.Command {
	var c connectOpts
	var cacheDir string
	cmd := &cobra.Command{
		Use:   "acd-cli",
		Short: "Write acd_cli's token, client and endpoint files for the server",
		Long: `Set up acd_cli 0.3.2, unmodified, to use the server: register an app for
acd_cli (or use --client-id/--client-secret), log in for it, and write to
acd_cli's cache directory (--cache-dir, else $ACD_CLI_CACHE_PATH, else
~/.cache/acd_cli), mode 0600:

  oauth.json      access_token, refresh_token, token_type, expires_in, exp_time
  client_data     CLIENT_ID, CLIENT_SECRET: acd_cli then refreshes the token
                  itself at https://api.amazon.com/auth/o2/token
  endpoint_data   the server's metadataUrl and contentUrl, valid 3 days; then
                  acd_cli asks https://drive.amazonaws.com again

Both Amazon hosts are served by clouddrive shim: run acd_cli through it with
HTTPS_PROXY and REQUESTS_CA_BUNDLE, as the printed command does. A node cache
(nodes.db) left there from another account should be removed first.`,
		Example: `  clouddrive login --server https://drive.example.com --device
  clouddrive connect acd-cli --device
  clouddrive shim &
  HTTPS_PROXY=http://127.0.0.1:8443 REQUESTS_CA_BUNDLE=... acd_cli sync`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			dir := cacheDir
			if dir == "" {
				d, err := env.acdCLICacheDir()
				if err != nil {
					return err
				}
				dir = d
			}
			cn, err := c.connect(ctx, env, acd.AppClientACDCLI)
			if err != nil {
				return err
			}
			// The endpoints, with the new token, as acd_cli would fetch them.
			opts := []client.Option{client.WithUserAgent("clouddrive-cli"), client.WithLogger(c.logger(env.Stderr))}
			if env.HTTPClient != nil {
				opts = append(opts, client.WithHTTPClient(env.HTTPClient))
			}
			cl, err := client.New(cn.server, oauth2.StaticTokenSource(cn.token), opts...)
			if err != nil {
				return err
			}
			ep, err := cl.RefreshEndpoint(ctx)
			if err != nil {
				return fmt.Errorf("fetching the endpoints with the new token: %w", err)
			}
			now := env.now()
			expiresIn := int64(time.Until(cn.token.Expiry) / time.Second)
			if cn.token.ExpiresIn > 0 {
				expiresIn = cn.token.ExpiresIn
			}
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			tokenType := cn.token.TokenType
			if tokenType == "" {
				tokenType = "bearer"
			}
			files := []struct {
				name string
				v    map[string]any
			}{
				{"client_data", map[string]any{"CLIENT_ID": cn.app.ClientID, "CLIENT_SECRET": cn.app.ClientSecret}},
				{"endpoint_data", map[string]any{"customerExists": ep.CustomerExists, "metadataUrl": ep.MetadataURL,
					"contentUrl": ep.ContentURL, "exp_time": unixSeconds(now.Add(acdCLIEndpointValidity))}},
				// acd_cli's exp_time: when it refreshes, 2 minutes early.
				{"oauth.json", map[string]any{"access_token": cn.token.AccessToken, "refresh_token": cn.token.RefreshToken,
					"token_type": tokenType, "expires_in": expiresIn,
					"exp_time": unixSeconds(cn.token.Expiry.Add(-2 * time.Minute))}},
			}
			for _, f := range files {
				if err := writeJSONFile(filepath.Join(dir, f.name), f.v); err != nil {
					return fmt.Errorf("writing acd_cli's %s: %w", f.name, err)
				}
			}
			c.infof(env, "acd_cli set up in %s (oauth.json, client_data, endpoint_data), for %s", dir, cn.server)
			if exists(filepath.Join(dir, "nodes.db")) {
				c.infof(env, "note: %s holds a node cache from before; remove it so acd_cli syncs this account from scratch",
					filepath.Join(dir, "nodes.db"))
			}
			c.infof(env, "run the shim and keep it running:  clouddrive shim --addr %s", c.shimAddr)
			c.infof(env, "then use acd_cli through it:")
			run := proxyPrefix(c.shimAddr) + " REQUESTS_CA_BUNDLE=" + shellQuote(cn.caFile)
			if cacheDir != "" {
				run += " ACD_CLI_CACHE_PATH=" + shellQuote(dir)
			}
			fmt.Fprintln(env.Stdout, run+" acd_cli sync")
			return nil
		},
	}
	c.register(cmd)
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "acd_cli's cache directory (default: $ACD_CLI_CACHE_PATH, else ~/.cache/acd_cli)")
	return cmd
}
