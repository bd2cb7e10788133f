// Package changes builds the ACD changes feed (POST /changes) from the
// metadata store.
//
// Checkpoints: every mutation of a node takes the next number of its
// user's change counter in the committing transaction and stores it on the
// node (ChangeSeq). A checkpoint is the opaque encoding of (user epoch,
// number); the changes after it are the nodes whose ChangeSeq is greater,
// in ChangeSeq order, which is commit order. Nodes are sent in their
// current state, so several changes of one node collapse into one entry,
// as on ACD. Purged nodes stay as tombstones and are sent only with
// includePurged.
//
// A request without checkpoint, or with one that does not decode or belongs
// to another epoch, or lies in the future, gets reset:true and the full
// state: every node that is not purged, the root included.
//
// The whole response is read from one read transaction, so it is one
// consistent snapshot even while writers commit.
//
// Long poll (beyond ACD): a request with a checkpoint and a wait of up to
// 60 seconds is held until the user's feed moves past the checkpoint, so
// clients learn of changes without polling. Writes committed in this
// process wake the poll at once; writes of other replicas are seen within
// RecheckInterval.
package changes

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Request is a decoded POST /changes body.
type Request struct {
	Checkpoint    string
	ChunkSize     int // nodes per emitted set; 0 means DefaultChunkSize
	MaxNodes      int // stop after about this many nodes; 0 means no limit
	IncludePurged bool
	// Wait (beyond ACD, at most MaxWait) holds the request until the feed
	// moves past Checkpoint, Wait elapses or ctx ends.
	Wait time.Duration
}

// checkpoint is a decoded Request.Checkpoint.
type checkpoint struct {
	epoch string
	seq   int64
	ok    bool // false: none, or not one this server made (a reset)
}

func parseCheckpoint(s string) checkpoint {
	if s == "" {
		return checkpoint{}
	}
	epoch, seq, ok := DecodeCheckpoint(s)
	return checkpoint{epoch: epoch, seq: seq, ok: ok}
}

// DefaultChunkSize is the number of nodes per change set when the client
// does not say.
const DefaultChunkSize = 500

// MaxChunkSize bounds a change set.
const MaxChunkSize = 10000

// readRows is about how many rows Stream reads from the store at once
// (a whole number of sets, at least one): a full sync of the default
// chunkSize makes one read for eight sets, not one each. The rows of a
// read are held until its sets are emitted (about 2 MB of JSON).
const readRows = 4000

// Set is one emitted change set. Without a Feed.Render, Nodes holds its
// nodes; with one, JSON holds each node's rendering instead (the bytes
// the metadata store keeps, or Render's output for a node it has none
// for) and Nodes is nil. The bytes of JSON are valid only during the
// call of emit that receives the set: the next read reuses them.
type Set struct {
	Checkpoint string
	Reset      bool
	Nodes      []*drive.Node
	JSON       [][]byte
}

// Len returns the number of nodes in the set.
func (s Set) Len() int { return len(s.Nodes) + len(s.JSON) }

// EncodeCheckpoint returns the opaque checkpoint of change number seq in
// epoch.
func EncodeCheckpoint(epoch string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(epoch + ":" + strconv.FormatInt(seq, 10)))
}

// DecodeCheckpoint parses a checkpoint. ok is false for anything that is
// not a checkpoint this server made.
func DecodeCheckpoint(s string) (epoch string, seq int64, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", 0, false
	}
	i := strings.LastIndexByte(string(raw), ':')
	if i <= 0 {
		return "", 0, false
	}
	epoch, num := string(raw[:i]), string(raw[i+1:])
	seq, err = strconv.ParseInt(num, 10, 64)
	if err != nil || seq < 0 {
		return "", 0, false
	}
	return epoch, seq, true
}

// Feed reads change sets from a metadata store.
type Feed struct {
	Meta meta.Store
	// Notifier, if set, wakes long polls when a write commits here.
	Notifier *Notifier
	// Render, if set, is the metadata store's meta.WireFunc: the feed then
	// reads each node's stored rendering (meta.Tx.ChangedWire) and emits
	// Set.JSON, rendering only the nodes the store has none for.
	Render meta.WireFunc
}

// row is one node of a chunk, from either read path.
type row struct {
	seq    int64
	purged bool
	node   *drive.Node
	json   []byte
}

// Stream emits the change sets for userID after req.Checkpoint, calling
// emit for each (at least one, even when nothing changed), after waiting
// up to req.Wait for a change. It returns complete=false when it stopped
// because of MaxNodes, in which case the client is expected to call again
// from the last checkpoint. emit must not keep a Set's JSON bytes after
// it returns.
func (f *Feed) Stream(ctx context.Context, userID string, req Request, emit func(Set) error) (complete bool, err error) {
	from := parseCheckpoint(req.Checkpoint)
	if err := f.wait(ctx, userID, from, req.Wait); err != nil {
		return false, err
	}
	chunk := req.ChunkSize
	if chunk <= 0 {
		chunk = DefaultChunkSize
	}
	chunk = min(chunk, MaxChunkSize)
	err = f.view(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		current, err := tx.CurrentSeq(ctx, userID)
		if err != nil {
			return err
		}
		// A full listing starts before 0: the root folder is created with
		// the user and has change number 0.
		after := int64(-1)
		reset := true
		if from.ok && from.epoch == u.Epoch && from.seq <= current {
			after, reset = from.seq, false
		}
		includePurged := req.IncludePurged && !reset
		sent := 0
		emitted := false
		var rows []row
		// The rows of one read are emitted before the next read, which
		// reuses their memory.
		var buf meta.WireBuf
	read:
		for {
			limit := chunk
			batch := max(limit, readRows/limit*limit)
			if req.MaxNodes > 0 {
				limit = min(chunk, max(req.MaxNodes-sent, 1))
				batch = limit
			}
			rows, err = f.read(ctx, tx, userID, after, batch, rows[:0], &buf)
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				break
			}
			// The batch is cut into sets of limit rows, as if each had
			// been read on its own: a set shorter than limit is the last.
			for start := 0; start < len(rows); start += limit {
				group := rows[start:min(start+limit, len(rows))]
				last := len(group) < limit
				after = group[len(group)-1].seq
				set := Set{}
				for _, r := range group {
					if r.purged && !includePurged {
						continue
					}
					if f.Render != nil {
						set.JSON = append(set.JSON, r.json)
					} else {
						set.Nodes = append(set.Nodes, r.node)
					}
				}
				if set.Len() == 0 && !last {
					continue // a chunk of skipped tombstones
				}
				cp := after
				if last {
					cp = current // nothing newer exists in this snapshot
				}
				set.Checkpoint, set.Reset = EncodeCheckpoint(u.Epoch, cp), reset && !emitted
				if set.Nodes == nil && set.JSON == nil {
					set.Nodes = []*drive.Node{}
				}
				if err := emit(set); err != nil {
					return err
				}
				emitted = true
				sent += set.Len()
				if req.MaxNodes > 0 && sent >= req.MaxNodes && cp < current {
					return nil
				}
				if last {
					break read
				}
			}
			if len(rows) < batch {
				break // the store has no more
			}
		}
		if !emitted {
			if err := emit(Set{Checkpoint: EncodeCheckpoint(u.Epoch, current), Reset: reset, Nodes: []*drive.Node{}}); err != nil {
				return err
			}
		}
		complete = true
		return nil
	})
	return complete, err
}

// read returns the next chunk of up to limit nodes after change number
// after, appended to rows: nodes (Render unset), or their stored
// renderings with the missing ones rendered here from the same rows,
// in buf's memory (valid until the next read with buf).
func (f *Feed) read(ctx context.Context, tx Tx, userID string, after int64, limit int, rows []row, buf *meta.WireBuf) ([]row, error) {
	if f.Render == nil {
		nodes, err := tx.Changed(ctx, userID, after, limit)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			rows = append(rows, row{seq: n.ChangeSeq, purged: n.Status == drive.StatusPurged, node: n})
		}
		return rows, nil
	}
	wire, err := tx.ChangedWire(ctx, userID, after, limit, buf)
	if err != nil {
		return nil, err
	}
	missing := false
	for _, w := range wire {
		rows = append(rows, row{seq: w.ChangeSeq, purged: w.Purged, json: w.JSON})
		missing = missing || w.JSON == nil
	}
	if !missing {
		return rows, nil
	}
	// Some rows have no current rendering (written before the column was
	// backfilled, or by a store without a renderer): read the same rows
	// in full, from the same snapshot, and render those.
	nodes, err := tx.Changed(ctx, userID, after, limit)
	if err != nil {
		return nil, err
	}
	if len(nodes) != len(wire) {
		return nil, drive.Errorf("changes.Stream", drive.Internal, "the store returned %d changed nodes and %d renderings of them", len(nodes), len(wire))
	}
	for i, w := range wire {
		if w.JSON != nil {
			continue
		}
		if nodes[i].ChangeSeq != w.ChangeSeq {
			return nil, drive.Errorf("changes.Stream", drive.Internal, "changed node %d has change number %d, its rendering %d", i, nodes[i].ChangeSeq, w.ChangeSeq)
		}
		b, err := f.Render(nodes[i])
		if err != nil {
			return nil, drive.Wrap("changes.Stream", err)
		}
		r := &rows[len(rows)-len(wire)+i]
		r.json, r.purged = b, nodes[i].Status == drive.StatusPurged
	}
	return rows, nil
}
