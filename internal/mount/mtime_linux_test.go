//go:build linux

package mount_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestMountModTimes: the mount shows a file's contentProperties.mtime,
// stores the time touch or cp -p sets on a file (PATCH, or with the bytes
// of a file being written), and uploads written files with the time of
// their last write.
func TestMountModTimes(t *testing.T) {
	requireFUSE(t)
	ctx := context.Background()
	srv := drivetest.New(t, drivetest.Options{})
	u := newUser(t, srv, "mtimes")
	root, err := u.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Date(2011, 11, 11, 11, 11, 11, 111_000_000, time.UTC)
	if _, err := u.c.Upload(ctx, root.ID, "old.txt", bytes.NewReader([]byte("old")), &client.UploadOptions{ModTime: old}); err != nil {
		t.Fatal(err)
	}
	dir, err := u.c.CreateFolder(ctx, root.ID, "dir", nil)
	if err != nil {
		t.Fatal(err)
	}
	mnt, stop, _ := u.mountCLI(2*time.Minute, "--poll", "20s")
	mtimeOf := func(rel string) time.Time {
		t.Helper()
		fi, err := os.Stat(filepath.Join(mnt, rel))
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	serverMtime := func(rel string) time.Time {
		t.Helper()
		n, err := lookup(u.c, "/"+rel)
		if err != nil {
			t.Fatalf("%s through the API: %v", rel, err)
		}
		return n.ContentProperties.ModTime.Time
	}

	// getattr shows the stored mtime.
	if got := mtimeOf("old.txt"); !got.Equal(old) {
		t.Errorf("old.txt mtime = %v, want %v", got, old)
	}

	// touch -d stores it (utimensat on a path: PATCH).
	sh(t, mnt, "touch", "-m", "-d", "2020-02-29 12:34:56.789 UTC", "old.txt")
	want := time.Date(2020, 2, 29, 12, 34, 56, 789_000_000, time.UTC)
	if got := serverMtime("old.txt"); !got.Equal(want) {
		t.Errorf("old.txt on the server after touch -d = %v, want %v", got, want)
	}
	if got := mtimeOf("old.txt"); !got.Equal(want) {
		t.Errorf("old.txt after touch -d = %v, want %v", got, want)
	}
	// Plain touch: now.
	before := time.Now().Add(-time.Second)
	sh(t, mnt, "touch", "old.txt")
	if got := serverMtime("old.txt"); got.Before(before) || got.After(time.Now().Add(time.Second)) {
		t.Errorf("old.txt on the server after touch = %v, want about now", got)
	}
	// A folder has no mtime on the server: accepted, nothing stored.
	sh(t, mnt, "touch", "dir")
	if n, err := u.c.Node(ctx, dir.ID, nil); err != nil || n.Version != dir.Version {
		t.Errorf("touch of a folder changed it: %+v %v", n, err)
	}

	// A written file is uploaded with the time of its last write.
	before = time.Now().Truncate(time.Millisecond)
	if err := os.WriteFile(filepath.Join(mnt, "new.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	eventually(t, 10*time.Second, "new.txt uploaded", func() error {
		n, err := lookup(u.c, "/new.txt")
		if err != nil {
			return err
		}
		if mt := n.ContentProperties.ModTime; mt.Before(before) || mt.After(after) {
			return fmt.Errorf("mtime %v, want between %v and %v", mt, before, after)
		}
		return nil
	})

	// cp --preserve=timestamps sets the time on the open file: it goes
	// with the upload.
	src := filepath.Join(t.TempDir(), "kept.txt")
	if err := os.WriteFile(src, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	kept := time.Date(1999, 12, 31, 23, 59, 59, 500_000_000, time.UTC)
	if err := os.Chtimes(src, kept, kept); err != nil {
		t.Fatal(err)
	}
	sh(t, mnt, "cp", "--preserve=timestamps", src, filepath.Join(mnt, "dir", "kept.txt"))
	eventually(t, 10*time.Second, "kept.txt uploaded with its time", func() error {
		n, err := lookup(u.c, "/dir/kept.txt")
		if err != nil {
			return err
		}
		if mt := n.ContentProperties.ModTime; !mt.Equal(kept) {
			return fmt.Errorf("mtime %v, want %v", mt, kept)
		}
		return nil
	})
	if got := mtimeOf("dir/kept.txt"); !got.Equal(kept) {
		t.Errorf("dir/kept.txt mtime = %v, want %v", got, kept)
	}

	// touch -d of a new file: created with that time.
	sh(t, mnt, "touch", "-d", "2005-05-05 05:05:05 UTC", "fresh.txt")
	eventually(t, 10*time.Second, "fresh.txt uploaded with its time", func() error {
		n, err := lookup(u.c, "/fresh.txt")
		if err != nil {
			return err
		}
		if mt, want := n.ContentProperties.ModTime, time.Date(2005, 5, 5, 5, 5, 5, 0, time.UTC); !mt.Equal(want) {
			return fmt.Errorf("mtime %v, want %v", mt, want)
		}
		return nil
	})

	if code, stderr := stop(); code != 0 {
		t.Errorf("mount exited %d: %s", code, stderr)
	}
}
