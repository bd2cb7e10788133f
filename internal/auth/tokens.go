// Package auth issues and checks bearer tokens. Tokens are random 32-byte
// secrets shown to the client once; the store keeps only their SHA-256
// hash, so a leaked database does not leak usable tokens, and lookups by
// hash make the comparison constant-time with respect to the secret.
//
// This file holds the token core that `clouddrive admin token` and the
// HTTP middleware use; the OAuth 2.0 authorization server builds on it.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// AdminClientID is the client id of tokens minted by `clouddrive admin
// token`; it is also their createdBy and properties owner.
const AdminClientID = "clouddrive-admin"

// Token kinds.
const (
	KindAccess  = "access"
	KindRefresh = "refresh"
)

// Tokens mints and verifies tokens.
type Tokens struct {
	Meta meta.Store
	Now  drive.Clock
}

// Hash returns the stored form of a token secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret returns a random token secret with ACD's prefix style
// ("Atza|" for access tokens, "Atzr|" for refresh tokens).
func NewSecret(kind string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	prefix := "Atza|"
	if kind == KindRefresh {
		prefix = "Atzr|"
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Mint stores and returns a new access token for userID. ttl 0 means the
// token never expires.
func (t *Tokens) Mint(ctx context.Context, userID, clientID, scope string, ttl time.Duration) (string, error) {
	secret := NewSecret(KindAccess)
	now := t.Now().UTC()
	rec := &meta.Token{Hash: Hash(secret), UserID: userID, ClientID: clientID, Scope: scope, Kind: KindAccess, CreatedAt: now}
	if ttl > 0 {
		rec.ExpiresAt = now.Add(ttl)
	}
	err := t.update(ctx, func(tx TokensTx) error { return tx.InsertToken(ctx, rec) })
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Authenticate checks a bearer token and returns its principal.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (drive.Principal, error) {
	const op = "auth.Authenticate"
	bad := drive.E(op, drive.Unauthorized, "invalid or expired access token")
	if secret == "" || len(secret) > 512 {
		return drive.Principal{}, bad
	}
	var rec *meta.Token
	var user *drive.User
	err := t.view(ctx, func(tx TokensTx) error {
		var err error
		if rec, err = tx.Token(ctx, Hash(secret)); err != nil {
			return err
		}
		user, err = tx.User(ctx, rec.UserID)
		return err
	})
	if err != nil {
		if drive.Is(drive.NotFound, err) {
			return drive.Principal{}, bad
		}
		return drive.Principal{}, err
	}
	if rec.Kind != KindAccess || rec.Revoked || user.Disabled ||
		(!rec.ExpiresAt.IsZero() && !t.Now().Before(rec.ExpiresAt)) {
		return drive.Principal{}, bad
	}
	return drive.Principal{UserID: rec.UserID, App: rec.ClientID, Scopes: strings.Fields(rec.Scope), TokenID: rec.Hash[:16]}, nil
}
