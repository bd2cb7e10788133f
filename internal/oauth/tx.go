package oauth

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Tx is what the OAuth server and the app registry do in a metadata
// transaction: the part of meta.Tx they use, apps, codes and passwords
// (meta.OAuthTx), users, token records and the shared key settings.
type Tx interface {
	meta.OAuthTx

	User(ctx context.Context, id string) (*drive.User, error)
	UserByName(ctx context.Context, name string) (*drive.User, error)
	UpdateUser(ctx context.Context, u *drive.User) error

	InsertToken(ctx context.Context, t *meta.Token) error
	Token(ctx context.Context, hash string) (*meta.Token, error)
	RevokeTokens(ctx context.Context, hash, family string) error

	Setting(ctx context.Context, key string) (string, error)
	PutSettingIfAbsent(ctx context.Context, key, value string) (string, error)
	SwapSetting(ctx context.Context, key, old, new string) (bool, error)
}

var _ Tx = meta.Tx(nil)

// update runs fn in a read-write transaction of m, seen as a Tx.
func update(ctx context.Context, m meta.Store, fn func(tx Tx) error) error {
	return m.Update(ctx, func(tx meta.Tx) error { return fn(tx) })
}

// view runs fn in a read-only transaction of m, seen as a Tx.
func view(ctx context.Context, m meta.Store, fn func(tx Tx) error) error {
	return m.View(ctx, func(tx meta.Tx) error { return fn(tx) })
}
