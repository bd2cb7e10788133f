package retention

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Tx is what the purger does in a metadata transaction itself: list the
// users (the purges are transactions of the node service).
type Tx interface {
	Users(ctx context.Context) ([]*drive.User, error)
}

var _ Tx = meta.Tx(nil)

// view runs fn in a read-only transaction of p.Meta, seen as a Tx.
func (p *Purger) view(ctx context.Context, fn func(tx Tx) error) error {
	return p.Meta.View(ctx, func(tx meta.Tx) error { return fn(tx) })
}
