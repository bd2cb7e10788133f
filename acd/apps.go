package acd

// Self-registered OAuth apps are a clouddrive extension; on ACD a
// developer registered a "security profile" on Amazon's site. A user
// registers an app for one of the ACD clients with POST apps (NewApp) and
// gets it back once with its secret (App); `clouddrive connect` does this.

// Clients an app may be registered for.
const (
	AppClientRclone = "rclone"
	AppClientACDCLI = "acd_cli"
)

// NewApp is the body of POST apps.
type NewApp struct {
	// Client is AppClientRclone or AppClientACDCLI; it fixes the app's
	// redirect URIs.
	Client string `json:"client"`
}

// App is the reply of POST apps: a confidential OAuth client.
type App struct {
	ClientID string `json:"clientId"`
	// ClientSecret is shown only in this reply; the server keeps a hash.
	ClientSecret string   `json:"clientSecret,omitempty"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirectUris"`
	CreatedDate  string   `json:"createdDate"`
}
