package metatest

import (
	"context"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// fullFile returns a file with every field of drive.Node set (Properties
// aside, which Node does not load).
func fullFile(userID, name string, parents ...string) *drive.Node {
	n := file(userID, name, 123456789, "image/jpeg", parents...)
	n.Description = "holiday – día de playa"
	n.Labels = []string{"beach", "2024", "ünïcode"}
	n.CreatedAt = clock(-48*time.Hour + 7*time.Millisecond)
	n.ModifiedAt = clock(3*time.Hour + 999*time.Millisecond)
	n.CreatedBy = "amzn1.application.test"
	n.Version = 7
	n.ChangeSeq = 41
	n.Content.Extension = "jpg"
	n.Content.Version = 3
	n.Content.ContentDate = clock(-365*24*time.Hour + 1*time.Millisecond)
	n.Content.ModTime = clock(-30*24*time.Hour + 456*time.Millisecond)
	return n
}

func testNodeRoundTrip(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	a := folder(u.ID, "a", root.ID)
	b := folder(u.ID, "b", root.ID)
	c := folder(u.ID, "c", root.ID)
	a.Description = "folder a"
	a.Labels = []string{"x"}
	insert(t, s, a, b, c)

	f := fullFile(u.ID, "IMG_0001.JPG", c.ID, a.ID, b.ID)
	trashedDir := trashed(folder(u.ID, "old", root.ID), "")
	g := trashed(fullFile(u.ID, "inside-trash.jpg", trashedDir.ID), trashedDir.ID)
	g.Content.ContentDate = time.Time{}       // unknown content date
	g.Content.ModTime = time.Unix(0, 0).UTC() // the Unix epoch is a time, not "none"
	g.Labels = nil
	insert(t, s, f, trashedDir, g)

	for _, want := range []*drive.Node{a, b, c, f, trashedDir, g} {
		got, err := getNode(t, s, u.ID, want.ID)
		if err != nil {
			t.Errorf("Node(%s %q) error: %v", want.ID, want.Name, err)
			continue
		}
		if diff := diffNode(want, got); diff != "" {
			t.Errorf("Node(%q) mismatch (-want +got):\n%s", want.Name, diff)
		}
		checkUTC(t, "Node("+want.Name+")", got)
	}
}

func testUpdateNodeRoundTrip(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	a := folder(u.ID, "a", root.ID)
	b := folder(u.ID, "b", root.ID)
	f := fullFile(u.ID, "f.jpg", a.ID, b.ID)
	insert(t, s, a, b, f)

	upd := norm(f)
	upd.Name = "Renamed.PNG"
	upd.Description = ""
	upd.Labels = []string{"new"}
	upd.Parents = []string{root.ID}
	upd.ModifiedAt = clock(10*time.Hour + 5*time.Millisecond)
	upd.Version = 8
	upd.ChangeSeq = 99
	upd.Status = drive.StatusTrash
	upd.TrashRoot = upd.ID
	upd.Content = &drive.Content{
		BlobKey:     "blob-v2",
		Size:        1,
		MD5:         "0cc175b9c0f1b6a831c399e269772661",
		ContentType: "image/png",
		Extension:   "png",
		Version:     4,
		// no ModTime: an overwrite without one clears the old
	}
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, upd) })
	got, err := getNode(t, s, u.ID, f.ID)
	if err != nil {
		t.Fatalf("Node(%s) after UpdateNode error: %v", f.ID, err)
	}
	if diff := diffNode(upd, got); diff != "" {
		t.Errorf("Node after UpdateNode mismatch (-want +got):\n%s", diff)
	}
	checkUTC(t, "Node(updated)", got)

	// The old parents lost the child: its name is free there again.
	var inA string
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		inA, err = tx.ChildByName(ctx, a.ID, drive.NameKey("f.jpg"))
		return err
	})
	if inA != "" {
		t.Errorf("ChildByName(old parent, f.jpg) after moving = %q, want \"\"", inA)
	}

	missing := folder(u.ID, "ghost", root.ID)
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, missing) })
	wantKind(t, "UpdateNode(missing)", err, drive.NotFound)
}

// testModTimeRoundTrip: a file's modification time is kept at millisecond
// precision in UTC whatever zone it was given in, replaced and cleared by
// UpdateNode, and is never stored for folders.
func testModTimeRoundTrip(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	f := file(u.ID, "notes.txt", 5, "text/plain", root.ID)
	f.Content.ModTime = time.Date(2026, time.December, 7, 12, 0, 0, 123_456_789, time.FixedZone("CET", 3600))
	d := folder(u.ID, "dir", root.ID)
	insert(t, s, f, d)
	read := func(id string) *drive.Node {
		t.Helper()
		n, err := getNode(t, s, u.ID, id)
		if err != nil {
			t.Fatalf("Node(%s) error: %v", id, err)
		}
		return n
	}
	got := read(f.ID).Content.ModTime
	if want := time.Date(2026, time.December, 7, 11, 0, 0, 123_000_000, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("ModTime after InsertNode = %v, want %v", got, want)
	}
	if c := read(d.ID).Content; c != nil {
		t.Errorf("folder Content = %+v, want nil", c)
	}

	for _, tc := range []struct {
		name string
		set  time.Time
	}{
		{"replaced", clock(-5 * 365 * 24 * time.Hour)},
		{"before the epoch", time.Date(1969, time.July, 20, 20, 17, 40, 999_000_000, time.UTC)},
		{"cleared", time.Time{}},
	} {
		n := read(f.ID)
		n.Content.ModTime = tc.set
		n.Version++
		update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, n) })
		if got := read(f.ID).Content.ModTime; !got.Equal(tc.set) || got.IsZero() != tc.set.IsZero() {
			t.Errorf("%s: ModTime = %v, want %v", tc.name, got, tc.set)
		}
	}
}

func testNodeMissing(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	_, err := getNode(t, s, u.ID, drive.NewID())
	wantKind(t, "Node(missing id)", err, drive.NotFound)
	_, err = getNode(t, s, drive.NewID(), u.RootID)
	wantKind(t, "Node(missing user, root id)", err, drive.NotFound)
}

func testNodeOtherUser(t *testing.T, s meta.Store) {
	alice, aliceRoot := createUser(t, s, "alice")
	bob, _ := createUser(t, s, "bob")
	f := file(alice.ID, "secret.txt", 1, "text/plain", aliceRoot.ID)
	insert(t, s, f)

	for _, id := range []string{f.ID, aliceRoot.ID} {
		_, err := getNode(t, s, bob.ID, id)
		wantKind(t, "Node(bob, alice's "+id+")", err, drive.NotFound)
	}

	// Bob cannot overwrite Alice's node either.
	steal := norm(f)
	steal.UserID = bob.ID
	steal.Name = "stolen.txt"
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, steal) })
	wantKind(t, "UpdateNode(bob, alice's node)", err, drive.NotFound)
	got, err := getNode(t, s, alice.ID, f.ID)
	if err != nil {
		t.Fatalf("Node(alice, %s) error: %v", f.ID, err)
	}
	if diff := diffNode(f, got); diff != "" {
		t.Errorf("Node(alice) after bob's UpdateNode mismatch (-want +got):\n%s", diff)
	}
}

// insertConflict inserts dup, expects a Conflict naming existing, and
// checks that the failed transaction left nothing behind.
func insertConflict(t *testing.T, s meta.Store, dup *drive.Node, existing string) {
	t.Helper()
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.InsertNode(ctx, dup) })
	wantConflict(t, "InsertNode("+dup.Name+")", err, existing)
	_, err = getNode(t, s, dup.UserID, dup.ID)
	wantKind(t, "Node(rejected "+dup.Name+")", err, drive.NotFound)
}

func testLiveNameConflict(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	existing := file(u.ID, "Report.pdf", 10, "application/pdf", root.ID)
	insert(t, s, existing)

	insertConflict(t, s, file(u.ID, "Report.pdf", 20, "application/pdf", root.ID), existing.ID)
	insertConflict(t, s, folder(u.ID, "rEPORT.PDF", root.ID), existing.ID)
}

func testLiveNameUnicodeFold(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	existing := folder(u.ID, "Straße", root.ID)
	insert(t, s, existing)
	insertConflict(t, s, folder(u.ID, "STRASSE", root.ID), existing.ID)
	insertConflict(t, s, folder(u.ID, "strasse", root.ID), existing.ID)

	greek := file(u.ID, "ΣΊΣΥΦΟΣ.txt", 1, "text/plain", root.ID)
	insert(t, s, greek)
	insertConflict(t, s, file(u.ID, "σίσυφος.txt", 1, "text/plain", root.ID), greek.ID)
}

func testLiveNameTrashNoConflict(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	old := trashed(file(u.ID, "notes.txt", 1, "text/plain", root.ID), "")
	purged := file(u.ID, "NOTES.TXT", 1, "text/plain", root.ID)
	purged.Status = drive.StatusPurged
	insert(t, s, old, purged)

	live := file(u.ID, "Notes.txt", 2, "text/plain", root.ID)
	if err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.InsertNode(ctx, live) }); err != nil {
		t.Fatalf("InsertNode(AVAILABLE beside TRASH and PURGED of the same name) = %v, want nil", err)
	}
	// A second trashed node of that name is fine too.
	old2 := trashed(file(u.ID, "notes.txt", 3, "text/plain", root.ID), "")
	if err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.InsertNode(ctx, old2) }); err != nil {
		t.Fatalf("InsertNode(TRASH beside AVAILABLE of the same name) = %v, want nil", err)
	}
	// Trashing the live one is allowed while other trashed ones exist.
	gone := norm(live)
	gone.Status = drive.StatusTrash
	gone.TrashRoot = gone.ID
	if err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, gone) }); err != nil {
		t.Fatalf("UpdateNode(AVAILABLE -> TRASH) = %v, want nil", err)
	}
}

func testLiveNameRestoreConflict(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	old := trashed(folder(u.ID, "Photos", root.ID), "")
	insert(t, s, old)
	live := folder(u.ID, "photos", root.ID)
	insert(t, s, live)

	restore := norm(old)
	restore.Status = drive.StatusAvailable
	restore.TrashRoot = ""
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, restore) })
	wantConflict(t, "UpdateNode(restore into a clash)", err, live.ID)

	got, err := getNode(t, s, u.ID, old.ID)
	if err != nil {
		t.Fatalf("Node(%s) error: %v", old.ID, err)
	}
	if diff := diffNode(old, got); diff != "" {
		t.Errorf("Node after rejected restore mismatch (-want +got):\n%s", diff)
	}

	// Once the clash is gone, the restore succeeds.
	gone := norm(live)
	gone.Status = drive.StatusTrash
	gone.TrashRoot = gone.ID
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, gone) })
	if err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, restore) }); err != nil {
		t.Errorf("UpdateNode(restore without clash) = %v, want nil", err)
	}
}

func testLiveNameRenameConflict(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	a := file(u.ID, "a.txt", 1, "text/plain", root.ID)
	b := file(u.ID, "b.txt", 1, "text/plain", root.ID)
	insert(t, s, a, b)

	rename := norm(b)
	rename.Name = "A.TXT"
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, rename) })
	wantConflict(t, "UpdateNode(rename b.txt to A.TXT)", err, a.ID)

	// Changing only the case of a node's own name is no clash.
	self := norm(a)
	self.Name = "A.txt"
	if err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, self) }); err != nil {
		t.Errorf("UpdateNode(rename a.txt to A.txt) = %v, want nil", err)
	}
}

func testLiveNameDifferentParents(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	a := folder(u.ID, "a", root.ID)
	b := folder(u.ID, "b", root.ID)
	insert(t, s, a, b)
	inA := file(u.ID, "same.txt", 1, "text/plain", a.ID)
	inB := file(u.ID, "same.txt", 1, "text/plain", b.ID)
	if err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		if err := tx.InsertNode(ctx, inA); err != nil {
			return err
		}
		return tx.InsertNode(ctx, inB)
	}); err != nil {
		t.Fatalf("InsertNode(same name in different parents) = %v, want nil", err)
	}

	// Another user's folder of the same name under their own root is fine.
	bob, bobRoot := createUser(t, s, "bob")
	insert(t, s, folder(bob.ID, "a", bobRoot.ID))
}

func testLiveNameMultiParent(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	a := folder(u.ID, "a", root.ID)
	b := folder(u.ID, "b", root.ID)
	c := folder(u.ID, "c", root.ID)
	insert(t, s, a, b, c)
	inA := file(u.ID, "x.txt", 1, "text/plain", a.ID)
	inB := file(u.ID, "y.txt", 1, "text/plain", b.ID)
	insert(t, s, inA, inB)

	// A new node with two parents clashes in either one.
	insertConflict(t, s, file(u.ID, "X.txt", 1, "text/plain", a.ID, c.ID), inA.ID)
	insertConflict(t, s, file(u.ID, "X.txt", 1, "text/plain", c.ID, a.ID), inA.ID)
	insertConflict(t, s, file(u.ID, "Y.TXT", 1, "text/plain", c.ID, b.ID), inB.ID)

	// A node living in a and c blocks its name in both.
	both := file(u.ID, "z.txt", 1, "text/plain", a.ID, c.ID)
	insert(t, s, both)
	insertConflict(t, s, file(u.ID, "z.txt", 1, "text/plain", c.ID), both.ID)
	insertConflict(t, s, file(u.ID, "Z.txt", 1, "text/plain", a.ID), both.ID)

	// Adding a parent where the name is taken clashes too.
	addParent := norm(inB)
	addParent.Parents = []string{b.ID, a.ID}
	addParent.Name = "x.txt"
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, addParent) })
	wantConflict(t, "UpdateNode(add parent a to a node named x.txt)", err, inA.ID)
}

func childByName(t *testing.T, s meta.Store, parentID, name string) string {
	t.Helper()
	var id string
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		id, err = tx.ChildByName(ctx, parentID, drive.NameKey(name))
		return err
	})
	return id
}

func testChildByName(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	dir := folder(u.ID, "Docs", root.ID)
	live := file(u.ID, "Straße.txt", 1, "text/plain", dir.ID)
	gone := trashed(file(u.ID, "old.txt", 1, "text/plain", dir.ID), "")
	shared := file(u.ID, "shared.txt", 1, "text/plain", root.ID, dir.ID)
	insert(t, s, dir, live, gone, shared)

	for _, tt := range []struct {
		parent, name, want string
	}{
		{root.ID, "docs", dir.ID},
		{root.ID, "DOCS", dir.ID},
		{dir.ID, "STRASSE.TXT", live.ID},
		{dir.ID, "Straße.txt", live.ID},
		{dir.ID, "old.txt", ""},
		{dir.ID, "missing.txt", ""},
		{dir.ID, "shared.txt", shared.ID},
		{root.ID, "shared.txt", shared.ID},
		{root.ID, "Straße.txt", ""},
		{drive.NewID(), "docs", ""},
	} {
		if got := childByName(t, s, tt.parent, tt.name); got != tt.want {
			t.Errorf("ChildByName(%s, NameKey(%q)) = %q, want %q", tt.parent, tt.name, got, tt.want)
		}
	}
}

func testNodeByMD5(t *testing.T, s meta.Store) {
	alice, aliceRoot := createUser(t, s, "alice")
	bob, bobRoot := createUser(t, s, "bob")
	live := file(alice.ID, "live.txt", 1, "text/plain", aliceRoot.ID)
	gone := trashed(file(alice.ID, "gone.txt", 1, "text/plain", aliceRoot.ID), "")
	pending := file(alice.ID, "pending.txt", 1, "text/plain", aliceRoot.ID)
	pending.Status = drive.StatusPending
	purged := file(alice.ID, "purged.txt", 1, "text/plain", aliceRoot.ID)
	purged.Status = drive.StatusPurged
	bobs := file(bob.ID, "bobs.txt", 1, "text/plain", bobRoot.ID)
	insert(t, s, live, gone, pending, purged, bobs)

	for _, tt := range []struct {
		user, md5, want string
	}{
		{alice.ID, live.Content.MD5, live.ID},
		{alice.ID, gone.Content.MD5, ""},
		{alice.ID, pending.Content.MD5, ""},
		{alice.ID, purged.Content.MD5, ""},
		{alice.ID, bobs.Content.MD5, ""},
		{alice.ID, "d41d8cd98f00b204e9800998ecf8427e", ""},
		{bob.ID, bobs.Content.MD5, bobs.ID},
		{bob.ID, live.Content.MD5, ""},
	} {
		var got string
		view(t, s, func(ctx context.Context, tx meta.Tx) error {
			var err error
			got, err = tx.NodeByMD5(ctx, tt.user, tt.md5)
			return err
		})
		if got != tt.want {
			t.Errorf("NodeByMD5(%s, %s) = %q, want %q", tt.user, tt.md5, got, tt.want)
		}
	}

	// With two live copies either one may come back.
	copy2 := file(alice.ID, "live.txt", 1, "text/plain", aliceRoot.ID)
	copy2.Name = "copy.txt"
	copy2.Content.MD5 = live.Content.MD5
	insert(t, s, copy2)
	var got string
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		got, err = tx.NodeByMD5(ctx, alice.ID, live.Content.MD5)
		return err
	})
	if got != live.ID && got != copy2.ID {
		t.Errorf("NodeByMD5(two copies) = %q, want %q or %q", got, live.ID, copy2.ID)
	}
}

func nodeByLocalID(t *testing.T, s meta.Store, userID, localID string) string {
	t.Helper()
	var id string
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		id, err = tx.NodeByLocalID(ctx, userID, localID)
		return err
	})
	return id
}

func testLocalID(t *testing.T, s meta.Store) {
	alice, aliceRoot := createUser(t, s, "alice")
	bob, bobRoot := createUser(t, s, "bob")
	a := file(alice.ID, "a.txt", 1, "text/plain", aliceRoot.ID)
	b := file(bob.ID, "b.txt", 1, "text/plain", bobRoot.ID)
	insert(t, s, a, b)
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		if err := tx.SetLocalID(ctx, alice.ID, a.ID, "local-1"); err != nil {
			return err
		}
		// Local ids are per user: Bob may use the same one.
		return tx.SetLocalID(ctx, bob.ID, b.ID, "local-1")
	})
	for _, tt := range []struct {
		user, localID, want string
	}{
		{alice.ID, "local-1", a.ID},
		{bob.ID, "local-1", b.ID},
		{alice.ID, "LOCAL-1", ""},
		{alice.ID, "local-2", ""},
		{drive.NewID(), "local-1", ""},
	} {
		if got := nodeByLocalID(t, s, tt.user, tt.localID); got != tt.want {
			t.Errorf("NodeByLocalID(%s, %q) = %q, want %q", tt.user, tt.localID, got, tt.want)
		}
	}
	// Setting the same local id on the same node again is no conflict.
	if err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.SetLocalID(ctx, alice.ID, a.ID, "local-1")
	}); err != nil {
		t.Errorf("SetLocalID(same node, same localId) = %v, want nil", err)
	}
}

func testLocalIDConflict(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	a := file(u.ID, "a.txt", 1, "text/plain", root.ID)
	b := file(u.ID, "b.txt", 1, "text/plain", root.ID)
	insert(t, s, a, b)
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.SetLocalID(ctx, u.ID, a.ID, "dup") })
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.SetLocalID(ctx, u.ID, b.ID, "dup") })
	wantKind(t, "SetLocalID(second node, dup)", err, drive.Conflict)
	if got := nodeByLocalID(t, s, u.ID, "dup"); got != a.ID {
		t.Errorf("NodeByLocalID(dup) after conflict = %q, want %q", got, a.ID)
	}
}

// sortLinks orders links by child, then parent.
func sortLinks(ls []meta.Link) []meta.Link {
	out := slices.Clone(ls)
	slices.SortFunc(out, func(x, y meta.Link) int {
		if x.ChildID != y.ChildID {
			if x.ChildID < y.ChildID {
				return -1
			}
			return 1
		}
		if x.ParentID < y.ParentID {
			return -1
		}
		if x.ParentID > y.ParentID {
			return 1
		}
		return 0
	})
	return out
}

func subtree(t *testing.T, s meta.Store, userID, rootID string) []meta.Link {
	t.Helper()
	var ls []meta.Link
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		ls, err = tx.Subtree(ctx, userID, rootID)
		return err
	})
	return ls
}

func testSubtree(t *testing.T, s meta.Store) {
	// root
	// ├── a
	// │   ├── f1
	// │   └── m (also in b)
	// │       ├── f2
	// │       └── sub (TRASH)
	// │           └── f4 (TRASH)
	// └── b
	//     ├── m
	//     └── f3 (TRASH)
	u, root := createUser(t, s, "alice")
	bob, bobRoot := createUser(t, s, "bob")
	a := folder(u.ID, "a", root.ID)
	b := folder(u.ID, "b", root.ID)
	f1 := file(u.ID, "f1", 1, "text/plain", a.ID)
	m := folder(u.ID, "m", a.ID, b.ID)
	f2 := file(u.ID, "f2", 1, "text/plain", m.ID)
	sub := trashed(folder(u.ID, "sub", m.ID), "")
	f4 := trashed(file(u.ID, "f4", 1, "text/plain", sub.ID), sub.ID)
	f3 := trashed(file(u.ID, "f3", 1, "text/plain", b.ID), "")
	insert(t, s, a, b, f1, m, f2, sub, f4, f3)
	insert(t, s, folder(bob.ID, "bobs", bobRoot.ID))

	link := func(child, parent *drive.Node) meta.Link {
		return meta.Link{ChildID: child.ID, ChildStatus: child.Status, ParentID: parent.ID, ParentStatus: parent.Status}
	}
	for _, tt := range []struct {
		name string
		user string
		root *drive.Node
		want []meta.Link
	}{
		{"a", u.ID, a, []meta.Link{
			link(f1, a), link(m, a), link(m, b), link(f2, m), link(sub, m), link(f4, sub),
		}},
		{"b", u.ID, b, []meta.Link{
			link(m, a), link(m, b), link(f2, m), link(sub, m), link(f4, sub), link(f3, b),
		}},
		{"root", u.ID, root, []meta.Link{
			link(a, root), link(b, root), link(f1, a), link(m, a), link(m, b),
			link(f2, m), link(sub, m), link(f4, sub), link(f3, b),
		}},
		{"m", u.ID, m, []meta.Link{link(f2, m), link(sub, m), link(f4, sub)}},
		{"leaf", u.ID, f2, nil},
		{"other user", bob.ID, a, nil},
	} {
		got := sortLinks(subtree(t, s, tt.user, tt.root.ID))
		want := sortLinks(tt.want)
		if diff := gocmp.Diff(want, got, nodeOpts()); diff != "" {
			t.Errorf("Subtree(%s) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	for _, l := range subtree(t, s, u.ID, root.ID) {
		if l.ChildID == root.ID {
			t.Errorf("Subtree(root) contains the root itself: %+v", l)
		}
	}
}

func testTrashedWith(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	bob, _ := createUser(t, s, "bob")
	dir := trashed(folder(u.ID, "dir", root.ID), "")
	c1 := trashed(file(u.ID, "c1", 1, "text/plain", dir.ID), dir.ID)
	c2 := trashed(folder(u.ID, "c2", dir.ID), dir.ID)
	c3 := trashed(file(u.ID, "c3", 1, "text/plain", c2.ID), dir.ID)
	own := trashed(file(u.ID, "own", 1, "text/plain", dir.ID), "") // trashed on its own before
	live := file(u.ID, "live", 1, "text/plain", root.ID)
	insert(t, s, dir, c1, c2, c3, own, live)

	trashedWith := func(userID, rootID string) []string {
		t.Helper()
		var ids []string
		view(t, s, func(ctx context.Context, tx meta.Tx) error {
			var err error
			ids, err = tx.TrashedWith(ctx, userID, rootID)
			return err
		})
		return ids
	}
	for _, tt := range []struct {
		name, user, root string
		want             []string
	}{
		{"dir", u.ID, dir.ID, []string{c1.ID, c2.ID, c3.ID}},
		{"own", u.ID, own.ID, nil},
		{"live", u.ID, live.ID, nil},
		{"other user", bob.ID, dir.ID, nil},
	} {
		got := sortedIDs(trashedWith(tt.user, tt.root)...)
		if diff := gocmp.Diff(sortedIDs(tt.want...), got, nodeOpts()); diff != "" {
			t.Errorf("TrashedWith(%s) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}
