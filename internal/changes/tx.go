package changes

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Tx is what the feed does in a metadata transaction: the part of
// meta.Tx it reads, the user's epoch and change counter and the nodes
// changed after a number, as nodes or as their stored renderings.
type Tx interface {
	meta.WireTx
	User(ctx context.Context, id string) (*drive.User, error)
	CurrentSeq(ctx context.Context, userID string) (int64, error)
	Changed(ctx context.Context, userID string, after int64, limit int) ([]*drive.Node, error)
}

var _ Tx = meta.Tx(nil)

// view runs fn in a read-only transaction of f.Meta, seen as a Tx.
func (f *Feed) view(ctx context.Context, fn func(tx Tx) error) error {
	return f.Meta.View(ctx, func(tx meta.Tx) error { return fn(tx) })
}
