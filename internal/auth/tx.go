package auth

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// TokensTx is what Tokens does in a metadata transaction: the part of
// meta.Tx it uses, token records and their users.
type TokensTx interface {
	InsertToken(ctx context.Context, t *meta.Token) error
	Token(ctx context.Context, hash string) (*meta.Token, error)
	User(ctx context.Context, id string) (*drive.User, error)
}

var _ TokensTx = meta.Tx(nil)

// update runs fn in a read-write transaction of t.Meta, seen as a
// TokensTx.
func (t *Tokens) update(ctx context.Context, fn func(tx TokensTx) error) error {
	return t.Meta.Update(ctx, func(tx meta.Tx) error { return fn(tx) })
}

// view runs fn in a read-only transaction of t.Meta, seen as a TokensTx.
func (t *Tokens) view(ctx context.Context, fn func(tx TokensTx) error) error {
	return t.Meta.View(ctx, func(tx meta.Tx) error { return fn(tx) })
}
