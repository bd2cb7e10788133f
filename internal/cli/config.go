package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/client"
)

// Env vars that move the CLI's files; tests use them to isolate runs.
const (
	EnvConfigDir = "CLOUDDRIVE_CONFIG_DIR"
	EnvCacheDir  = "CLOUDDRIVE_CACHE_DIR"
	EnvServer    = "CLOUDDRIVE_SERVER"
)

// credentialsFile is the name of the login state under the config dir.
const credentialsFile = "credentials.json"

// Credentials is the login state, stored as JSON with mode 0600 in
// <config dir>/credentials.json.
type Credentials struct {
	// Server is the base URL given to login.
	Server string `json:"server"`
	// Token is the current OAuth 2.0 token. Tokens minted by `clouddrive
	// admin token` have no refresh token; tokens from the OAuth flows do,
	// and are refreshed (and saved again) when they expire.
	Token *oauth2.Token `json:"token"`
	// Flow is how the token was obtained: "token" (pasted), later
	// "browser" or "device".
	Flow string `json:"flow"`
	// ClientID, ClientSecret and TokenURL let the CLI refresh a token
	// obtained by an OAuth flow. Empty for pasted tokens.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	TokenURL     string `json:"token_url,omitempty"`
	// Owner is the app id that owns this token's node properties (the
	// createdBy of nodes it creates), learned on first use.
	Owner string `json:"owner,omitempty"`
	// Account identifies the account the token belongs to: the id of its
	// root folder, which is the account's own on the server (account/info
	// names no user). Learned at login, or on first use for credentials
	// stored before it was kept; the node cache is keyed by it.
	Account string `json:"account,omitempty"`
}

// dirs are the CLI's config and cache directories.
type dirs struct {
	config string
	cache  string
}

func (e *Env) dirs() (dirs, error) {
	var d dirs
	d.config = e.getenv(EnvConfigDir)
	if d.config == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return d, fmt.Errorf("no config directory (set %s): %w", EnvConfigDir, err)
		}
		d.config = filepath.Join(base, "clouddrive")
	}
	d.cache = e.getenv(EnvCacheDir)
	if d.cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return d, fmt.Errorf("no cache directory (set %s): %w", EnvCacheDir, err)
		}
		d.cache = filepath.Join(base, "clouddrive")
	}
	return d, nil
}

func (d dirs) credentials() string { return filepath.Join(d.config, credentialsFile) }

func (d dirs) endpoints() string { return filepath.Join(d.cache, "endpoints.json") }

// nodeCache is the node cache database of one account on one server, so
// logins of several users sharing a cache directory never see each
// other's nodes (the database also records its account; see
// session.nodes).
func (d dirs) nodeCache(server, account string) string {
	sum := sha256.Sum256([]byte(server + "\n" + account))
	return filepath.Join(d.cache, "nodes-"+hex.EncodeToString(sum[:8])+".db")
}

// legacyNodeCache is where versions that keyed the cache by server only
// kept it; login and logout remove it, as it may hold another user's
// nodes.
func (d dirs) legacyNodeCache(server string) string {
	sum := sha256.Sum256([]byte(server))
	return filepath.Join(d.cache, "nodes-"+hex.EncodeToString(sum[:6])+".db")
}

// errNotLoggedIn means there are no credentials.
var errNotLoggedIn = errors.New("not logged in")

func loadCredentials(path string) (*Credentials, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotLoggedIn
	}
	if err != nil {
		return nil, err
	}
	var c Credentials
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s is corrupt (%v): log in again", path, err)
	}
	if c.Server == "" || c.Token == nil || c.Token.AccessToken == "" {
		return nil, errNotLoggedIn
	}
	return &c, nil
}

func saveCredentials(path string, c *Credentials) error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return client.WriteFileAtomic(path, append(raw, '\n'), 0o600)
}

// credsMu serialises the read-modify-write of the credentials file within
// the process (a refreshed token, a learned owner or account).
var credsMu sync.Mutex

// updateCredentials applies change to the stored credentials of server
// and saves them; it does nothing if another login replaced them.
func updateCredentials(path, server string, change func(*Credentials)) error {
	credsMu.Lock()
	defer credsMu.Unlock()
	c, err := loadCredentials(path)
	if errors.Is(err, errNotLoggedIn) {
		return nil // logged out meanwhile: not brought back
	}
	if err != nil {
		return err
	}
	if c.Server != server {
		return nil
	}
	change(c)
	return saveCredentials(path, c)
}

// tokenSource returns the token source for c: a refreshing one when the
// token came from an OAuth flow (saving each new token to path), a static
// one for a pasted token.
func tokenSource(ctx context.Context, path string, c *Credentials, hc *http.Client) oauth2.TokenSource {
	if c.Token.RefreshToken == "" || c.TokenURL == "" {
		return oauth2.StaticTokenSource(c.Token)
	}
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	conf := &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: c.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	return &savingSource{src: conf.TokenSource(ctx, c.Token), path: path, creds: c, last: c.Token.AccessToken}
}

// savingSource writes refreshed tokens back to the credentials file so the
// next run starts with them.
type savingSource struct {
	src   oauth2.TokenSource
	path  string
	mu    sync.Mutex
	creds *Credentials
	last  string
}

func (s *savingSource) Token() (*oauth2.Token, error) {
	tok, err := s.src.Token()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok.AccessToken != s.last {
		s.last = tok.AccessToken
		if err := updateCredentials(s.path, s.creds.Server, func(c *Credentials) { c.Token = tok }); err != nil {
			return nil, fmt.Errorf("save refreshed token: %w", err)
		}
	}
	return tok, nil
}

// normalizeServer checks and tidies a server URL.
func normalizeServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return "", usageErrorf("--server must be an http:// or https:// URL, not %q", s)
	}
	return strings.TrimSuffix(s, "/"), nil
}
