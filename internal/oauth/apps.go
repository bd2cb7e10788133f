package oauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Client ids of the first-party apps seeded on first start.
const (
	CLIClientID = "clouddrive-cli"
	WebClientID = "clouddrive-web"
)

// firstParty returns the apps the server seeds for itself. Both are
// public (no secret, PKCE required). The CLI's loopback redirect URIs
// accept any port (RFC 8252 section 7.3); the web UI's relative URI is
// resolved against the server's public base URL. They are built in, so
// they carry no creation time, and seeding them never reads the clock
// (tests with a ticking fake clock see the same times as before).
func firstParty() []*meta.App {
	return []*meta.App{
		{ClientID: CLIClientID, Name: CLIClientID, Public: true, FirstParty: true,
			RedirectURIs: []string{"http://127.0.0.1/callback", "http://localhost/callback"}},
		{ClientID: WebClientID, Name: WebClientID, Public: true, FirstParty: true,
			RedirectURIs: []string{"/ui/callback"}},
	}
}

// Apps manages registered applications.
type Apps struct {
	Meta meta.Store
	// Now stamps the creation time of apps made with Create.
	Now drive.Clock
}

// Seed creates the first-party apps that do not exist yet. It is safe to
// call on every start and from several replicas at once.
func (a *Apps) Seed(ctx context.Context) error {
	return update(ctx, a.Meta, func(tx Tx) error {
		for _, app := range firstParty() {
			_, err := tx.App(ctx, app.ClientID)
			if err == nil {
				continue
			}
			if !drive.Is(drive.NotFound, err) {
				return err
			}
			if err := tx.CreateApp(ctx, app); err != nil && !drive.Is(drive.Conflict, err) {
				return err
			}
		}
		return nil
	})
}

// Create registers an application and returns it with its client secret,
// which is shown once and stored only as a hash ("" for public apps).
func (a *Apps) Create(ctx context.Context, name string, redirectURIs []string, public bool) (*meta.App, string, error) {
	const op = "oauth.CreateApp"
	if name == "" || len(name) > 128 || strings.ContainsAny(name, "\t\r\n") {
		return nil, "", drive.E(op, drive.Invalid, "app name must be 1-128 characters on one line")
	}
	if len(redirectURIs) == 0 {
		return nil, "", drive.E(op, drive.Invalid, "at least one redirect URI is required")
	}
	for _, u := range redirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			return nil, "", err
		}
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", drive.Wrap(op, err)
	}
	app := &meta.App{ClientID: "app-" + hex.EncodeToString(b[:]), Name: name, RedirectURIs: redirectURIs,
		Public: public, CreatedAt: a.Now().UTC()}
	var secret string
	if !public {
		secret = "cds-" + randomString(32)
		app.SecretHash = auth.Hash(secret)
	}
	if err := update(ctx, a.Meta, func(tx Tx) error { return tx.CreateApp(ctx, app) }); err != nil {
		return nil, "", err
	}
	return app, secret, nil
}

// Get returns the app with the given client id (NotFound if none).
func (a *Apps) Get(ctx context.Context, clientID string) (*meta.App, error) {
	var app *meta.App
	err := view(ctx, a.Meta, func(tx Tx) error {
		var err error
		app, err = tx.App(ctx, clientID)
		return err
	})
	return app, err
}

// List returns every app ordered by name.
func (a *Apps) List(ctx context.Context) ([]*meta.App, error) {
	var apps []*meta.App
	err := view(ctx, a.Meta, func(tx Tx) error {
		var err error
		apps, err = tx.Apps(ctx)
		return err
	})
	return apps, err
}

// Delete removes the app with the given client id or name, and every
// token and code issued to it. First-party apps cannot be deleted
// (Forbidden): the server would seed them again on its next start.
func (a *Apps) Delete(ctx context.Context, idOrName string) (*meta.App, error) {
	const op = "oauth.DeleteApp"
	var app *meta.App
	err := update(ctx, a.Meta, func(tx Tx) error {
		var err error
		app, err = tx.App(ctx, idOrName)
		if drive.Is(drive.NotFound, err) {
			app, err = tx.AppByName(ctx, idOrName)
		}
		if err != nil {
			return err
		}
		if app.FirstParty {
			return drive.Errorf(op, drive.Forbidden, "%s is a first-party app and cannot be deleted", app.Name)
		}
		return tx.DeleteApp(ctx, app.ClientID)
	})
	return app, err
}

// ValidateRedirectURI checks a redirect URI for registration: absolute,
// without a fragment or user info; http(s) with a host, or a private-use
// scheme in reverse-domain form (com.example.app:/cb, RFC 8252 7.1).
func ValidateRedirectURI(raw string) error {
	const op = "oauth.ValidateRedirectURI"
	bad := func(why string) error {
		return drive.Errorf(op, drive.Invalid, "redirect URI %q: %s", raw, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	switch {
	case !u.IsAbs():
		return bad("must be absolute")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("must not have a fragment")
	case u.User != nil:
		return bad("must not have user info")
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return bad("needs a host")
		}
	case strings.Contains(u.Scheme, "."):
		// A private-use scheme such as com.example.app.
	default:
		return bad("scheme must be http, https or reverse-domain (com.example.app)")
	}
	return nil
}

// isLoopback reports whether host (without port) is a loopback literal or
// localhost.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// matchRedirect reports whether requested is a registered redirect URI of
// app. Matching is exact string comparison, with two exceptions:
//   - for public clients, a registered http loopback URI (127.0.0.1, [::1],
//     localhost) matches the same URI with any port (RFC 8252 7.3);
//   - a registered URI that starts with "/" is same-origin: it matches
//     base + that path, base being the server's public base URL.
func matchRedirect(app *meta.App, requested, base string) bool {
	if requested == "" {
		return false
	}
	for _, reg := range app.RedirectURIs {
		if strings.HasPrefix(reg, "/") {
			if requested == base+reg {
				return true
			}
			continue
		}
		if requested == reg {
			return true
		}
		if app.Public && loopbackMatch(reg, requested) {
			return true
		}
	}
	return false
}

func loopbackMatch(reg, requested string) bool {
	r, err := url.Parse(reg)
	if err != nil || r.Scheme != "http" || !isLoopback(r.Hostname()) {
		return false
	}
	q, err := url.Parse(requested)
	if err != nil || q.User != nil || q.Fragment != "" || strings.Contains(requested, "#") {
		return false
	}
	if port := q.Port(); port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return false
		}
	}
	return q.Scheme == r.Scheme && q.Hostname() == r.Hostname() && q.EscapedPath() == r.EscapedPath() &&
		q.RawQuery == r.RawQuery && q.Opaque == "" && r.Opaque == ""
}
