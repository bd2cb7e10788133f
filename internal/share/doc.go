// Package share implements public share links: a user makes a link to one
// of their files or folders (POST /drive/v1/nodes/{id}/links), and anyone
// holding the URL <public base>/s/<token> can download the file, or list
// and download what the folder holds, without an account.
//
// # Tokens
//
// A token is 32 random bytes in unpadded base64url (43 characters). It is
// a capability: whoever has it may read what the link points at. Tokens
// are stored in the metadata store as they are, not hashed, because the
// owner must be able to copy an existing link again (the web UI lists
// links with their URLs). A leak of the metadata store therefore leaks
// live links, as it would leak the data itself; revoking a link deletes
// its row and the token stops working at once.
//
// # What a link reaches
//
// A file link serves that file. A folder link serves the folder and every
// node below it that is reachable from it through AVAILABLE folders: a
// node is inside the link when one of its parent chains climbs, through
// AVAILABLE nodes only, to the shared folder. Nodes elsewhere in the
// owner's drive, including ones the owner could reach through another of a
// node's parents, are NotFound.
//
// # Failures
//
// A missing, revoked or expired token, a link whose node is trashed or
// purged, and a link of a disabled user (until the user is enabled again)
// are all NotFound (404): the public side never tells them apart,
// so a URL reveals nothing once it stops working. An expired link still
// shows in its owner's list, with its expiresAt in the past.
//
// # Passwords
//
// A link may carry a password, stored as an argon2id hash. A visitor
// proves it with the X-Share-Password header on each request, or once
// with a POST of a form field "password" to /s/<token>, which sets a
// cookie scoped to /s/<token>: an HMAC-SHA256, under a server key, of the
// link id and the password hash (so the cookie is useless for any other
// link and dies with the link). Comparisons are constant time, and
// password checks run a few at a time, because each argon2id check takes
// tens of megabytes.
package share
