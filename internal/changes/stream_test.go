package changes_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/httpapi"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// TestStreamSets checks the sets Stream emits against the feed read one
// set at a time (tx.Changed with the chunk size as the limit, every set
// cut where the store's read ends), on a real SQLite store larger than
// one of Stream's batched reads, with runs of purged nodes that fill whole
// sets (skipped unless includePurged) and with every chunk size that puts
// a set boundary at the end of a batch or beside it.
func TestStreamSets(t *testing.T) {
	ctx := context.Background()
	m, u, ids := seededStore(t, 9000)
	// Purge a run of 1,200 nodes in the middle (it covers whole sets of
	// 500), and every 7th node of the rest of the first half.
	var purge []string
	purge = append(purge, ids[3000:4200]...)
	for i := 0; i < 3000; i += 7 {
		purge = append(purge, ids[i])
	}
	err := m.Update(ctx, func(tx meta.Tx) error {
		for _, id := range purge {
			n, err := tx.Node(ctx, u.ID, id)
			if err != nil {
				return err
			}
			if n.ChangeSeq, err = tx.NextSeq(ctx, u.ID); err != nil {
				return err
			}
			n.Status = drive.StatusPurged
			if err := tx.UpdateNode(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A checkpoint half-way, for incremental reads with tombstones.
	var mid int64
	if err := m.View(ctx, func(tx meta.Tx) error {
		n, err := tx.Node(ctx, u.ID, ids[1000])
		mid = n.ChangeSeq
		return err
	}); err != nil {
		t.Fatal(err)
	}

	feed := &changes.Feed{Meta: m, Render: httpapi.NodeWire}
	plain := &changes.Feed{Meta: m}
	for _, chunk := range []int{0, 1, 7, 499, 500, 501, 1000, 3999, 4000, 4001, changes.MaxChunkSize} {
		for _, tc := range []struct {
			name string
			req  changes.Request
		}{
			{"full", changes.Request{ChunkSize: chunk}},
			{"incremental", changes.Request{ChunkSize: chunk, Checkpoint: changes.EncodeCheckpoint(u.Epoch, mid)}},
			{"incremental purged", changes.Request{ChunkSize: chunk, Checkpoint: changes.EncodeCheckpoint(u.Epoch, mid), IncludePurged: true}},
		} {
			t.Run(fmt.Sprintf("%s/chunk=%d", tc.name, chunk), func(t *testing.T) {
				want := oneSetAtATime(t, m, u, tc.req)
				for _, f := range []*changes.Feed{feed, plain} {
					var got []changes.Set
					complete, err := f.Stream(ctx, u.ID, tc.req, func(s changes.Set) error {
						// The JSON bytes are the feed's until emit returns.
						for i, j := range s.JSON {
							s.JSON[i] = bytes.Clone(j)
						}
						got = append(got, s)
						return nil
					})
					if err != nil || !complete {
						t.Fatalf("Stream: complete %v, %v", complete, err)
					}
					if len(got) != len(want) {
						t.Fatalf("Stream (render %v) emitted %d sets, want %d", f.Render != nil, len(got), len(want))
					}
					for i := range want {
						if d := setDiff(got[i], want[i]); d != "" {
							t.Fatalf("set %d of %d (render %v): %s", i, len(want), f.Render != nil, d)
						}
					}
				}
			})
		}
	}
}

// oneSetAtATime is the feed as Stream emitted it before it batched its
// reads: one store read of chunk rows per set, a set shorter than the
// chunk ending the stream with the current change number.
func oneSetAtATime(t *testing.T, m meta.Store, u *drive.User, req changes.Request) []changes.Set {
	t.Helper()
	ctx := context.Background()
	chunk := req.ChunkSize
	if chunk <= 0 {
		chunk = changes.DefaultChunkSize
	}
	var sets []changes.Set
	err := m.View(ctx, func(tx meta.Tx) error {
		current, err := tx.CurrentSeq(ctx, u.ID)
		if err != nil {
			return err
		}
		after, reset := int64(-1), true
		if _, seq, ok := changes.DecodeCheckpoint(req.Checkpoint); ok {
			after, reset = seq, false
		}
		purged := req.IncludePurged && !reset
		for {
			nodes, err := tx.Changed(ctx, u.ID, after, chunk)
			if err != nil {
				return err
			}
			if len(nodes) == 0 {
				break
			}
			after = nodes[len(nodes)-1].ChangeSeq
			set := changes.Set{Nodes: []*drive.Node{}}
			for _, n := range nodes {
				if n.Status != drive.StatusPurged || purged {
					set.Nodes = append(set.Nodes, n)
				}
			}
			if len(set.Nodes) == 0 && len(nodes) == chunk {
				continue
			}
			cp := after
			if len(nodes) < chunk {
				cp = current
			}
			set.Checkpoint, set.Reset = changes.EncodeCheckpoint(u.Epoch, cp), reset && len(sets) == 0
			sets = append(sets, set)
			if len(nodes) < chunk {
				break
			}
		}
		if len(sets) == 0 {
			sets = append(sets, changes.Set{Checkpoint: changes.EncodeCheckpoint(u.Epoch, current), Reset: reset, Nodes: []*drive.Node{}})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

// setDiff compares a set Stream emitted (nodes or their JSON) with one of
// oneSetAtATime (nodes), by checkpoint, reset and node JSON.
func setDiff(got, want changes.Set) string {
	if got.Checkpoint != want.Checkpoint || got.Reset != want.Reset || got.Len() != want.Len() {
		return fmt.Sprintf("checkpoint %q reset %v, %d nodes; want %q, %v, %d", got.Checkpoint, got.Reset, got.Len(), want.Checkpoint, want.Reset, want.Len())
	}
	for i, n := range want.Nodes {
		w, err := httpapi.NodeWire(n)
		if err != nil {
			return err.Error()
		}
		g := got.JSON
		var gb []byte
		if g != nil {
			gb = g[i]
		} else if gb, err = httpapi.NodeWire(got.Nodes[i]); err != nil {
			return err.Error()
		}
		if !bytes.Equal(gb, w) {
			return fmt.Sprintf("node %d is\n%s\nwant\n%s", i, gb, w)
		}
	}
	return ""
}
