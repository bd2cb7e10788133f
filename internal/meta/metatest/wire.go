package metatest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// WireStore is a store that keeps each node's rendering (meta.WireFunc)
// beside its row, as sqlstore.Store does.
type WireStore interface {
	meta.Store
	// SetWire sets the renderer; nil writes none.
	SetWire(f meta.WireFunc)
	// BackfillWire renders the rows that have no current rendering, batch
	// per transaction, and returns how many it wrote.
	BackfillWire(ctx context.Context, batch int) (int, error)
}

// RunWire checks the stored renderings of a WireStore: after every kind of
// node mutation, each node's stored JSON equals render applied to the node
// as Node reads it now, byte for byte; rows written without a renderer
// have none (so readers render them) until BackfillWire gives them theirs.
// newStore returns an empty store with render set.
func RunWire(t *testing.T, newStore func(t *testing.T) WireStore, render meta.WireFunc) {
	t.Helper()
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, s WireStore, render meta.WireFunc)
	}{
		{"WireAfterMutations", testWireAfterMutations},
		{"WireWithoutRenderer", testWireWithoutRenderer},
		{"WireRollback", testWireRollback},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t), render) })
	}
}

// checkWire compares every stored rendering of userID's nodes with a fresh
// render of the node; after says what happened last. It returns the
// number of nodes that had none.
func checkWire(t *testing.T, s meta.Store, render meta.WireFunc, userID, after string) (missing int) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		rows, err := tx.ChangedWire(ctx, userID, -1, 1000, nil)
		if err != nil {
			return err
		}
		nodes, err := tx.Changed(ctx, userID, -1, 1000)
		if err != nil {
			return err
		}
		if len(rows) != len(nodes) {
			return fmt.Errorf("ChangedWire returned %d rows, Changed %d", len(rows), len(nodes))
		}
		for i, w := range rows {
			n, err := tx.Node(ctx, userID, nodes[i].ID)
			if err != nil {
				return err
			}
			if w.ChangeSeq != n.ChangeSeq || (w.JSON != nil && w.Purged != (n.Status == drive.StatusPurged)) {
				t.Errorf("after %s: ChangedWire row %d = seq %d purged %v, want %s seq %d %s", after, i,
					w.ChangeSeq, w.Purged, n.ID, n.ChangeSeq, n.Status)
			}
			if w.JSON == nil {
				missing++
				continue
			}
			want, err := render(n)
			if err != nil {
				return err
			}
			if string(w.JSON) != string(want) {
				t.Errorf("after %s: stored JSON of %q differs from a fresh render\n got: %s\nwant: %s", after, n.Name, w.JSON, want)
			}
		}
		return nil
	})
	return missing
}

// mutator writes nodes of one user, each write taking the next change
// number as the node service does.
type mutator struct {
	t *testing.T
	s meta.Store
	u *drive.User
}

func (m *mutator) insert(n *drive.Node) {
	m.t.Helper()
	update(m.t, m.s, func(ctx context.Context, tx meta.Tx) error {
		seq, err := tx.NextSeq(ctx, m.u.ID)
		if err != nil {
			return err
		}
		n.ChangeSeq = seq
		return tx.InsertNode(ctx, n)
	})
}

// change loads node id, applies fn and writes it back.
func (m *mutator) change(id string, fn func(n *drive.Node)) {
	m.t.Helper()
	update(m.t, m.s, func(ctx context.Context, tx meta.Tx) error {
		n, err := tx.Node(ctx, m.u.ID, id)
		if err != nil {
			return err
		}
		seq, err := tx.NextSeq(ctx, m.u.ID)
		if err != nil {
			return err
		}
		fn(n)
		n.Version++
		n.ChangeSeq = seq
		return tx.UpdateNode(ctx, n)
	})
}

func testWireAfterMutations(t *testing.T, s WireStore, render meta.WireFunc) {
	u, root := createUser(t, s, "alice")
	if n := checkWire(t, s, render, u.ID, "CreateUser"); n != 0 {
		t.Errorf("after CreateUser: %d nodes without stored JSON", n)
	}
	m := &mutator{t: t, s: s, u: u}
	a := folder(u.ID, `a <b> & "c" \ d`, root.ID)
	a.Labels = nil
	m.insert(a)
	b := folder(u.ID, "ünïcode – \u2028 tab\t", root.ID)
	b.Description = "<script>alert('x')</script> & more"
	b.Labels = []string{"z", "a", "z"}
	m.insert(b)
	f := fullFile(u.ID, "IMG_0001.JPG", b.ID, a.ID, a.ID) // parents unsorted and repeated
	// Times below a millisecond are not kept; the rendering must not keep
	// them either.
	f.CreatedAt = f.CreatedAt.Add(123 * time.Microsecond)
	f.ModifiedAt = f.ModifiedAt.In(time.FixedZone("CET", 3600))
	m.insert(f)
	bare := folder(u.ID, "no content yet", a.ID)
	bare.Kind = drive.KindFile // a file without Content reads back with zero values
	m.insert(bare)
	root.Name = "the root keeps no name"
	steps := []struct {
		name string
		id   string
		fn   func(n *drive.Node)
	}{
		{"rename", f.ID, func(n *drive.Node) { n.Name = "renamed & <moved>.jpg" }},
		{"describe", f.ID, func(n *drive.Node) { n.Description = "new description" }},
		{"relabel", f.ID, func(n *drive.Node) { n.Labels = []string{"y", "x"} }},
		{"labels cleared", b.ID, func(n *drive.Node) { n.Labels = nil }},
		{"move", f.ID, func(n *drive.Node) { n.Parents = []string{root.ID} }},
		{"add parents", f.ID, func(n *drive.Node) { n.Parents = append(n.Parents, b.ID, a.ID) }},
		{"remove a parent", f.ID, func(n *drive.Node) { n.Parents = []string{a.ID} }},
		{"overwrite", f.ID, func(n *drive.Node) {
			n.Content.MD5, n.Content.Size, n.Content.Version = "0123456789abcdef0123456789abcdef", 1, n.Content.Version+1
			n.Content.ContentType, n.Content.Extension, n.Content.ContentDate = "text/plain", "txt", time.Time{}
		}},
		{"content date", f.ID, func(n *drive.Node) { n.Content.ContentDate = clock(time.Hour + 5*time.Microsecond) }},
		{"mtime", f.ID, func(n *drive.Node) {
			n.Content.ModTime = clock(-time.Hour + 7*time.Microsecond).In(time.FixedZone("X", 5400))
		}},
		{"mtime cleared", f.ID, func(n *drive.Node) { n.Content.ModTime = time.Time{} }},
		{"mtime at the epoch", bare.ID, func(n *drive.Node) { n.Content.ModTime = time.Unix(0, 0) }},
		{"content of a bare file", bare.ID, func(n *drive.Node) {
			n.Content = &drive.Content{BlobKey: "k", Size: 3, MD5: "d41d8cd98f00b204e9800998ecf8427e", Version: 1}
		}},
		{"image properties", f.ID, func(n *drive.Node) {
			n.Content.Image = &drive.ImageProps{Width: 4000, Height: 3000, Make: "Make <&>", Orientation: "1",
				DateTimeOriginal: clock(-time.Hour + 1500*time.Microsecond).In(time.FixedZone("X", -7200)), ExposureTime: "1/250"}
		}},
		{"video properties", bare.ID, func(n *drive.Node) {
			n.Content.Video = &drive.VideoProps{Width: 1920, Height: 1080, Duration: 12.345678901, VideoCodec: "h264", VideoFrameRate: 29.97}
		}},
		{"media cleared", f.ID, func(n *drive.Node) { n.Content.Image = nil }},
		{"trash", a.ID, func(n *drive.Node) { trashed(n, "") }},
		{"trash with its folder", bare.ID, func(n *drive.Node) { trashed(n, a.ID) }},
		{"restore", a.ID, func(n *drive.Node) { n.Status, n.TrashRoot = drive.StatusAvailable, "" }},
		{"purge", f.ID, func(n *drive.Node) { n.Status = drive.StatusPurged }},
		{"root touched", root.ID, func(n *drive.Node) { n.Name, n.ModifiedAt = "still none", clock(time.Hour) }},
		{"folder to root's child", b.ID, func(n *drive.Node) { n.Parents = []string{root.ID, root.ID} }},
	}
	for _, st := range steps {
		m.change(st.id, st.fn)
		if n := checkWire(t, s, render, u.ID, st.name); n != 0 {
			t.Errorf("after %s: %d nodes without stored JSON", st.name, n)
		}
	}
	// Properties and local ids are not part of the rendering.
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		if err := tx.SetProperty(ctx, b.ID, "app", "k", "v"); err != nil {
			return err
		}
		return tx.SetLocalID(ctx, u.ID, b.ID, "local-1")
	})
	checkWire(t, s, render, u.ID, "SetProperty and SetLocalID")
}

func testWireWithoutRenderer(t *testing.T, s WireStore, render meta.WireFunc) {
	u, root := createUser(t, s, "alice")
	m := &mutator{t: t, s: s, u: u}
	kept := folder(u.ID, "kept", root.ID)
	m.insert(kept)
	changed := folder(u.ID, "changed", root.ID)
	m.insert(changed)

	// What a store without a renderer writes has no stored JSON, and a
	// node it changes loses what it had: readers render those themselves.
	s.SetWire(nil)
	var plain []*drive.Node
	for i := range 5 {
		n := file(u.ID, fmt.Sprintf("plain-%d.txt", i), int64(i), "text/plain", root.ID)
		m.insert(n)
		plain = append(plain, n)
	}
	m.change(changed.ID, func(n *drive.Node) { n.Name = "changed without renderer" })
	if got := checkWire(t, s, render, u.ID, "writes without a renderer"); got != 6 {
		t.Errorf("after writes without a renderer: %d nodes without stored JSON, want 6", got)
	}

	s.SetWire(render)
	n, err := s.BackfillWire(t.Context(), 2) // several batches
	if err != nil {
		t.Fatalf("BackfillWire error: %v", err)
	}
	if n != 6 {
		t.Errorf("BackfillWire = %d, want 6", n)
	}
	if got := checkWire(t, s, render, u.ID, "BackfillWire"); got != 0 {
		t.Errorf("after BackfillWire: %d nodes without stored JSON", got)
	}
	if n, err := s.BackfillWire(t.Context(), 2); err != nil || n != 0 {
		t.Errorf("BackfillWire again = %d, %v; want 0, nil", n, err)
	}
	m.change(plain[0].ID, func(n *drive.Node) { n.Description = "after backfill" })
	checkWire(t, s, render, u.ID, "an update after BackfillWire")
}

func testWireRollback(t *testing.T, s WireStore, render meta.WireFunc) {
	u, root := createUser(t, s, "alice")
	m := &mutator{t: t, s: s, u: u}
	a := folder(u.ID, "a", root.ID)
	m.insert(a)
	// A write that fails takes its rendering with it.
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		n, err := tx.Node(ctx, u.ID, a.ID)
		if err != nil {
			return err
		}
		n.Name = "never"
		if err := tx.UpdateNode(ctx, n); err != nil {
			return err
		}
		return drive.E("metatest", drive.Conflict, "rolled back")
	})
	wantKind(t, "Update(rolled back)", err, drive.Conflict)
	checkWire(t, s, render, u.ID, "a rolled back update")
}

// CheckWireMigration fills s (renderer set) with a random history of
// writes over several users, then runs redo, which must take the schema
// back to before node_feed (the renderings in nodes.wire), call between
// there, and migrate up again. db is s's database: between the two,
// every node must have its rendering in nodes.wire; after, none, and
// every node's rendering must come through as it was, none left to
// BackfillWire, and each must still equal a fresh render of its node.
func CheckWireMigration(t *testing.T, s WireStore, db *sql.DB, render meta.WireFunc, redo func(t *testing.T, between func(t *testing.T))) {
	t.Helper()
	users := randomUsedOps(t, s, 150, false)
	snapshot := func() [][]meta.WireNode {
		t.Helper()
		out := make([][]meta.WireNode, len(users))
		view(t, s, func(ctx context.Context, tx meta.Tx) error {
			for i, id := range users {
				rows, err := tx.ChangedWire(ctx, id, -1, 100000, nil)
				if err != nil {
					return err
				}
				out[i] = rows
			}
			return nil
		})
		return out
	}
	before := snapshot()
	for i, rows := range before {
		if checkWire(t, s, render, users[i], "the random writes") != 0 {
			t.Fatalf("user %d: nodes without stored JSON before the migration", i)
		}
		if len(rows) < 2 {
			t.Fatalf("user %d has %d nodes, want several", i, len(rows))
		}
	}
	redo(t, func(t *testing.T) {
		var kept int
		if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM nodes WHERE wire IS NOT NULL AND wire_seq = change_seq`).Scan(&kept); err != nil || kept == 0 {
			t.Fatalf("nodes with their rendering in nodes.wire after migrating down = %d, %v; want all", kept, err)
		}
	})
	var left int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM nodes WHERE wire IS NOT NULL`).Scan(&left); err != nil || left != 0 {
		t.Errorf("nodes with nodes.wire after the migration = %d, %v; want 0", left, err)
	}
	after := snapshot()
	for i := range users {
		if len(after[i]) != len(before[i]) {
			t.Errorf("user %d: %d nodes after the migration, %d before", i, len(after[i]), len(before[i]))
			continue
		}
		for j, w := range after[i] {
			b := before[i][j]
			if w.ChangeSeq != b.ChangeSeq || w.Purged != b.Purged || string(w.JSON) != string(b.JSON) {
				t.Errorf("user %d row %d after the migration = seq %d purged %v %s, want seq %d purged %v %s",
					i, j, w.ChangeSeq, w.Purged, w.JSON, b.ChangeSeq, b.Purged, b.JSON)
			}
		}
		if n := checkWire(t, s, render, users[i], "the migration"); n != 0 {
			t.Errorf("user %d: %d nodes without stored JSON after the migration", i, n)
		}
	}
	if n, err := s.BackfillWire(t.Context(), 100); err != nil || n != 0 {
		t.Errorf("BackfillWire after the migration = %d, %v; want 0, nil", n, err)
	}
}

// RedoMigrations migrates p's database down to version to, runs between
// (if set), and up again, failing t on any error.
func RedoMigrations(t *testing.T, p *goose.Provider, to int64, between func(t *testing.T)) {
	t.Helper()
	if _, err := p.DownTo(t.Context(), to); err != nil {
		t.Fatalf("migrate down to %d error: %v", to, err)
	}
	if between != nil {
		between(t)
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatalf("migrate up error: %v", err)
	}
}
