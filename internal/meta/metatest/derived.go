package metatest

import (
	"context"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// derivedTests are the subtests of meta.DerivedTx. Run appends them to its
// table.
func derivedTests() []subtest {
	return []subtest{
		{"DerivedBlobRoundTrip", testDerivedBlobRoundTrip},
		{"DerivedInUse", testDerivedInUse},
	}
}

func derivedBlob(t *testing.T, s meta.Store, src, variant string) (*meta.DerivedBlob, error) {
	t.Helper()
	var d *meta.DerivedBlob
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		d, err = tx.DerivedBlob(ctx, src, variant)
		return err
	})
	return d, err
}

func putDerived(t *testing.T, s meta.Store, d *meta.DerivedBlob) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.PutDerivedBlob(ctx, d) })
}

func testDerivedBlobRoundTrip(t *testing.T, s meta.Store) {
	_, err := derivedBlob(t, s, "blob-src", "thumb-64")
	wantKind(t, "DerivedBlob(missing)", err, drive.NotFound)

	d := &meta.DerivedBlob{SourceKey: "blob-src", Variant: "thumb-64", Key: "blob-t1", Size: 1234, CreatedAt: clock(0)}
	putDerived(t, s, d)
	got, err := derivedBlob(t, s, "blob-src", "thumb-64")
	if err != nil {
		t.Fatalf("DerivedBlob: %v", err)
	}
	if diff := gocmp.Diff(d, got); diff != "" {
		t.Errorf("DerivedBlob mismatch (-want +got):\n%s", diff)
	}
	_, err = derivedBlob(t, s, "blob-src", "thumb-128")
	wantKind(t, "DerivedBlob(other variant)", err, drive.NotFound)

	// A second Put for the same source and variant replaces the record.
	d2 := &meta.DerivedBlob{SourceKey: "blob-src", Variant: "thumb-64", Key: "blob-t2", Size: 99, CreatedAt: clock(time.Second)}
	putDerived(t, s, d2)
	if got, err := derivedBlob(t, s, "blob-src", "thumb-64"); err != nil || gocmp.Diff(d2, got) != "" {
		t.Errorf("DerivedBlob after replacing = %+v, %v; want %+v", got, err, d2)
	}

	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteDerived(ctx, "blob-t2") })
	_, err = derivedBlob(t, s, "blob-src", "thumb-64")
	wantKind(t, "DerivedBlob(after DeleteDerived)", err, drive.NotFound)
	// Deleting what is not there is fine.
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteDerived(ctx, "blob-none") })
}

func derivedInUse(t *testing.T, s meta.Store, key string) bool {
	t.Helper()
	var ok bool
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		ok, err = tx.DerivedInUse(ctx, key)
		return err
	})
	return ok
}

func testDerivedInUse(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	live := file(u.ID, "live.jpg", 10, "image/jpeg", root.ID)
	bin := trashed(file(u.ID, "bin.jpg", 10, "image/jpeg", root.ID), "")
	insert(t, s, live, bin)
	putDerived(t, s, &meta.DerivedBlob{SourceKey: live.Content.BlobKey, Variant: "v", Key: "thumb-live", Size: 1, CreatedAt: clock(0)})
	putDerived(t, s, &meta.DerivedBlob{SourceKey: bin.Content.BlobKey, Variant: "v", Key: "thumb-bin", Size: 1, CreatedAt: clock(0)})
	putDerived(t, s, &meta.DerivedBlob{SourceKey: "blob-gone", Variant: "v", Key: "thumb-orphan", Size: 1, CreatedAt: clock(0)})
	// Two sources with the same derived bytes share the derived blob.
	putDerived(t, s, &meta.DerivedBlob{SourceKey: "blob-gone", Variant: "w", Key: "thumb-live", Size: 1, CreatedAt: clock(0)})
	for _, tt := range []struct {
		key  string
		want bool
	}{
		{"thumb-live", true},
		{"thumb-bin", true}, // trashed content may be restored
		{"thumb-orphan", false},
		{"thumb-unknown", false},
		{live.Content.BlobKey, false}, // a source is not a derived blob
	} {
		if got := derivedInUse(t, s, tt.key); got != tt.want {
			t.Errorf("DerivedInUse(%q) = %t, want %t", tt.key, got, tt.want)
		}
	}
	// Overwriting the source leaves its derived blob unused.
	upd := norm(live)
	upd.Content.BlobKey = "blob-new"
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, upd) })
	if derivedInUse(t, s, "thumb-live") {
		t.Errorf("DerivedInUse(thumb-live) after overwriting its source = true, want false")
	}
}
