package auth

import (
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/clouddrive/clouddrive/internal/meta"
)

// NewToken returns a new token secret of kind (KindAccess or KindRefresh)
// and the record to store for it: only the hash of the secret, never the
// secret. ttl 0 means the token never expires. The caller stores the
// record (with tx.InsertToken) in the transaction that decides to issue
// it, so issuing tokens and consuming the grant that justified them
// commit together.
func (t *Tokens) NewToken(kind, userID, clientID, scope, family string, ttl time.Duration) (string, *meta.Token) {
	secret := NewSecret(kind)
	now := t.Now().UTC()
	rec := &meta.Token{Hash: Hash(secret), UserID: userID, ClientID: clientID, Scope: scope, Kind: kind,
		Family: family, CreatedAt: now}
	if ttl > 0 {
		rec.ExpiresAt = now.Add(ttl)
	}
	return secret, rec
}

// NewFamily returns a random token family id. Every access and refresh
// token issued from one grant (an authorization code, a device code) and
// its refresh-token rotations shares a family, so the whole grant can be
// revoked at once.
func NewFamily() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
