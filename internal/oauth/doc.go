// Package oauth is clouddrive's OAuth 2.0 authorization server: the
// endpoints Login with Amazon offered to Amazon Cloud Drive clients, plus
// PKCE and the device grant, over the token core of package auth and the
// metadata store.
//
// # Endpoints
//
// The ACD path comes first; the /oauth/ path is an alias.
//
//	GET|POST /ap/oa              /oauth/authorize   authorization endpoint: login, consent, redirect
//	POST     /auth/o2/token      /oauth/token       token endpoint
//	POST     /auth/o2/revoke     /oauth/revoke      revocation (RFC 7009)
//	GET      /auth/o2/tokeninfo  /oauth/tokeninfo   {"aud": client id, "exp": seconds left, "scope"}
//	POST     /auth/o2/device     /oauth/device      device authorization (RFC 8628)
//	GET|POST /device                                 where the user enters and approves a device code
//	POST     /ap/signout         /oauth/signout     ends the browser's sign-in to these pages (204)
//
// # Authorization code flow (RFC 6749 section 4.1, RFC 7636)
//
// The client sends the browser to /ap/oa with client_id,
// response_type=code, redirect_uri, scope, state and, for public clients
// (required) or any client (optional), code_challenge with
// code_challenge_method=S256. The redirect URI must match a registered one
// exactly, except that for public clients a registered http loopback URI
// (127.0.0.1, [::1], localhost) matches any port (RFC 8252 section 7.3), and
// a registered URI starting with "/" means that path on this server's
// public base URL. An unknown client or a redirect URI that does not match
// gets an error page and never a redirect; every later error goes back to
// the client as error=... with the state.
//
// The browser signs in on a login page and then sees a consent page
// listing the requested scopes (clouddrive:read_all, clouddrive:write; the
// old clouddrive:read is read as clouddrive:read_all; no scope means
// clouddrive:read_all). Approval redirects with code and state; denial
// with error=access_denied and the state. Both forms are protected
// against CSRF by a token bound to a session cookie (HttpOnly,
// SameSite=Lax, Secure over TLS) that is signed with HMAC-SHA256 under a
// key kept in the store's settings (oauth_cookie_key), so replicas share
// it; signing in replaces the session and its token. A signed-in session
// lasts 12 hours (SessionTTL) unless the user signs out: POST /ap/signout
// clears the cookie and replaces the user's session generation in the
// settings, which every signed-in cookie carries, so every session of the
// user ends, copies of the cookie included (the web UI's Sign out calls
// it). Pages are
// html/template files embedded in the binary, use no script and no
// external assets, and are never framed. Their forms and redirects back to
// this server use relative references, so a reverse proxy may serve it
// under a path prefix (set PublicURL to match).
//
// Authorization codes are single use, expire after 10 minutes, are stored
// as SHA-256 hashes and are bound to the client, the redirect URI and the
// PKCE challenge. Any redemption uses the code up; a second redemption is
// refused and revokes the tokens the first one issued.
//
// # Token endpoint
//
// grant_type authorization_code, refresh_token and
// urn:ietf:params:oauth:grant-type:device_code. Clients authenticate with
// HTTP Basic (form-encoded id and secret, RFC 6749 section 2.3.1) or with
// client_id and client_secret form fields; public clients send only
// client_id. Success is exactly
//
//	{"access_token":"Atza|...","refresh_token":"Atzr|...","token_type":"bearer","expires_in":3600}
//
// and errors are RFC 6749 section 5.2 bodies ({"error":"invalid_grant",
// "error_description":...}) with 400, or 401 for invalid_client.
//
// Access tokens live one hour by default (Config.AccessTTL) and carry the
// app's client id, which the API uses as createdBy and as the properties
// owner. Refresh tokens rotate on every use: each use revokes the
// presented token and issues a new pair of the same family (the tokens
// table's family column). Presenting an already-rotated refresh token
// means it leaked, so the whole family (every access and refresh token
// descended from the original grant) is revoked. Tokens of disabled users
// stop working at once (auth.Tokens.Authenticate checks the user), cannot
// be refreshed, and disabled users cannot sign in.
//
// Revocation of a refresh token revokes its family; of an access token,
// only that token. Client credentials are optional there (the token proves
// possession), but when given they must be valid and the token must be the
// client's; unknown tokens still get 200, as RFC 7009 asks.
//
// # Device authorization grant (RFC 8628)
//
// POST /auth/o2/device returns device_code, user_code (8 characters from
// BCDFGHJKLMNPQRSTVWXZ, shown as XXXX-XXXX), verification_uri
// (<base>/device), verification_uri_complete, expires_in (600) and
// interval (5). The user opens /device, signs in with the same login form,
// enters or confirms the code and approves. Polling the token endpoint
// answers authorization_pending, slow_down (polled faster than the
// interval, which then grows by 5 seconds), access_denied, expired_token,
// or the tokens, once.
//
// # Apps
//
// Apps are registered with `clouddrive admin app add NAME --redirect-uri
// URI [--public]`, which prints the client id and, for confidential apps,
// the secret (stored only as a SHA-256 hash; it is 256 random bits, so a
// slow hash would add nothing). Two public first-party apps are seeded on
// first start:
//
//	clouddrive-cli  redirect URIs http://127.0.0.1/callback and http://localhost/callback, any port
//	clouddrive-web  redirect URI /ui/callback, that is <public-url>/ui/callback
//
// `clouddrive admin token USER` keeps minting long-lived access tokens for
// the admin pseudo-app clouddrive-admin without any flow.
//
// # Pointing clients at the server
//
// rclone's acd backend: auth_url = <base>/ap/oa, token_url =
// <base>/auth/o2/token, client_id and client_secret from `admin app add
// rclone --redirect-uri http://127.0.0.1:53682/`; rclone's hard-coded
// bootstrap call to drive.amazonaws.com must still be intercepted
// (a hosts entry plus a certificate, or an HTTPS proxy). acd_cli cannot be pointed at another
// token URL: write its oauth.json with a token minted by `admin token`
// (and a far-future exp_time), or with tokens obtained by any of the flows
// above.
//
// # Why in-house
//
// The protocol core here is small (three grants, PKCE, revocation), must
// match ACD's paths and reply shapes exactly, and must keep its state in
// the metadata store so replicas share it. ory/fosite would pull in 52
// modules (grpc, otel, pop, logrus) and has had no release for about two
// years; go-oauth2/oauth2 is light but would still need a custom SQL token
// store, and its own token model beside the tokens table that `admin
// token` and the API already use. So the server is written here, on the
// wire conventions of golang.org/x/oauth2 (which its tests use as the
// client) and the hash-at-rest token core of package auth.
package oauth
