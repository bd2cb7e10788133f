package share

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// Tx is what the share service does in a metadata transaction: the part
// of meta.Tx it uses, the share links, the nodes they point at and
// whether their owner is active.
type Tx interface {
	meta.ShareTx
	nodes.UserReader
	Node(ctx context.Context, userID, id string) (*drive.Node, error)
	List(ctx context.Context, q meta.Query) (meta.Page, error)
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
