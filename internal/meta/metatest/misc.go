package metatest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

func changed(t *testing.T, s meta.Store, userID string, after int64, limit int) []*drive.Node {
	t.Helper()
	var nodes []*drive.Node
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		nodes, err = tx.Changed(ctx, userID, after, limit)
		return err
	})
	return nodes
}

func testChanged(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	bob, bobRoot := createUser(t, s, "bob")
	dir := folder(u.ID, "dir", root.ID)
	dir.ChangeSeq = 1
	n := []*drive.Node{dir}
	for seq := int64(2); seq <= 6; seq++ {
		f := file(u.ID, "f"+string(rune('0'+seq)), seq, "text/plain", dir.ID, root.ID)
		f.ChangeSeq = seq
		n = append(n, f)
	}
	n[2].Status = drive.StatusTrash
	n[2].TrashRoot = n[2].ID
	n[3].Status = drive.StatusPurged
	// Insert out of order: Changed orders by ChangeSeq, not by insertion.
	insert(t, s, n[4], n[1], n[5], n[0], n[3], n[2])
	bobs := file(bob.ID, "bobs", 1, "text/plain", bobRoot.ID)
	bobs.ChangeSeq = 3
	insert(t, s, bobs)

	for _, tt := range []struct {
		after int64
		limit int
		want  []*drive.Node
	}{
		{0, 100, n},
		{2, 3, n[2:5]},
		{5, 10, n[5:]},
		{6, 10, nil},
		{0, 1, n[:1]},
	} {
		got := changed(t, s, u.ID, tt.after, tt.limit)
		if diff := diffNodes(tt.want, got); diff != "" {
			t.Errorf("Changed(alice, %d, %d) mismatch (-want +got):\n%s", tt.after, tt.limit, diff)
		}
	}
	if got := changed(t, s, bob.ID, 0, 100); len(got) != 1 || got[0].ID != bobs.ID {
		t.Errorf("Changed(bob, 0, 100) = %q, want [%s]", ids(got), bobs.ID)
	}

	// A later mutation moves a node to the end.
	bumped := norm(n[0])
	bumped.ChangeSeq = 7
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, bumped) })
	got := changed(t, s, u.ID, 4, 100)
	if diff := gocmp.Diff([]string{n[4].ID, n[5].ID, bumped.ID}, ids(got)); diff != "" {
		t.Errorf("Changed(alice, 4, 100) after bumping %s mismatch (-want +got):\n%s", bumped.Name, diff)
	}
}

func testAppendChange(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	f := file(u.ID, "f", 1, "text/plain", root.ID)
	insert(t, s, f)
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for _, ev := range []drive.Event{drive.EventCreated, drive.EventContentUpdated, drive.EventTrashed} {
			seq, err := tx.NextSeq(ctx, u.ID)
			if err != nil {
				return err
			}
			if err := tx.AppendChange(ctx, drive.Change{UserID: u.ID, Seq: seq, NodeID: f.ID, Event: ev, At: clock(time.Duration(seq) * time.Second)}); err != nil {
				return err
			}
		}
		return nil
	})

	// A change appended in a rolled-back transaction is gone with it, and
	// its number can be used again.
	errBoom := errors.New("boom")
	appendNext := func(ctx context.Context, tx meta.Tx) error {
		seq, err := tx.NextSeq(ctx, u.ID)
		if err != nil {
			return err
		}
		return tx.AppendChange(ctx, drive.Change{UserID: u.ID, Seq: seq, NodeID: f.ID, Event: drive.EventRestored, At: clock(time.Hour)})
	}
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		if err := appendNext(ctx, tx); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update(AppendChange, then boom) = %v, want boom", err)
	}
	if err := tryUpdate(t, s, appendNext); err != nil {
		t.Errorf("Update(AppendChange after rollback) = %v, want nil", err)
	}
}

func usage(t *testing.T, s meta.Store, userID string) drive.Usage {
	t.Helper()
	var u drive.Usage
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		u, err = tx.Usage(ctx, userID)
		return err
	})
	return u
}

func testUsage(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	bob, bobRoot := createUser(t, s, "bob")
	if got := usage(t, s, u.ID); got != (drive.Usage{}) {
		t.Errorf("Usage(new user) = %+v, want zero", got)
	}

	gone := trashed(file(u.ID, "gone.png", 5, "image/png", root.ID), "")
	purged := file(u.ID, "purged.mp4", 999, "video/mp4", root.ID)
	purged.Status = drive.StatusPurged
	insert(t, s,
		file(u.ID, "a.jpg", 100, "image/jpeg", root.ID),
		file(u.ID, "b.png", 50, "image/png", root.ID),
		gone,
		file(u.ID, "c.mp4", 1000, "video/mp4", root.ID),
		purged,
		file(u.ID, "d.txt", 10, "text/plain", root.ID),
		file(u.ID, "e.pdf", 20, "application/pdf", root.ID),
		file(u.ID, "f.zip", 7, "application/zip", root.ID),
		file(u.ID, "g.bin", 3, "", root.ID),
		folder(u.ID, "dir", root.ID),
		file(bob.ID, "bobs.jpg", 100000, "image/jpeg", bobRoot.ID),
	)
	want := drive.Usage{
		Photo: drive.UsageCount{Bytes: 155, Count: 3},
		Video: drive.UsageCount{Bytes: 1000, Count: 1},
		Doc:   drive.UsageCount{Bytes: 30, Count: 2},
		Other: drive.UsageCount{Bytes: 10, Count: 2},
	}
	if diff := gocmp.Diff(want, usage(t, s, u.ID)); diff != "" {
		t.Errorf("Usage(alice) mismatch (-want +got):\n%s", diff)
	}
	wantBob := drive.Usage{Photo: drive.UsageCount{Bytes: 100000, Count: 1}}
	if diff := gocmp.Diff(wantBob, usage(t, s, bob.ID)); diff != "" {
		t.Errorf("Usage(bob) mismatch (-want +got):\n%s", diff)
	}
}

func blobReferenced(t *testing.T, s meta.Store, key string) bool {
	t.Helper()
	var ok bool
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		ok, err = tx.BlobReferenced(ctx, key)
		return err
	})
	return ok
}

func testBlobReferenced(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	live := file(u.ID, "live.txt", 1, "text/plain", root.ID)
	gone := trashed(file(u.ID, "gone.txt", 1, "text/plain", root.ID), "")
	insert(t, s, live, gone)
	for _, tt := range []struct {
		key  string
		want bool
	}{
		{live.Content.BlobKey, true},
		{gone.Content.BlobKey, true},
		{"blob-missing", false},
		{"", false},
	} {
		if got := blobReferenced(t, s, tt.key); got != tt.want {
			t.Errorf("BlobReferenced(%q) = %t, want %t", tt.key, got, tt.want)
		}
	}

	oldKey := live.Content.BlobKey
	upd := norm(live)
	upd.Content.BlobKey = "blob-new"
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateNode(ctx, upd) })
	if got := blobReferenced(t, s, oldKey); got {
		t.Errorf("BlobReferenced(%q) after overwrite = true, want false", oldKey)
	}
	if got := blobReferenced(t, s, "blob-new"); !got {
		t.Errorf("BlobReferenced(blob-new) after overwrite = false, want true")
	}
}

func testLockBlob(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	// Locking is allowed twice in one transaction, for a key nothing
	// references yet, and ends with the transaction.
	for range 2 {
		update(t, s, func(ctx context.Context, tx meta.Tx) error {
			if err := tx.LockBlob(ctx, "blob-shared"); err != nil {
				return err
			}
			return tx.LockBlob(ctx, "blob-shared")
		})
	}

	// Concurrent writers locking one key all get through, and each sees
	// the references committed before it.
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ctx := t.Context()
			errs[i] = s.Update(ctx, func(tx meta.Tx) error {
				if err := tx.LockBlob(ctx, "blob-shared"); err != nil {
					return err
				}
				f := file(u.ID, fmt.Sprintf("copy-%02d", i), 1, "text/plain", root.ID)
				f.Content.BlobKey = "blob-shared"
				return tx.InsertNode(ctx, f)
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Update %d (LockBlob, InsertNode) error: %v", i, err)
		}
	}
	if !blobReferenced(t, s, "blob-shared") {
		t.Errorf("BlobReferenced(blob-shared) after concurrent inserts = false, want true")
	}
	pg := listPage(t, s, meta.Query{UserID: u.ID, Parent: root.ID, Limit: 200})
	if pg.Total != n {
		t.Errorf("List(root).Total after %d concurrent inserts = %d, want %d", n, pg.Total, n)
	}
}

func properties(t *testing.T, s meta.Store, nodeID, owner string) (map[string]string, int) {
	t.Helper()
	var props map[string]string
	var count int
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		if props, err = tx.Properties(ctx, nodeID, owner); err != nil {
			return err
		}
		count, err = tx.PropertyCount(ctx, nodeID, owner)
		return err
	})
	return props, count
}

// checkProps compares owner's properties of a node, and their count, with
// want.
func checkProps(t *testing.T, s meta.Store, nodeID, owner string, want map[string]string) {
	t.Helper()
	got, count := properties(t, s, nodeID, owner)
	if got == nil {
		t.Errorf("Properties(%s, %s) = nil, want a non-nil map", nodeID, owner)
	}
	if !maps.Equal(got, want) {
		t.Errorf("Properties(%s, %s) = %v, want %v", nodeID, owner, got, want)
	}
	if count != len(want) {
		t.Errorf("PropertyCount(%s, %s) = %d, want %d", nodeID, owner, count, len(want))
	}
}

func setProps(t *testing.T, s meta.Store, nodeID, owner string, kv ...string) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for i := 0; i+1 < len(kv); i += 2 {
			if err := tx.SetProperty(ctx, nodeID, owner, kv[i], kv[i+1]); err != nil {
				return err
			}
		}
		return nil
	})
}

func testProperties(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	f := file(u.ID, "f", 1, "text/plain", root.ID)
	insert(t, s, f)

	checkProps(t, s, f.ID, "app1", map[string]string{})
	setProps(t, s, f.ID, "app1", "color", "red", "size", "XL")
	checkProps(t, s, f.ID, "app1", map[string]string{"color": "red", "size": "XL"})

	setProps(t, s, f.ID, "app1", "color", "blue", "empty", "")
	checkProps(t, s, f.ID, "app1", map[string]string{"color": "blue", "size": "XL", "empty": ""})

	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteProperty(ctx, f.ID, "app1", "size") })
	checkProps(t, s, f.ID, "app1", map[string]string{"color": "blue", "empty": ""})

	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteProperty(ctx, f.ID, "app1", "size") })
	wantKind(t, "DeleteProperty(deleted key)", err, drive.NotFound)
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteProperty(ctx, f.ID, "app1", "nope") })
	wantKind(t, "DeleteProperty(missing key)", err, drive.NotFound)
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.DeleteProperty(ctx, drive.NewID(), "app1", "color")
	})
	wantKind(t, "DeleteProperty(missing node)", err, drive.NotFound)
}

func testPropertiesOwners(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	f := file(u.ID, "f", 1, "text/plain", root.ID)
	g := file(u.ID, "g", 1, "text/plain", root.ID)
	insert(t, s, f, g)

	setProps(t, s, f.ID, "app1", "k", "one")
	setProps(t, s, f.ID, "app2", "k", "two", "only2", "x")
	setProps(t, s, g.ID, "app1", "k", "g-one")
	checkProps(t, s, f.ID, "app1", map[string]string{"k": "one"})
	checkProps(t, s, f.ID, "app2", map[string]string{"k": "two", "only2": "x"})
	checkProps(t, s, g.ID, "app1", map[string]string{"k": "g-one"})
	checkProps(t, s, g.ID, "app2", map[string]string{})

	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteProperty(ctx, f.ID, "app1", "only2") })
	wantKind(t, "DeleteProperty(app1, app2's key)", err, drive.NotFound)
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteProperty(ctx, f.ID, "app2", "k") })
	checkProps(t, s, f.ID, "app1", map[string]string{"k": "one"})
	checkProps(t, s, f.ID, "app2", map[string]string{"only2": "x"})
	checkProps(t, s, g.ID, "app1", map[string]string{"k": "g-one"})
}

func testDeleteProperties(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	f := file(u.ID, "f", 1, "text/plain", root.ID)
	g := file(u.ID, "g", 1, "text/plain", root.ID)
	insert(t, s, f, g)
	setProps(t, s, f.ID, "app1", "a", "1", "b", "2")
	setProps(t, s, f.ID, "app2", "c", "3")
	setProps(t, s, g.ID, "app1", "a", "g")

	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteProperties(ctx, f.ID) })
	checkProps(t, s, f.ID, "app1", map[string]string{})
	checkProps(t, s, f.ID, "app2", map[string]string{})
	checkProps(t, s, g.ID, "app1", map[string]string{"a": "g"})

	if err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteProperties(ctx, f.ID) }); err != nil {
		t.Errorf("DeleteProperties(node without properties) = %v, want nil", err)
	}
	// The node is still there and may get properties again.
	setProps(t, s, f.ID, "app1", "a", "again")
	checkProps(t, s, f.ID, "app1", map[string]string{"a": "again"})
}

func getToken(t *testing.T, s meta.Store, hash string) (*meta.Token, error) {
	t.Helper()
	var tk *meta.Token
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		tk, err = tx.Token(ctx, hash)
		return err
	})
	return tk, err
}

func insertTokens(t *testing.T, s meta.Store, tks ...*meta.Token) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for _, tk := range tks {
			if err := tx.InsertToken(ctx, tk); err != nil {
				return err
			}
		}
		return nil
	})
}

func testToken(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	refresh := &meta.Token{
		Hash:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		UserID:    u.ID,
		ClientID:  "amzn1.application-oa2-client.test",
		Scope:     drive.ScopeRead + " " + drive.ScopeWrite,
		Kind:      "refresh",
		Family:    "family-1",
		ExpiresAt: clock(30*24*time.Hour + 250*time.Millisecond),
		CreatedAt: clock(17 * time.Millisecond),
	}
	access := &meta.Token{
		Hash:      "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
		UserID:    u.ID,
		ClientID:  "cli",
		Scope:     drive.ScopeReadAll,
		Kind:      "access",
		CreatedAt: clock(time.Second),
	}
	insertTokens(t, s, refresh, access)
	for _, want := range []*meta.Token{refresh, access} {
		got, err := getToken(t, s, want.Hash)
		if err != nil {
			t.Errorf("Token(%s) error: %v", want.Kind, err)
			continue
		}
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("Token(%s) mismatch (-want +got):\n%s", want.Kind, diff)
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("Token(%s).CreatedAt location = %v, want UTC", want.Kind, got.CreatedAt.Location())
		}
		if !got.ExpiresAt.IsZero() && got.ExpiresAt.Location() != time.UTC {
			t.Errorf("Token(%s).ExpiresAt location = %v, want UTC", want.Kind, got.ExpiresAt.Location())
		}
	}
}

func testTokenMissing(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	insertTokens(t, s, &meta.Token{Hash: "present", UserID: u.ID, ClientID: "c", Kind: "access", CreatedAt: clock(0)})
	_, err := getToken(t, s, "absent")
	wantKind(t, "Token(absent)", err, drive.NotFound)
	_, err = getToken(t, s, "PRESENT")
	wantKind(t, "Token(PRESENT)", err, drive.NotFound)
}

func testRevokeTokens(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	bob, _ := createUser(t, s, "bob")
	tok := func(hash, userID, family string) *meta.Token {
		return &meta.Token{Hash: hash, UserID: userID, ClientID: "c", Scope: drive.ScopeRead, Kind: "refresh", Family: family, CreatedAt: clock(0)}
	}
	tks := []*meta.Token{
		tok("f1-a", u.ID, "fam1"),
		tok("f1-b", u.ID, "fam1"),
		tok("f2-a", u.ID, "fam2"),
		tok("single", u.ID, ""),
		tok("other", bob.ID, ""),
	}
	insertTokens(t, s, tks...)
	revoked := func() map[string]bool {
		t.Helper()
		out := map[string]bool{}
		for _, tk := range tks {
			got, err := getToken(t, s, tk.Hash)
			if err != nil {
				t.Fatalf("Token(%s) error: %v", tk.Hash, err)
			}
			out[tk.Hash] = got.Revoked
		}
		return out
	}
	revoke := func(hash, family string) {
		t.Helper()
		update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.RevokeTokens(ctx, hash, family) })
	}

	revoke("single", "")
	want := map[string]bool{"f1-a": false, "f1-b": false, "f2-a": false, "single": true, "other": false}
	if diff := gocmp.Diff(want, revoked()); diff != "" {
		t.Errorf("Revoked after RevokeTokens(single, \"\") mismatch (-want +got):\n%s", diff)
	}

	revoke("f1-a", "fam1")
	want["f1-a"], want["f1-b"] = true, true
	if diff := gocmp.Diff(want, revoked()); diff != "" {
		t.Errorf("Revoked after RevokeTokens(f1-a, fam1) mismatch (-want +got):\n%s", diff)
	}

	revoke("", "fam2")
	want["f2-a"] = true
	if diff := gocmp.Diff(want, revoked()); diff != "" {
		t.Errorf("Revoked after RevokeTokens(\"\", fam2) mismatch (-want +got):\n%s", diff)
	}

	// Revoking twice is harmless.
	revoke("single", "")
	if diff := gocmp.Diff(want, revoked()); diff != "" {
		t.Errorf("Revoked after revoking single twice mismatch (-want +got):\n%s", diff)
	}
}

func testSettings(t *testing.T, s meta.Store) {
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		v, err := tx.Setting(ctx, "missing")
		if v != "" || err != nil {
			t.Errorf("Setting(missing) = %q, %v, want \"\", nil", v, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		v, err := tx.PutSettingIfAbsent(ctx, "link-key", "first")
		if v != "first" || err != nil {
			t.Errorf("PutSettingIfAbsent(link-key, first) = %q, %v, want \"first\", nil", v, err)
		}
		v, err = tx.PutSettingIfAbsent(ctx, "link-key", "second")
		if v != "first" || err != nil {
			t.Errorf("PutSettingIfAbsent(link-key, second) in the same Update = %q, %v, want \"first\", nil", v, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		v, err := tx.PutSettingIfAbsent(ctx, "link-key", "third")
		if v != "first" || err != nil {
			t.Errorf("PutSettingIfAbsent(link-key, third) = %q, %v, want \"first\", nil", v, err)
		}
		v, err = tx.PutSettingIfAbsent(ctx, "other", "")
		if v != "" || err != nil {
			t.Errorf("PutSettingIfAbsent(other, \"\") = %q, %v, want \"\", nil", v, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for _, c := range []struct {
			key, old, new string
			want          bool
		}{
			{"link-key", "stale", "x", false},
			{"missing", "", "x", false},
			{"other", "", "lease-1", true},
			{"other", "", "lease-2", false},
			{"other", "lease-1", "lease-2", true},
		} {
			if ok, err := tx.SwapSetting(ctx, c.key, c.old, c.new); ok != c.want || err != nil {
				t.Errorf("SwapSetting(%s, %q, %q) = %v, %v, want %v", c.key, c.old, c.new, ok, err, c.want)
			}
		}
		if v, _ := tx.Setting(ctx, "other"); v != "lease-2" {
			t.Errorf("Setting(other) after the swaps = %q, want lease-2", v)
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		v, err := tx.Setting(ctx, "link-key")
		if v != "first" || err != nil {
			t.Errorf("Setting(link-key) = %q, %v, want \"first\", nil", v, err)
		}
		return nil
	})
}

// snapshot is what testViewSnapshot reads inside a View.
type snapshot struct {
	Seq      int64
	Users    int
	Children int64
}

func readSnapshot(ctx context.Context, tx meta.Tx, u *drive.User) (snapshot, error) {
	var r snapshot
	var err error
	if r.Seq, err = tx.CurrentSeq(ctx, u.ID); err != nil {
		return r, err
	}
	us, err := tx.Users(ctx)
	if err != nil {
		return r, err
	}
	r.Users = len(us)
	pg, err := tx.List(ctx, meta.Query{UserID: u.ID, Parent: u.RootID, Limit: 200})
	r.Children = pg.Total
	return r, err
}

func testViewSnapshot(t *testing.T, s meta.Store) {
	// How long a View may hold up a concurrent Update or View before the
	// suite calls it blocked.
	const patience = 5 * time.Second
	u, root := createUser(t, s, "alice")
	insert(t, s, file(u.ID, "a.txt", 1, "text/plain", root.ID))
	ctx := t.Context()

	var before, after, fresh snapshot
	var writeErr, freshErr error
	err := s.View(ctx, func(tx meta.Tx) error {
		var err error
		if before, err = readSnapshot(ctx, tx, u); err != nil {
			return err
		}
		// Commit an Update while this View is open.
		wctx, cancel := context.WithTimeout(ctx, patience)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- s.Update(wctx, func(wtx meta.Tx) error {
				if _, err := wtx.NextSeq(wctx, u.ID); err != nil {
					return err
				}
				bob, bobRoot := newUser("bob")
				if err := wtx.CreateUser(wctx, bob, bobRoot); err != nil {
					return err
				}
				return wtx.InsertNode(wctx, file(u.ID, "b.txt", 1, "text/plain", root.ID))
			})
		}()
		if writeErr = <-done; writeErr != nil {
			return nil
		}
		// A View begun after the commit sees it, while this one is open.
		go func() {
			done <- s.View(wctx, func(ftx meta.Tx) error {
				var err error
				fresh, err = readSnapshot(wctx, ftx, u)
				return err
			})
		}()
		freshErr = <-done
		after, err = readSnapshot(ctx, tx, u)
		return err
	})
	if err != nil {
		t.Fatalf("View error: %v", err)
	}
	if writeErr != nil {
		t.Fatalf("Update while a View is open = %v, want nil (a View must not block writers)", writeErr)
	}
	want := snapshot{Seq: 0, Users: 1, Children: 1}
	if before != want {
		t.Errorf("first read in View = %+v, want %+v", before, want)
	}
	if after != before {
		t.Errorf("read in the same View after a concurrent commit = %+v, want %+v (the View's snapshot)", after, before)
	}
	wantNew := snapshot{Seq: 1, Users: 2, Children: 2}
	if freshErr != nil {
		t.Errorf("View begun during another View = %v, want nil (Views must not block each other)", freshErr)
	} else if fresh != wantNew {
		t.Errorf("read in a View begun after the commit = %+v, want %+v", fresh, wantNew)
	}
	var final snapshot
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		final, err = readSnapshot(ctx, tx, u)
		return err
	})
	if final != wantNew {
		t.Errorf("read in a View after the first one ended = %+v, want %+v", final, wantNew)
	}
}

func testPing(t *testing.T, s meta.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v, want nil", err)
	}
	createUser(t, s, "alice")
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping() after a write = %v, want nil", err)
	}
}

func testClose(t *testing.T, s meta.Store) {
	createUser(t, s, "alice")
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Errorf("Ping() after Close = nil, want an error")
	}
	err := s.View(t.Context(), func(tx meta.Tx) error { return nil })
	if err == nil {
		t.Errorf("View() after Close = nil, want an error")
	}
}
