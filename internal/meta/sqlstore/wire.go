package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// The feed table.
//
// node_feed holds each node's JSON as the changes feed sends it
// (meta.WireFunc), keyed by (user_id, change_seq): InsertNode and
// UpdateNode render it in the transaction that writes the node, from the
// node as a read would return it (storedForm), write it under the node's
// new change number and delete the row of the old one. The feed's newest
// changes, and a whole account, are then adjacent rows in change order.
// nodes.wire_seq is the change number whose row node_feed holds.
//
// ChangedWire walks nodes by change number (the nodes_user_change index
// alone) and matches node_feed's rows to those numbers, so a node that
// has no row at its current change number reads as having none, and the
// feed renders it itself: one written by a store without a WireFunc, or by a server from
// before the table during a rolling upgrade (which takes a new change
// number and leaves wire_seq alone, or sets it with its own nodes.wire;
// this version writes nodes.wire NULL). BackfillWire renders those rows,
// found through the partial index nodes_wire_stale, as after the
// migration that added the table.

// SetWire sets the renderer of the feed table; nil writes none. Call it
// before the store is used.
func (s *Store) SetWire(f meta.WireFunc) { s.Dialect.wire = f }

// wireArgs returns n's rendering and the wire_seq to store with it: nil
// and NULL without a renderer.
func (t *tx) wireArgs(n *drive.Node) (wire []byte, seq any, err error) {
	if t.d.wire == nil {
		return nil, nil, nil
	}
	b, err := t.d.wire(storedForm(n))
	if err != nil {
		return nil, nil, err
	}
	return b, n.ChangeSeq, nil
}

// putFeed deletes the node_feed row of n's previous change number
// (oldSeq, nodes.wire_seq as it was) and stores wire under n's current
// one; with wire nil (no renderer) it only deletes. Change numbers are
// unique among a user's nodes (meta.Tx.NextSeq for every write): a second
// node at the same number would be a bug, and it fails the transaction
// here rather than have the feed send one node's JSON for another.
func (t *tx) putFeed(ctx context.Context, n *drive.Node, wire []byte, oldSeq sql.NullInt64) error {
	const op = "meta.putFeed"
	if oldSeq.Valid {
		if _, err := t.exec(ctx, `DELETE FROM node_feed WHERE user_id = ? AND change_seq = ?`, n.UserID, oldSeq.Int64); err != nil {
			return err
		}
	}
	if wire == nil {
		return nil
	}
	_, err := t.exec(ctx, `INSERT INTO node_feed (user_id, change_seq, node_id, purged, wire) VALUES (?, ?, ?, ?, ?)`,
		n.UserID, n.ChangeSeq, n.ID, b2i(n.Status == drive.StatusPurged), string(wire))
	if err != nil && t.d.IsUniqueViolation(err) {
		return drive.Errorf(op, drive.Internal, "change number %d of node %s is another node's too", n.ChangeSeq, n.ID)
	}
	return err
}

// storedForm returns n as Node would read it back after InsertNode or
// UpdateNode wrote it (see nodeArgs, writeLinks and scanNode): the root
// without a name, times at millisecond precision in UTC, parents sorted
// and without repeats, labels never nil, content only on files (with zero
// values when a file has none).
func storedForm(n *drive.Node) *drive.Node {
	c := *n
	if c.IsRoot {
		c.Name = ""
	}
	c.CreatedAt, c.ModifiedAt = fromMS(ms(n.CreatedAt)), fromMS(ms(n.ModifiedAt))
	if c.Labels == nil {
		c.Labels = []string{}
	}
	c.Parents = slices.Compact(slices.Sorted(slices.Values(n.Parents)))
	if c.Parents == nil {
		c.Parents = []string{}
	}
	c.Content = nil
	if n.Kind == drive.KindFile {
		var cc drive.Content
		if n.Content != nil {
			cc = *n.Content
		}
		cc.ContentDate = fromMS(ms(cc.ContentDate))
		if !cc.ModTime.IsZero() {
			cc.ModTime = time.UnixMilli(cc.ModTime.UnixMilli()).UTC()
		}
		media := mediaArg(&cc) // through the media column and back
		cc.Image, cc.Video = nil, nil
		scanMedia(&cc, media)
		c.Content = &cc
	}
	return &c
}

// changedSeqsSQL and feedRangeSQL are ChangedWire's queries: the change
// numbers of a user's nodes (user, after, limit), from the
// (user_id, change_seq) index alone, and the node_feed rows in a range of
// them (user, after, last).
const (
	changedSeqsSQL = `SELECT n.change_seq FROM nodes n WHERE n.user_id = ? AND n.change_seq > ? ORDER BY n.change_seq LIMIT ?`
	feedRangeSQL   = `SELECT f.change_seq, f.purged, f.wire FROM node_feed f
		WHERE f.user_id = ? AND f.change_seq > ? AND f.change_seq <= ? ORDER BY f.change_seq`
)

// ChangedWire implements meta.Tx. It reads two ranges in change order,
// each from adjacent pages, and merges them: the change numbers of the
// nodes, then the node_feed rows up to the last of them. A number without
// a row gets no JSON (the caller renders that node); a row without a node
// (left by an older server's write) is skipped. A join would look every
// row up in node_feed by its key instead, which costs more than the read.
func (t *tx) ChangedWire(ctx context.Context, userID string, after int64, limit int, buf *meta.WireBuf) ([]meta.WireNode, error) {
	const op = "meta.ChangedWire"
	out, arena := buf.Take()
	out, err := t.changedSeqs(ctx, userID, after, limit, out)
	if err != nil || len(out) == 0 {
		buf.Keep(out, arena)
		return out, drive.Wrap(op, err)
	}
	rows, err := t.query(ctx, feedRangeSQL, userID, after, out[len(out)-1].ChangeSeq)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	defer rows.Close()
	// One buffer holds the chunk's JSON (buf's, reused by the next call):
	// one allocation per chunk at most, not per node. A slice keeps
	// pointing into the old array when it grows.
	if need := len(out) * 512; cap(arena) < need {
		arena = make([]byte, 0, need)
	}
	var wire sql.RawBytes
	var seq, purged int64
	i := 0
	for rows.Next() {
		if err := rows.Scan(&seq, &purged, &wire); err != nil {
			return nil, drive.Wrap(op, err)
		}
		for i < len(out) && out[i].ChangeSeq < seq {
			i++
		}
		if i == len(out) || out[i].ChangeSeq != seq {
			continue
		}
		start := len(arena)
		arena = append(arena, wire...)
		out[i].JSON, out[i].Purged = arena[start:len(arena):len(arena)], purged != 0
	}
	buf.Keep(out, arena)
	return out, drive.Wrap(op, rows.Err())
}

// changedSeqs returns the first part of ChangedWire: the change numbers.
// The rows are appended to out.
func (t *tx) changedSeqs(ctx context.Context, userID string, after int64, limit int, out []meta.WireNode) ([]meta.WireNode, error) {
	rows, err := t.query(ctx, changedSeqsSQL, userID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if out == nil {
		out = make([]meta.WireNode, 0, min(limit, 1024))
	}
	for rows.Next() {
		var w meta.WireNode
		if err := rows.Scan(&w.ChangeSeq); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// BackfillWire renders the node_feed row of every node that has none
// current, batch nodes per transaction (in id order, so a pass ends), and
// returns how many it wrote. A row that changes meanwhile is left to the
// writer, which renders it itself. Without a renderer it does nothing. A
// server runs it in the background when it starts.
func (s *Store) BackfillWire(ctx context.Context, batch int) (int, error) {
	const op = "meta.BackfillWire"
	if s.Dialect.wire == nil {
		return 0, nil
	}
	batch = max(batch, 1)
	total, after := 0, ""
	for {
		var n int
		var last string
		err := s.Update(ctx, func(mtx meta.Tx) error {
			n, last = 0, ""
			t := mtx.(*tx)
			rows, err := t.query(ctx, `SELECT `+nodeCols+`, n.wire_seq FROM nodes n
				WHERE (n.wire_seq IS NULL OR n.wire_seq <> n.change_seq OR n.wire IS NOT NULL) AND n.id > ? ORDER BY n.id LIMIT ?`, after, batch)
			if err != nil {
				return err
			}
			nodes, oldSeqs, err := collectStale(rows)
			if err != nil {
				return err
			}
			if err := t.loadParents(ctx, nodes); err != nil {
				return err
			}
			for i, nd := range nodes {
				wire, _, err := t.wireArgs(nd)
				if err != nil {
					return err
				}
				if err := t.putFeed(ctx, nd, wire, oldSeqs[i]); err != nil {
					return err
				}
				if _, err := t.exec(ctx, `UPDATE nodes SET wire = NULL, wire_seq = change_seq WHERE id = ? AND change_seq = ?`,
					nd.ID, nd.ChangeSeq); err != nil {
					return err
				}
			}
			n = len(nodes)
			if n > 0 {
				last = nodes[n-1].ID
			}
			return nil
		})
		if err != nil {
			return total, drive.Wrap(op, err)
		}
		total += n
		if n < batch {
			return total, nil
		}
		after = last
	}
}

// collectStale reads the rows of BackfillWire's query: nodes, and each
// one's wire_seq.
func collectStale(rows *sql.Rows) ([]*drive.Node, []sql.NullInt64, error) {
	defer rows.Close()
	var nodes []*drive.Node
	var seqs []sql.NullInt64
	for rows.Next() {
		var seq sql.NullInt64
		n, err := scanNode(rows, &seq)
		if err != nil {
			return nil, nil, err
		}
		nodes, seqs = append(nodes, n), append(seqs, seq)
	}
	return nodes, seqs, rows.Err()
}
