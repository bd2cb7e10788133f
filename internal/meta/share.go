package meta

import (
	"context"
	"time"
)

// ShareTx is the part of a transaction that stores public share links
// (package share). Links belong to a user and point at one of the user's
// nodes; deleting the user or the node row deletes its links.
type ShareTx interface {
	// InsertShareLink stores a new link. A duplicate id or token gives
	// Conflict. The user and the node must exist (the caller checks the
	// node first).
	InsertShareLink(ctx context.Context, l *ShareLink) error
	// ShareLinkByToken returns the link with the given token, or
	// NotFound. Expiry is not checked.
	ShareLinkByToken(ctx context.Context, token string) (*ShareLink, error)
	// ShareLinks lists the links of userID ordered by creation time, then
	// id; nodeID, when not empty, restricts them to links of that node.
	// The result is never nil.
	ShareLinks(ctx context.Context, userID, nodeID string) ([]*ShareLink, error)
	// DeleteShareLink removes a link of userID. A missing link, or one of
	// another user, gives NotFound.
	DeleteShareLink(ctx context.Context, userID, id string) error
}

// ShareLink is a public link to a file or folder.
type ShareLink struct {
	ID     string
	UserID string
	NodeID string
	// Token is the secret part of the public URL, stored as it is: the
	// owner must be able to copy the link again later (see package share).
	Token string
	// PasswordHash is an argon2id PHC string, or "" for no password.
	PasswordHash string
	ExpiresAt    time.Time // zero: never
	CreatedAt    time.Time
}
