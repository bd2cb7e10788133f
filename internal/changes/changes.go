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

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Request is a decoded POST /changes body.
type Request struct {
	Checkpoint    string
	ChunkSize     int // nodes per emitted set; 0 means DefaultChunkSize
	MaxNodes      int // stop after about this many nodes; 0 means no limit
	IncludePurged bool
}

// DefaultChunkSize is the number of nodes per change set when the client
// does not say.
const DefaultChunkSize = 500

// MaxChunkSize bounds a change set.
const MaxChunkSize = 10000

// Set is one emitted change set.
type Set struct {
	Checkpoint string
	Reset      bool
	Nodes      []*drive.Node
}

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
}

// Stream emits the change sets for userID after req.Checkpoint, calling
// emit for each (at least one, even when nothing changed). It returns
// complete=false when it stopped because of MaxNodes, in which case the
// client is expected to call again from the last checkpoint.
func (f *Feed) Stream(ctx context.Context, userID string, req Request, emit func(Set) error) (complete bool, err error) {
	chunk := req.ChunkSize
	if chunk <= 0 {
		chunk = DefaultChunkSize
	}
	chunk = min(chunk, MaxChunkSize)
	err = f.Meta.View(ctx, func(tx meta.Tx) error {
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
		if req.Checkpoint != "" {
			if epoch, seq, ok := DecodeCheckpoint(req.Checkpoint); ok && epoch == u.Epoch && seq <= current {
				after, reset = seq, false
			}
		}
		includePurged := req.IncludePurged && !reset
		sent := 0
		emitted := false
		for {
			limit := chunk
			if req.MaxNodes > 0 {
				limit = min(chunk, max(req.MaxNodes-sent, 1))
			}
			nodes, err := tx.Changed(ctx, userID, after, limit)
			if err != nil {
				return err
			}
			if len(nodes) == 0 {
				break
			}
			after = nodes[len(nodes)-1].ChangeSeq
			out := nodes[:0]
			for _, n := range nodes {
				if n.Status == drive.StatusPurged && !includePurged {
					continue
				}
				out = append(out, n)
			}
			if len(out) == 0 && len(nodes) == limit {
				continue // a chunk of skipped tombstones
			}
			cp := after
			if len(nodes) < limit {
				cp = current // last chunk: nothing newer exists in this snapshot
			}
			if err := emit(Set{Checkpoint: EncodeCheckpoint(u.Epoch, cp), Reset: reset && !emitted, Nodes: out}); err != nil {
				return err
			}
			emitted = true
			sent += len(out)
			if req.MaxNodes > 0 && sent >= req.MaxNodes && cp < current {
				return nil
			}
			if len(nodes) < limit {
				break
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
