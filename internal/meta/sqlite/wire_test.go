package sqlite_test

import (
	"database/sql"
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
// alone), then the way one from before node_feed would (its own rendering
// in nodes.wire): each time the stored JSON no longer counts, and
// BackfillWire renders the row again.
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
	seq := int64(2)
	stored := func() []byte {
		t.Helper()
		var out []byte
		err := s.View(ctx, func(tx meta.Tx) error {
			rows, err := tx.ChangedWire(ctx, u.ID, 1, 10, nil)
			if err != nil {
				return err
			}
			if len(rows) != 1 || rows[0].ChangeSeq != seq {
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
	fresh := func() []byte {
		t.Helper()
		var b []byte
		err := s.View(ctx, func(tx meta.Tx) error {
			n, err := tx.Node(ctx, u.ID, dir.ID)
			if err != nil {
				return err
			}
			b, err = httpapi.NodeWire(n)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got, want := stored(), fresh(); string(got) != string(want) || !strings.Contains(string(got), `"old writer"`) {
		t.Errorf("stored JSON after BackfillWire = %s, want %s", got, want)
	}
	feedRows := func() int {
		t.Helper()
		var n int
		if err := s.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM node_feed WHERE user_id = ?`, u.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := feedRows(); n != 2 {
		t.Errorf("node_feed holds %d rows for the root and the folder, want 2 (the old change number's row deleted)", n)
	}

	if _, err := s.Write.ExecContext(ctx, `UPDATE nodes SET name = 'middle writer', version = 3, change_seq = 3,
		wire = '{"stale":true}', wire_seq = 3 WHERE id = ?`, dir.ID); err != nil {
		t.Fatal(err)
	}
	seq = 3
	if got := stored(); got != nil {
		t.Errorf("stored JSON after a writer of nodes.wire = %s, want none", got)
	}
	if n, err := s.BackfillWire(ctx, 100); err != nil || n != 1 {
		t.Fatalf("BackfillWire = %d, %v; want 1, nil", n, err)
	}
	if got, want := stored(), fresh(); string(got) != string(want) || !strings.Contains(string(got), `"middle writer"`) {
		t.Errorf("stored JSON after BackfillWire = %s, want %s", got, want)
	}
	var wire sql.NullString
	if err := s.Read.QueryRowContext(ctx, `SELECT wire FROM nodes WHERE id = ?`, dir.ID).Scan(&wire); err != nil || wire.Valid {
		t.Errorf("nodes.wire after BackfillWire = %v, %v; want NULL", wire, err)
	}
	if n, err := s.BackfillWire(ctx, 100); err != nil || n != 0 {
		t.Errorf("second BackfillWire = %d, %v; want 0, nil", n, err)
	}
}
