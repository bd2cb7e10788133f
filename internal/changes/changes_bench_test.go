package changes_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/httpapi"
)

// BenchmarkStream reads the full feed of a 20,000-node account from
// SQLite, as a first sync does, without HTTP; it reports nodes/s.
// "wire" is the server's path: each node's stored JSON
// (meta.Tx.ChangedWire); "nodes" reads and decodes every node's columns
// (meta.Tx.Changed) and leaves the encoding to the caller, which costs
// about as much again (httpapi's BenchmarkChangeSetJSON). Each runs with
// the default chunkSize ("chunk=0") and with the largest (10,000).
func BenchmarkStream(b *testing.B) {
	ctx := context.Background()
	const n = 20000
	m, u, _ := seededStore(b, n)
	for _, bc := range []struct {
		name string
		feed *changes.Feed
	}{
		{"wire", &changes.Feed{Meta: m, Render: httpapi.NodeWire}},
		{"nodes", &changes.Feed{Meta: m}},
	} {
		for _, chunk := range []int{0, changes.MaxChunkSize} {
			b.Run(fmt.Sprintf("%s/chunk=%d", bc.name, chunk), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					got := 0
					if _, err := bc.feed.Stream(ctx, u.ID, changes.Request{ChunkSize: chunk}, func(s changes.Set) error { got += s.Len(); return nil }); err != nil {
						b.Fatal(err)
					}
					if got != n+1 {
						b.Fatalf("streamed %d nodes, want %d", got, n+1)
					}
				}
				b.ReportMetric(float64(b.N*(n+1))/b.Elapsed().Seconds(), "nodes/s")
			})
		}
	}
}

func BenchmarkCheckpoint(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		cp := changes.EncodeCheckpoint("abcd1234", int64(i))
		if _, _, ok := changes.DecodeCheckpoint(cp); !ok {
			b.Fatal("bad checkpoint")
		}
	}
}
