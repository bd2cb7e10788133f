package gc

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/meta"
)

// Tx is what the collector does in a metadata transaction: the part of
// meta.Tx it uses to decide, under the blob's lock, that nothing
// references a blob, and to forget a derived blob.
type Tx interface {
	LockBlob(ctx context.Context, key string) error
	BlobReferenced(ctx context.Context, key string) (bool, error)
	DerivedInUse(ctx context.Context, key string) (bool, error)
	DeleteDerived(ctx context.Context, key string) error
}

var _ Tx = meta.Tx(nil)

// update runs fn in a read-write transaction of c.Meta, seen as a Tx.
func (c *Collector) update(ctx context.Context, fn func(tx Tx) error) error {
	return c.Meta.Update(ctx, func(tx meta.Tx) error { return fn(tx) })
}
