package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/meta/metatest"
	"github.com/clouddrive/clouddrive/internal/meta/sqlite"
)

// open opens the store at path and closes it when the test ends.
func open(t *testing.T, path string) meta.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s) error: %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close(%s) error: %v", path, err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store {
		return open(t, filepath.Join(t.TempDir(), "meta.db"))
	})
}

func fixedTime() time.Time {
	return time.Date(2024, time.March, 1, 9, 30, 0, 123_000_000, time.UTC)
}

// TestReopen checks that committed data survives Close and a new Open of
// the same file (restart safety), and that opening a file whose
// migrations are all applied works, twice in a row.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "data", "meta.db") // Open creates data/

	u := &drive.User{ID: drive.NewID(), Name: "alice", CreatedAt: fixedTime(), Epoch: "e1", Quota: 1 << 30}
	root := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder, Status: drive.StatusAvailable,
		IsRoot: true, CreatedAt: fixedTime(), ModifiedAt: fixedTime(), CreatedBy: "clouddrive", Version: 1}
	u.RootID = root.ID
	f := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFile, Name: "a.txt", Status: drive.StatusAvailable,
		Labels: []string{"l"}, Parents: []string{root.ID}, CreatedAt: fixedTime(), ModifiedAt: fixedTime(),
		CreatedBy: "app", Version: 1, ChangeSeq: 1,
		Content: &drive.Content{BlobKey: "k", Size: 3, MD5: "900150983cd24fb0d6963f7d28e17f72",
			ContentType: "text/plain", Extension: "txt", Version: 1}}

	s1, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(new file) error: %v", err)
	}
	err = s1.Update(ctx, func(tx meta.Tx) error {
		if err := tx.CreateUser(ctx, u, root); err != nil {
			return err
		}
		if _, err := tx.NextSeq(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.InsertNode(ctx, f); err != nil {
			return err
		}
		if _, err := tx.PutSettingIfAbsent(ctx, "k", "v"); err != nil {
			return err
		}
		return tx.SetProperty(ctx, f.ID, "app", "color", "red")
	})
	if err != nil {
		t.Fatalf("Update error: %v", err)
	}
	if err := s1.Close(); err != nil {
		t.Fatalf("Close error: %v", err)
	}

	for i := range 2 {
		s := open(t, path)
		checkReopened(t, s, u, f)
		if i == 0 {
			if err := s.Close(); err != nil {
				t.Fatalf("Close error: %v", err)
			}
		}
	}
}

func checkReopened(t *testing.T, s meta.Store, u *drive.User, f *drive.Node) {
	t.Helper()
	ctx := t.Context()
	err := s.View(ctx, func(tx meta.Tx) error {
		gotU, err := tx.UserByName(ctx, u.Name)
		if err != nil {
			return err
		}
		if diff := gocmp.Diff(u, gotU); diff != "" {
			t.Errorf("UserByName(%s) after reopen mismatch (-want +got):\n%s", u.Name, diff)
		}
		gotF, err := tx.Node(ctx, u.ID, f.ID)
		if err != nil {
			return err
		}
		if diff := gocmp.Diff(f, gotF, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Node(%s) after reopen mismatch (-want +got):\n%s", f.Name, diff)
		}
		if seq, err := tx.CurrentSeq(ctx, u.ID); err != nil || seq != 1 {
			t.Errorf("CurrentSeq(alice) after reopen = %d, %v, want 1, nil", seq, err)
		}
		if v, err := tx.Setting(ctx, "k"); err != nil || v != "v" {
			t.Errorf("Setting(k) after reopen = %q, %v, want \"v\", nil", v, err)
		}
		props, err := tx.Properties(ctx, f.ID, "app")
		if err != nil {
			return err
		}
		if diff := gocmp.Diff(map[string]string{"color": "red"}, props); diff != "" {
			t.Errorf("Properties(a.txt, app) after reopen mismatch (-want +got):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View after reopen error: %v", err)
	}
	// The reopened store still enforces the live-name index.
	err = s.Update(ctx, func(tx meta.Tx) error {
		dup := *f
		dup.ID = drive.NewID()
		dup.Name = "A.TXT"
		return tx.InsertNode(ctx, &dup)
	})
	if !drive.Is(drive.Conflict, err) {
		t.Errorf("InsertNode(A.TXT beside a.txt) after reopen = %v, want kind %v", err, drive.Conflict)
	}
}

// TestOpenTwiceAtOnce checks that two stores may be open on one file at the
// same time, as when clouddrive admin runs beside the server: the second
// Open finds the migrations applied, and each store sees the other's
// commits.
func TestOpenTwiceAtOnce(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "meta.db")
	a := open(t, path)
	b := open(t, path)
	var got string
	err := a.Update(ctx, func(tx meta.Tx) error {
		var err error
		got, err = tx.PutSettingIfAbsent(ctx, "k", "from-a")
		return err
	})
	if err != nil || got != "from-a" {
		t.Fatalf("PutSettingIfAbsent(k, from-a) on a = %q, %v, want \"from-a\", nil", got, err)
	}
	err = b.Update(ctx, func(tx meta.Tx) error {
		var err error
		got, err = tx.PutSettingIfAbsent(ctx, "k", "from-b")
		return err
	})
	if err != nil || got != "from-a" {
		t.Errorf("PutSettingIfAbsent(k, from-b) on b = %q, %v, want \"from-a\", nil", got, err)
	}
	err = b.View(ctx, func(tx meta.Tx) error {
		var err error
		got, err = tx.Setting(ctx, "k")
		return err
	})
	if err != nil || got != "from-a" {
		t.Errorf("Setting(k) on b = %q, %v, want \"from-a\", nil", got, err)
	}
}

// TestBackgroundCheckpoint: with automatic checkpoints off on the write
// connection, the checkpointer still moves committed pages from the WAL
// into the database file.
func TestBackgroundCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := open(t, path)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	u := &drive.User{ID: drive.NewID(), Name: "alice", CreatedAt: fixedTime(), Epoch: "e1"}
	root := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder, Status: drive.StatusAvailable,
		IsRoot: true, CreatedAt: fixedTime(), ModifiedAt: fixedTime(), CreatedBy: "clouddrive", Version: 1}
	u.RootID = root.ID
	ctx := t.Context()
	if err := s.Update(ctx, func(tx meta.Tx) error { return tx.CreateUser(ctx, u, root) }); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		err := s.Update(ctx, func(tx meta.Tx) error {
			return tx.InsertNode(ctx, &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder,
				Name: fmt.Sprintf("folder-%04d-%s", i, strings.Repeat("x", 200)), Status: drive.StatusAvailable,
				Parents: []string{root.ID}, CreatedAt: fixedTime(), ModifiedAt: fixedTime(), CreatedBy: "app", Version: 1})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		after, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if after.Size() > before.Size()+64<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (was %d) after 300 commits: nothing checkpointed", after.Size(), before.Size())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
