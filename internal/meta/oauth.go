package meta

import (
	"context"
	"time"
)

// OAuthTx is the part of a transaction that the OAuth 2.0 authorization
// server (package oauth) and the user administration need: password
// hashes, registered applications, authorization codes, device codes, and
// the atomic claim of a refresh token on rotation.
//
// Secrets are never stored: codes are looked up by the SHA-256 hash of
// the secret the client holds (auth.Hash), client secrets are stored as
// such a hash, and passwords as an argon2id PHC string.
type OAuthTx interface {
	// UserPassword returns the password hash (a PHC string) of a user, or
	// "" when the user has none. A missing user gives NotFound.
	UserPassword(ctx context.Context, userID string) (string, error)
	// SetUserPassword replaces the password hash of a user; "" removes
	// it. A missing user gives NotFound.
	SetUserPassword(ctx context.Context, userID, hash string) error

	// CreateApp stores a new application. A client id or name already in
	// use gives Conflict.
	CreateApp(ctx context.Context, a *App) error
	// App returns an application by client id, or NotFound.
	App(ctx context.Context, clientID string) (*App, error)
	// AppByName returns an application by name, or NotFound.
	AppByName(ctx context.Context, name string) (*App, error)
	// Apps lists every application ordered by name.
	Apps(ctx context.Context) ([]*App, error)
	// DeleteApp removes an application together with every token,
	// authorization code and device code issued to it. A missing client
	// id gives NotFound.
	DeleteApp(ctx context.Context, clientID string) error

	// InsertAuthCode stores an authorization code. A duplicate hash gives
	// Conflict.
	InsertAuthCode(ctx context.Context, c *AuthCode) error
	// UseAuthCode marks a code used and returns it as it was before the
	// call: Used reports whether an earlier call (possibly a concurrent
	// transaction) had already used it, so exactly one caller ever sees
	// Used == false. A missing code gives NotFound. Expiry is not checked.
	UseAuthCode(ctx context.Context, hash string) (*AuthCode, error)

	// InsertDeviceCode stores a device authorization. A duplicate hash or
	// user code hash gives Conflict.
	InsertDeviceCode(ctx context.Context, d *DeviceCode) error
	// DeviceCode returns a device authorization by the hash of its device
	// code, or NotFound. Expiry is not checked.
	DeviceCode(ctx context.Context, hash string) (*DeviceCode, error)
	// DeviceCodeByUserCode returns a device authorization by the hash of
	// its user code, or NotFound. Expiry is not checked.
	DeviceCodeByUserCode(ctx context.Context, userCodeHash string) (*DeviceCode, error)
	// UpdateDeviceCode writes Status, UserID, Interval and LastPoll of d.
	// A missing code gives NotFound.
	UpdateDeviceCode(ctx context.Context, d *DeviceCode) error
	// DeleteDeviceCode removes a device authorization. A missing one gives
	// NotFound, so of two transactions deleting the same code exactly one
	// succeeds: the token endpoint uses that to hand out tokens once.
	DeleteDeviceCode(ctx context.Context, hash string) error

	// ClaimToken marks a token revoked unless it already is, and reports
	// whether this call revoked it. Of two transactions claiming the same
	// token exactly one gets true; refresh-token rotation relies on it. A
	// missing token gives NotFound.
	ClaimToken(ctx context.Context, hash string) (bool, error)
	// DeleteExpired removes authorization codes, device codes and tokens
	// that expired before the given time (tokens that never expire are
	// kept) and returns how many rows went.
	DeleteExpired(ctx context.Context, before time.Time) (int64, error)
}

// App is a registered OAuth client application.
type App struct {
	// ClientID is the public identifier; it is also the createdBy and the
	// properties owner of everything written with the app's tokens.
	ClientID string
	// Name is a unique human-readable name.
	Name string
	// SecretHash is auth.Hash of the client secret; empty for public
	// clients, which have no secret.
	SecretHash string
	// RedirectURIs are the registered redirect URIs, matched exactly
	// (package oauth documents the loopback and same-origin exceptions).
	RedirectURIs []string
	// Public marks a client that cannot keep a secret (native or browser
	// apps); it must use PKCE.
	Public bool
	// FirstParty marks the apps the server seeds for itself (the CLI and
	// the web UI).
	FirstParty bool
	CreatedAt  time.Time
}

// AuthCode is an issued authorization code, bound to the client, the
// redirect URI and the PKCE challenge of the request that produced it.
type AuthCode struct {
	Hash        string
	ClientID    string
	UserID      string
	RedirectURI string
	Scope       string
	// Challenge is the PKCE S256 code challenge; empty when the request
	// had none.
	Challenge string
	// Family is the token family the exchange issues into, so that a
	// replayed code can revoke what the first exchange issued.
	Family    string
	ExpiresAt time.Time
	Used      bool
	CreatedAt time.Time
}

// Device authorization states.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
)

// DeviceCode is a device authorization request (RFC 8628).
type DeviceCode struct {
	// Hash is auth.Hash of the device code the client polls with.
	Hash string
	// UserCodeHash is auth.Hash of the normalised user code.
	UserCodeHash string
	ClientID     string
	Scope        string
	// Status is DevicePending, DeviceApproved or DeviceDenied.
	Status string
	// UserID is the user who approved or denied; empty while pending.
	UserID string
	// Interval is the minimum time between two polls; it grows on
	// slow_down.
	Interval time.Duration
	// LastPoll is when the client last polled; zero before the first poll.
	LastPoll  time.Time
	ExpiresAt time.Time
	CreatedAt time.Time
}
