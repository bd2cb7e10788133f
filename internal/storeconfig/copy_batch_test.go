package storeconfig_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/storeconfig"
)

// TestCopyMetaBatches copies a SQLite store of 450 files (the node and
// link tables span three INSERT batches) into a new SQLite file: every
// row arrives, the counts say so, the referenced blobs are the same, and
// a second copy into the now full destination is refused and adds
// nothing.
func TestCopyMetaBatches(t *testing.T) {
	ctx := t.Context()
	src := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "src.db"), "")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := &drive.User{ID: drive.NewID(), Name: "alice", CreatedAt: now, Epoch: "e1", Quota: 1 << 40}
	root := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder, Status: drive.StatusAvailable,
		IsRoot: true, CreatedAt: now, ModifiedAt: now, CreatedBy: "clouddrive", Version: 1}
	u.RootID = root.ID
	const files = 450
	err := src.Update(ctx, func(tx meta.Tx) error {
		if err := tx.CreateUser(ctx, u, root); err != nil {
			return err
		}
		for i := range files {
			f := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFile, Name: fmt.Sprintf("f%04d", i),
				Status: drive.StatusAvailable, Parents: []string{root.ID}, CreatedAt: now, ModifiedAt: now,
				CreatedBy: "test", Version: 1,
				Content: &drive.Content{BlobKey: fmt.Sprintf("blob%04d", i), Size: int64(i), MD5: fmt.Sprintf("%032x", i),
					ContentType: "text/plain", Version: 1}}
			if err := tx.InsertNode(ctx, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := dump(t, src)

	dst := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "dst.db"), "")
	counts, err := storeconfig.CopyMeta(ctx, dst, src)
	if err != nil {
		t.Fatalf("CopyMeta error: %v", err)
	}
	got := map[string]int64{}
	for _, c := range counts {
		got[c.Table] = c.Rows
	}
	if got["nodes"] != files+1 || got["users"] != 1 {
		t.Errorf("counts = %v, want %d nodes and 1 user", counts, files+1)
	}
	if diff := gocmp.Diff(want, dump(t, dst)); diff != "" {
		t.Errorf("copy differs (-source +copy):\n%s", diff)
	}
	srcRefs, err := storeconfig.ReferencedBlobs(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	dstRefs, err := storeconfig.ReferencedBlobs(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcRefs) != files || srcRefs["blob0449"] != 449 {
		t.Errorf("source references %d blobs, blob0449 of %d bytes; want %d, 449", len(srcRefs), srcRefs["blob0449"], files)
	}
	if diff := gocmp.Diff(srcRefs, dstRefs); diff != "" {
		t.Errorf("referenced blobs differ (-source +copy):\n%s", diff)
	}

	if _, err := storeconfig.CopyMeta(ctx, dst, src); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second CopyMeta error = %v, want 'not empty'", err)
	}
	if diff := gocmp.Diff(want, dump(t, dst)); diff != "" {
		t.Errorf("refused copy changed the destination (-want +got):\n%s", diff)
	}
}
