package client_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestModTime: the SDK sends a file's modification time with uploads and
// overwrites and sets it with SetModTime; nodes read back carry it
// (contentProperties.mtime) in UTC at millisecond precision.
func TestModTime(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	e := newEnv(t, srv, "mtime")
	ctx := context.Background()
	root := e.root()
	ms := func(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
	check := func(what string, n *acd.Node, want time.Time) {
		t.Helper()
		got := n.ContentProperties.ModTime.Time
		if !got.Equal(want) || got.IsZero() != want.IsZero() {
			t.Errorf("%s: mtime = %v, want %v", what, got, want)
		}
		again, err := e.c.Node(ctx, n.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if g := again.ContentProperties.ModTime.Time; !g.Equal(got) || g.IsZero() != got.IsZero() {
			t.Errorf("%s: Node reads mtime %v, the reply said %v", what, g, got)
		}
	}

	mt := time.Date(2024, 2, 29, 13, 14, 15, 987_654_321, time.FixedZone("X", -5*3600))
	n, err := e.c.Upload(ctx, root, "a.txt", bytes.NewReader([]byte("one")), &client.UploadOptions{ModTime: mt})
	if err != nil {
		t.Fatal(err)
	}
	check("Upload", n, ms(mt))

	mt2 := mt.Add(36 * time.Hour)
	n, err = e.c.Overwrite(ctx, n.ID, bytes.NewReader([]byte("two")), &client.UploadOptions{ModTime: mt2})
	if err != nil {
		t.Fatal(err)
	}
	check("Overwrite", n, ms(mt2))
	n, err = e.c.Overwrite(ctx, n.ID, bytes.NewReader([]byte("three")), nil)
	if err != nil {
		t.Fatal(err)
	}
	check("Overwrite without one", n, time.Time{})

	mt3 := time.Date(1999, 12, 31, 23, 59, 59, 1_000_000, time.UTC)
	n, err = e.c.SetModTime(ctx, n.ID, mt3)
	if err != nil {
		t.Fatal(err)
	}
	check("SetModTime", n, mt3)
	// Other PATCH fields leave it alone.
	n, err = e.c.Rename(ctx, n.ID, "b.txt")
	if err != nil {
		t.Fatal(err)
	}
	check("Rename", n, mt3)

	dir, err := e.c.CreateFolder(ctx, root, "dir", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.SetModTime(ctx, dir.ID, mt); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("SetModTime(folder) = %v, want ErrInvalid", err)
	}

	// UploadFile sends the local file's modification time.
	path := filepath.Join(t.TempDir(), "local.txt")
	if err := os.WriteFile(path, []byte("local"), 0o644); err != nil {
		t.Fatal(err)
	}
	local := time.Date(2021, 7, 1, 8, 0, 0, 555_000_000, time.UTC)
	if err := os.Chtimes(path, local, local); err != nil {
		t.Fatal(err)
	}
	n, err = e.c.UploadFile(ctx, dir.ID, "local.txt", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("UploadFile", n, local)

	// The changes feed carries it.
	var seen bool
	for set, err := range e.c.Changes(ctx, client.ChangesOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range set.Nodes {
			if c.ID == n.ID && c.ContentProperties != nil && c.ContentProperties.ModTime.Equal(local) {
				seen = true
			}
		}
	}
	if !seen {
		t.Errorf("changes feed: no node %s with mtime %v", n.ID, local)
	}
}
