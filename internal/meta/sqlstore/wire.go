package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// The wire column.
//
// nodes.wire holds each node's JSON as the changes feed sends it
// (meta.WireFunc), rendered by InsertNode and UpdateNode in the
// transaction that writes the row, from the node as a read would return
// it (storedForm); nodes.wire_seq is the change_seq it was rendered at.
// ChangedWire hands the bytes out only while wire_seq = change_seq: a row
// written without them (by a store without a WireFunc, or by a server
// from before the column during a rolling upgrade, which takes a new
// change number but leaves wire_seq alone) reads as having none, and the
// feed renders that node itself. BackfillWire renders the rows that have
// none, as after the migration that added the column (SQL cannot render
// the JSON byte for byte as Go does, so the migration leaves it NULL).

// SetWire sets the renderer of the wire column; nil writes none. Call it
// before the store is used.
func (s *Store) SetWire(f meta.WireFunc) { s.Dialect.wire = f }

// wireArgs returns the wire and wire_seq values to store for n.
func (t *tx) wireArgs(n *drive.Node) (wire, seq any, err error) {
	if t.d.wire == nil {
		return nil, nil, nil
	}
	b, err := t.d.wire(storedForm(n))
	if err != nil {
		return nil, nil, err
	}
	return string(b), n.ChangeSeq, nil
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

// ChangedWire implements meta.Tx. It reads three columns a row, the
// rendering only when it is current: each column costs the driver
// (modernc.org/sqlite) about as much as the bytes of the rendering.
func (t *tx) ChangedWire(ctx context.Context, userID string, after int64, limit int) ([]meta.WireNode, error) {
	const op = "meta.ChangedWire"
	rows, err := t.query(ctx, `SELECT n.change_seq, n.status = 'PURGED', CASE WHEN n.wire_seq = n.change_seq THEN n.wire END FROM nodes n
		WHERE n.user_id = ? AND n.change_seq > ? ORDER BY n.change_seq LIMIT ?`, userID, after, limit)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	defer rows.Close()
	out := make([]meta.WireNode, 0, min(limit, 1024))
	// One buffer holds the chunk's JSON: one allocation per chunk, not per
	// node. A slice keeps pointing into the old array when it grows.
	arena := make([]byte, 0, min(limit, 1024)*512)
	var wire sql.RawBytes
	for rows.Next() {
		var w meta.WireNode
		if err := rows.Scan(&w.ChangeSeq, &w.Purged, &wire); err != nil {
			return nil, drive.Wrap(op, err)
		}
		if wire != nil {
			start := len(arena)
			arena = append(arena, wire...)
			w.JSON = arena[start:len(arena):len(arena)]
		}
		out = append(out, w)
	}
	return out, drive.Wrap(op, rows.Err())
}

// BackfillWire renders the wire column of every row that has none
// current, batch rows per transaction (in id order, so a pass ends), and
// returns how many rows it wrote. A row that changes meanwhile is left to
// the writer, which renders it itself. Without a renderer it does
// nothing. A server runs it in the background when it starts.
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
			rows, err := t.query(ctx, `SELECT `+nodeCols+` FROM nodes n
				WHERE (n.wire_seq IS NULL OR n.wire_seq <> n.change_seq) AND n.id > ? ORDER BY n.id LIMIT ?`, after, batch)
			if err != nil {
				return err
			}
			nodes, err := collectNodes(rows)
			if err != nil {
				return err
			}
			if err := t.loadParents(ctx, nodes); err != nil {
				return err
			}
			for _, nd := range nodes {
				wire, _, err := t.wireArgs(nd)
				if err != nil {
					return err
				}
				if _, err := t.exec(ctx, `UPDATE nodes SET wire = ?, wire_seq = change_seq WHERE id = ? AND change_seq = ?`,
					wire, nd.ID, nd.ChangeSeq); err != nil {
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
