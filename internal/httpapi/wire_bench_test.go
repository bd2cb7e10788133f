package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/templink"
)

func benchNode(i int) *drive.Node {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &drive.Node{ID: fmt.Sprintf("node%018d", i), UserID: "user00000000000000001", Kind: drive.KindFile,
		Name: fmt.Sprintf("IMG_%05d.jpg", i), Status: drive.StatusAvailable, Labels: []string{"photos"},
		Parents: []string{"parent0000000000000001"}, CreatedAt: t, ModifiedAt: t, CreatedBy: "clouddrive-admin", Version: 3,
		Content: &drive.Content{BlobKey: "k", Size: 123456, MD5: "5d41402abc4b2a76b9719d911017c592",
			ContentType: "image/jpeg", Extension: "jpg", Version: 2}}
}

func benchServer() *Server {
	return &Server{Links: &templink.Signer{Key: make([]byte, 32)}, Now: time.Now}
}

// BenchmarkNodeJSON converts and encodes one file node, as GET nodes/{id}.
func BenchmarkNodeJSON(b *testing.B) {
	s, r, n := benchServer(), httptest.NewRequest("GET", "/", nil), benchNode(1)
	enc := json.NewEncoder(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(s.nodeJSON(r, n, false)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNodeListJSON encodes a full listing page (200 nodes) with temp
// links, as GET nodes?tempLink=true.
func BenchmarkNodeListJSON(b *testing.B) {
	s, r := benchServer(), httptest.NewRequest("GET", "/", nil)
	ns := make([]*drive.Node, 200)
	for i := range ns {
		ns[i] = benchNode(i)
	}
	enc := json.NewEncoder(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(acd.NodeList{Count: 200, Data: s.nodesJSON(r, ns, true)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChangeSetJSON encodes one change set of the default chunk size
// (500 nodes), as POST changes streams it; it reports nodes/s.
func BenchmarkChangeSetJSON(b *testing.B) {
	s, r := benchServer(), httptest.NewRequest("POST", "/", nil)
	ns := make([]*drive.Node, 500)
	for i := range ns {
		ns[i] = benchNode(i)
	}
	enc := json.NewEncoder(io.Discard)
	enc.SetEscapeHTML(false)
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(acd.ChangeSet{Checkpoint: "YWJjZDEyMzQ6MTIzNDU2", Nodes: s.nodesJSON(r, ns, false), StatusCode: 200}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ns))/b.Elapsed().Seconds(), "nodes/s")
}
