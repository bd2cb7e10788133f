package meta

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// WireFunc renders a node as the changes feed sends it (httpapi.NodeWire):
// the JSON of the node's API form, which depends on the node alone. A
// store that is given one keeps each node's rendering under its change
// number, written in the same transaction as the node, so the feed reads
// bytes in change order instead of rebuilding and encoding every node.
type WireFunc func(n *drive.Node) ([]byte, error)

// WireTx reads the stored renderings.
type WireTx interface {
	// ChangedWire returns up to limit nodes of userID with ChangeSeq >
	// after, ordered by ChangeSeq, PURGED tombstones included: the rows
	// of Changed, with each node's stored rendering instead of the node.
	ChangedWire(ctx context.Context, userID string, after int64, limit int) ([]WireNode, error)
}

// WireBackfiller is implemented by stores that keep renderings: it
// renders, batch rows at a time, every row that has none that is current
// (written before the column, or without a WireFunc) and returns how many
// it rendered. The server runs it once at start.
type WireBackfiller interface {
	BackfillWire(ctx context.Context, batch int) (int, error)
}

// WireNode is one row of ChangedWire.
type WireNode struct {
	// ChangeSeq is the node's change number, unique among its user's
	// nodes: the row of Changed with the same number is the same node.
	ChangeSeq int64
	// Purged is whether the node is a PURGED tombstone, as rendered;
	// false when JSON is nil (the caller reads the node itself then).
	Purged bool
	// JSON is the node's rendering as the store's WireFunc made it from
	// the node as it is now, or nil when the store holds none that is
	// current: the row was written by a store without a WireFunc (or by
	// a version from before the column), and not backfilled since. The
	// caller then renders the node itself.
	JSON []byte
}
