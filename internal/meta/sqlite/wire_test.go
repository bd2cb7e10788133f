package sqlite_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/httpapi"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/meta/metatest"
	"github.com/clouddrive/clouddrive/internal/meta/sqlite"
	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
)

// openWire opens a store at path that keeps the changes feed's JSON of
// every node (httpapi.NodeWire), as the server opens it.
func openWire(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s) error: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.SetWire(httpapi.NodeWire)
	return s
}

func TestWire(t *testing.T) {
	metatest.RunWire(t, func(t *testing.T) metatest.WireStore {
		return openWire(t, filepath.Join(t.TempDir(), "meta.db"))
	}, httpapi.NodeWire)
}

// TestWireStaleAfterOldWriter changes a row the way a server from before
// the wire column would (a new change number and name, the rendering left
// alone): the stored JSON no longer counts, and BackfillWire renders the
// row again.
func TestWireStaleAfterOldWriter(t *testing.T) {
	ctx := t.Context()
	s := openWire(t, filepath.Join(t.TempDir(), "meta.db"))
	now := fixedTime()
	u := &drive.User{ID: drive.NewID(), Name: "alice", Epoch: "e", CreatedAt: now}
	root := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder, Status: drive.StatusAvailable,
		IsRoot: true, CreatedAt: now, ModifiedAt: now, CreatedBy: "test", Version: 1}
	u.RootID = root.ID
	dir := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder, Name: "dir", Status: drive.StatusAvailable,
		Parents: []string{root.ID}, CreatedAt: now, ModifiedAt: now, CreatedBy: "test", Version: 1, ChangeSeq: 1}
	err := s.Update(ctx, func(tx meta.Tx) error {
		if err := tx.CreateUser(ctx, u, root); err != nil {
			return err
		}
		return tx.InsertNode(ctx, dir)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write.ExecContext(ctx, `UPDATE nodes SET name = 'old writer', version = 2, change_seq = 2 WHERE id = ?`, dir.ID); err != nil {
		t.Fatal(err)
	}
	stored := func() []byte {
		t.Helper()
		var out []byte
		err := s.View(ctx, func(tx meta.Tx) error {
			rows, err := tx.ChangedWire(ctx, u.ID, 1, 10)
			if err != nil {
				return err
			}
			if len(rows) != 1 || rows[0].ChangeSeq != 2 {
				t.Fatalf("ChangedWire(after 1) = %+v, want the folder", rows)
			}
			out = rows[0].JSON
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := stored(); got != nil {
		t.Errorf("stored JSON after an old writer's update = %s, want none", got)
	}
	if n, err := s.BackfillWire(ctx, 100); err != nil || n != 1 {
		t.Fatalf("BackfillWire = %d, %v; want 1, nil", n, err)
	}
	var fresh []byte
	err = s.View(ctx, func(tx meta.Tx) error {
		n, err := tx.Node(ctx, u.ID, dir.ID)
		if err != nil {
			return err
		}
		fresh, err = httpapi.NodeWire(n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := stored(); string(got) != string(fresh) || !strings.Contains(string(got), `"old writer"`) {
		t.Errorf("stored JSON after BackfillWire = %s, want %s", got, fresh)
	}
}
