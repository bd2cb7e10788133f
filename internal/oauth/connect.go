package oauth

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Apps for the legacy ACD clients, registered by their users themselves
// (POST /drive/v1/apps, what `clouddrive connect` calls), so that a user
// who is not an administrator can point rclone or acd_cli at the server.
//
// Both clients are confidential clients as they were on ACD: rclone
// stores client_id and client_secret in rclone.conf, and acd_cli refuses
// a client_data file with an empty secret. What a user may register is
// fixed here, so a self-registered app cannot become a phishing tool:
//   - the redirect URIs are the client's own loopback ones (rclone's
//     local listener on 127.0.0.1:53682, acd_cli's http://localhost),
//     never one the user chooses, so an authorization code can only
//     land on the machine of the person who approved it;
//   - the name is "CLIENT for USER", so the consent page says whose
//     registration it is;
//   - each user has at most MaxConnectApps apps per client; older ones
//     are removed with `clouddrive admin app delete`.
//
// A secret is shown once, so every call makes a new app: the CLI keeps
// the one it got and reuses it.

// Clients that users may register apps for.
const (
	ConnectRclone = "rclone"
	ConnectACDCLI = "acd_cli"
)

// rcloneRedirect is where rclone's own authorization flow (rclone config
// reconnect) receives the code; `clouddrive connect --browser` listens
// there too.
const rcloneRedirect = "http://127.0.0.1:53682/"

// connectRedirects are the redirect URIs of each client's apps.
var connectRedirects = map[string][]string{
	ConnectRclone: {rcloneRedirect},
	// acd_cli's local flow sends the browser to http://localhost and asks
	// the user to paste the address it landed on.
	ConnectACDCLI: {"http://localhost", rcloneRedirect},
}

// ConnectClients lists the clients CreateForUser accepts, sorted.
func ConnectClients() []string {
	names := make([]string, 0, len(connectRedirects))
	for n := range connectRedirects {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// MaxConnectApps bounds the apps one user may register per client.
const MaxConnectApps = 10

// CreateForUser registers a confidential app for client (ConnectRclone or
// ConnectACDCLI) on behalf of the user named userName, and returns it with
// its secret. It is named "CLIENT for USER", or "CLIENT for USER (N)" when
// the user has some already; past MaxConnectApps it fails with Conflict.
func (a *Apps) CreateForUser(ctx context.Context, client, userName string) (*meta.App, string, error) {
	const op = "oauth.CreateForUser"
	redirects, ok := connectRedirects[client]
	if !ok {
		return nil, "", drive.Errorf(op, drive.Invalid, "client must be one of %s, not %q",
			strings.Join(ConnectClients(), ", "), client)
	}
	base := client + " for " + userName
	for n := 1; n <= MaxConnectApps; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s (%d)", base, n)
		}
		app, secret, err := a.Create(ctx, name, slices.Clone(redirects), false)
		if drive.Is(drive.Conflict, err) {
			continue
		}
		return app, secret, err
	}
	return nil, "", drive.Errorf(op, drive.Conflict,
		"%s has %d %s apps already: an administrator can delete old ones (clouddrive admin app list, clouddrive admin app delete NAME)",
		userName, MaxConnectApps, client)
}
