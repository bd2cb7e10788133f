package thumbnail

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/meta"
)

// Tx is what the thumbnail service does in a metadata transaction: the
// part of meta.Tx it uses, the derived-blob cache and the blob lock that
// keeps the garbage collector from deleting a blob being recorded.
type Tx interface {
	DerivedBlob(ctx context.Context, sourceKey, variant string) (*meta.DerivedBlob, error)
	PutDerivedBlob(ctx context.Context, d *meta.DerivedBlob) error
	LockBlob(ctx context.Context, key string) error
}

var _ Tx = meta.Tx(nil)

// update runs fn in a read-write transaction of s.Meta, seen as a Tx.
func (s *Service) update(ctx context.Context, fn func(tx Tx) error) error {
	return s.Meta.Update(ctx, func(tx meta.Tx) error { return fn(tx) })
}

// view runs fn in a read-only transaction of s.Meta, seen as a Tx.
func (s *Service) view(ctx context.Context, fn func(tx Tx) error) error {
	return s.Meta.View(ctx, func(tx meta.Tx) error { return fn(tx) })
}
