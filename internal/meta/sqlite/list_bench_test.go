package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/meta/sqlite"
)

// BenchmarkList measures List on an account of 20,000 nodes: a folder of
// 2,000 files, the rest in folders of 500. Each sub-benchmark reads one
// page of at most 200: the folder's default (by id) and name-sorted
// listings, a page after the first, and the filters ACD clients send
// (name prefix, exact name, md5, extension in a folder, labels OR a name
// prefix). It shows whether the listing indexes still serve the queries
// (migration 00009): without them the filters read every node.
func BenchmarkList(b *testing.B) {
	const (
		big     = 2000
		others  = 18000
		perDir  = 500
		perTxns = 2000
	)
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "meta.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	u := &drive.User{ID: drive.NewID(), Name: "alice", CreatedAt: fixedTime(), Epoch: "e1", Quota: 1 << 50}
	root := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder, Status: drive.StatusAvailable,
		IsRoot: true, CreatedAt: fixedTime(), ModifiedAt: fixedTime(), CreatedBy: "clouddrive", Version: 1}
	u.RootID = root.ID
	folder := func(name string) *drive.Node {
		return &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder, Name: name, Status: drive.StatusAvailable,
			Parents: []string{root.ID}, CreatedAt: fixedTime(), ModifiedAt: fixedTime(), CreatedBy: "bench", Version: 1}
	}
	bigDir := folder("big")
	exts := []string{"jpg", "txt", "pdf", "mp4"}
	file := func(i int, parent string) *drive.Node {
		ext := exts[i%len(exts)]
		n := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFile, Name: fmt.Sprintf("item-%06d.%s", i, ext),
			Status: drive.StatusAvailable, Parents: []string{parent}, CreatedAt: fixedTime(), ModifiedAt: fixedTime(),
			CreatedBy: "bench", Version: 1,
			Content: &drive.Content{BlobKey: "k", Size: int64(1000 + i), MD5: fmt.Sprintf("%032x", i),
				ContentType: "application/octet-stream", Extension: ext, Version: 1}}
		if i%97 == 0 {
			n.Labels = []string{"starred"}
		}
		return n
	}
	err = s.Update(ctx, func(tx meta.Tx) error {
		if err := tx.CreateUser(ctx, u, root); err != nil {
			return err
		}
		if err := tx.InsertNode(ctx, bigDir); err != nil {
			return err
		}
		for i := range big {
			if err := tx.InsertNode(ctx, file(i, bigDir.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var dir *drive.Node
	for start := 0; start < others; start += perTxns {
		err := s.Update(ctx, func(tx meta.Tx) error {
			for i := start; i < start+perTxns; i++ {
				if i%perDir == 0 {
					dir = folder(fmt.Sprintf("dir-%05d", i/perDir))
					if err := tx.InsertNode(ctx, dir); err != nil {
						return err
					}
				}
				if err := tx.InsertNode(ctx, file(big+i, dir.ID)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	available := []drive.Status{drive.StatusAvailable}
	parse := func(s string) filter.Expr {
		e, err := filter.Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	byName, err := filter.ParseSort(`["name ASC"]`)
	if err != nil {
		b.Fatal(err)
	}
	list := func(q meta.Query) (meta.Page, error) {
		var p meta.Page
		err := s.View(ctx, func(tx meta.Tx) error {
			var err error
			p, err = tx.List(ctx, q)
			return err
		})
		return p, err
	}
	first, err := list(meta.Query{UserID: u.ID, Parent: bigDir.ID, Statuses: available, Limit: 200})
	if err != nil || first.Last == nil {
		b.Fatalf("first page: %v, last %v", err, first.Last)
	}
	for _, bc := range []struct {
		name string
		q    meta.Query
	}{
		{"Folder", meta.Query{UserID: u.ID, Parent: bigDir.ID, Statuses: available, Limit: 200}},
		{"FolderNext", meta.Query{UserID: u.ID, Parent: bigDir.ID, Statuses: available, After: first.Last, Limit: 200}},
		{"FolderByName", meta.Query{UserID: u.ID, Parent: bigDir.ID, Statuses: available, Sort: byName, Limit: 200}},
		{"NamePrefix", meta.Query{UserID: u.ID, Filter: parse(`name:item-0123*`), Statuses: available, Limit: 200}},
		{"NameExact", meta.Query{UserID: u.ID, Filter: parse(`name:item-012345.txt`), Statuses: available, Limit: 200}},
		{"MD5", meta.Query{UserID: u.ID, Filter: parse(fmt.Sprintf(`contentProperties.md5:%032x`, 4321)), Statuses: available, Limit: 200}},
		{"ExtensionInFolder", meta.Query{UserID: u.ID, Filter: parse(`contentProperties.extension:pdf AND parents:` + bigDir.ID), Statuses: available, Limit: 200}},
		{"ExtensionInFolderParent", meta.Query{UserID: u.ID, Parent: bigDir.ID, Filter: parse(`contentProperties.extension:pdf`), Statuses: available, Limit: 200}},
		{"LabelsOrName", meta.Query{UserID: u.ID, Filter: parse(`labels:starred OR name:dir-0001*`), Statuses: available, Limit: 200}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := list(bc.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Nodes) == 0 {
					b.Fatal("no nodes")
				}
			}
		})
	}
}
