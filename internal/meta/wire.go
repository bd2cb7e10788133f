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
	// With buf, the rows and their JSON are built in buf's memory, and
	// stay valid only until the next call with the same buf; with nil,
	// in memory of their own.
	ChangedWire(ctx context.Context, userID string, after int64, limit int, buf *WireBuf) ([]WireNode, error)
}

// WireBuf is memory that successive ChangedWire calls reuse: a full
// sync reads a million rows chunk by chunk, and allocating each chunk's
// rows and JSON anew kept the garbage collector busy (reused, a full
// sync of 1M nodes over HTTP with the default chunkSize ran at 249,000
// to 264,000 nodes/s against 226,000 to 253,000, alternating builds).
type WireBuf struct {
	rows  []WireNode
	arena []byte
}

// Take returns buf's rows and arena emptied (nil for a nil buf), for a
// store's ChangedWire.
func (buf *WireBuf) Take() ([]WireNode, []byte) {
	if buf == nil {
		return nil, nil
	}
	return buf.rows[:0], buf.arena[:0]
}

// Keep stores what a ChangedWire call built for the next call to reuse.
func (buf *WireBuf) Keep(rows []WireNode, arena []byte) {
	if buf != nil {
		buf.rows, buf.arena = rows, arena
	}
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
