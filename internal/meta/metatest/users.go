package metatest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

func getUser(t *testing.T, s meta.Store, id string) (*drive.User, error) {
	t.Helper()
	var u *drive.User
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		u, err = tx.User(ctx, id)
		return err
	})
	return u, err
}

func getUserByName(t *testing.T, s meta.Store, name string) (*drive.User, error) {
	t.Helper()
	var u *drive.User
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		u, err = tx.UserByName(ctx, name)
		return err
	})
	return u, err
}

func listUsers(t *testing.T, s meta.Store) []*drive.User {
	t.Helper()
	var us []*drive.User
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		us, err = tx.Users(ctx)
		return err
	})
	return us
}

func userNames(us []*drive.User) []string {
	names := make([]string, len(us))
	for i, u := range us {
		names[i] = u.Name
	}
	return names
}

func currentSeq(t *testing.T, s meta.Store, userID string) int64 {
	t.Helper()
	var seq int64
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		seq, err = tx.CurrentSeq(ctx, userID)
		return err
	})
	return seq
}

func nextSeq(t *testing.T, s meta.Store, userID string) int64 {
	t.Helper()
	var seq int64
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		seq, err = tx.NextSeq(ctx, userID)
		return err
	})
	return seq
}

func testCreateUser(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")

	got, err := getUser(t, s, u.ID)
	if err != nil {
		t.Fatalf("User(%s) error: %v", u.ID, err)
	}
	if diff := gocmp.Diff(u, got); diff != "" {
		t.Errorf("User(%s) mismatch (-want +got):\n%s", u.ID, diff)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("User(%s).CreatedAt location = %v, want UTC", u.ID, got.CreatedAt.Location())
	}

	got, err = getUserByName(t, s, "alice")
	if err != nil {
		t.Fatalf("UserByName(alice) error: %v", err)
	}
	if diff := gocmp.Diff(u, got); diff != "" {
		t.Errorf("UserByName(alice) mismatch (-want +got):\n%s", diff)
	}

	gotRoot, err := getNode(t, s, u.ID, u.RootID)
	if err != nil {
		t.Fatalf("Node(root %s) error: %v", u.RootID, err)
	}
	if diff := diffNode(root, gotRoot); diff != "" {
		t.Errorf("Node(root) mismatch (-want +got):\n%s", diff)
	}
	if gotRoot.Kind != drive.KindFolder || !gotRoot.IsRoot || gotRoot.Name != "" ||
		len(gotRoot.Parents) != 0 || gotRoot.Status != drive.StatusAvailable {
		t.Errorf("Node(root) = {Kind:%s IsRoot:%t Name:%q Parents:%q Status:%s}, want {Kind:FOLDER IsRoot:true Name:\"\" Parents:[] Status:AVAILABLE}",
			gotRoot.Kind, gotRoot.IsRoot, gotRoot.Name, gotRoot.Parents, gotRoot.Status)
	}
	if seq := currentSeq(t, s, u.ID); seq != 0 {
		t.Errorf("CurrentSeq(new user) = %d, want 0", seq)
	}
}

func testCreateUserDuplicateName(t *testing.T, s meta.Store) {
	first, _ := createUser(t, s, "alice")
	dup, dupRoot := newUser("alice")
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.CreateUser(ctx, dup, dupRoot)
	})
	wantKind(t, "CreateUser(duplicate alice)", err, drive.Conflict)

	if got := userNames(listUsers(t, s)); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("Users() after duplicate = %q, want [alice]", got)
	}
	got, err := getUserByName(t, s, "alice")
	if err != nil {
		t.Fatalf("UserByName(alice) error: %v", err)
	}
	if got.ID != first.ID {
		t.Errorf("UserByName(alice).ID = %s, want the first user %s", got.ID, first.ID)
	}
	if _, err := getNode(t, s, dup.ID, dupRoot.ID); !drive.Is(drive.NotFound, err) {
		t.Errorf("Node(root of rejected user) = %v, want kind %v", err, drive.NotFound)
	}
}

func testUserMissing(t *testing.T, s meta.Store) {
	createUser(t, s, "alice")
	_, err := getUser(t, s, drive.NewID())
	wantKind(t, "User(missing)", err, drive.NotFound)
	_, err = getUserByName(t, s, "bob")
	wantKind(t, "UserByName(bob)", err, drive.NotFound)
	_, err = getUserByName(t, s, "ALICE")
	wantKind(t, "UserByName(ALICE)", err, drive.NotFound)
}

func testUsersOrderedByName(t *testing.T, s meta.Store) {
	if got := listUsers(t, s); len(got) != 0 {
		t.Errorf("Users() on an empty store = %q, want []", userNames(got))
	}
	byName := map[string]*drive.User{}
	for _, name := range []string{"carol", "alice", "dave", "bob"} {
		u, _ := createUser(t, s, name)
		byName[name] = u
	}
	got := listUsers(t, s)
	want := []*drive.User{byName["alice"], byName["bob"], byName["carol"], byName["dave"]}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("Users() mismatch (-want +got):\n%s", diff)
	}
}

func testUpdateUser(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	other, _ := createUser(t, s, "bob")

	upd := *u
	upd.Quota = 42 << 20
	upd.Disabled = true
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateUser(ctx, &upd) })
	got, err := getUser(t, s, u.ID)
	if err != nil {
		t.Fatalf("User(%s) error: %v", u.ID, err)
	}
	if diff := gocmp.Diff(&upd, got); diff != "" {
		t.Errorf("User after UpdateUser mismatch (-want +got):\n%s", diff)
	}

	upd.Quota = 0
	upd.Disabled = false
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateUser(ctx, &upd) })
	if got, err := getUser(t, s, u.ID); err != nil {
		t.Fatalf("User(%s) error: %v", u.ID, err)
	} else if got.Quota != 0 || got.Disabled {
		t.Errorf("User after re-enabling = {Quota:%d Disabled:%t}, want {Quota:0 Disabled:false}", got.Quota, got.Disabled)
	}

	if got, err := getUser(t, s, other.ID); err != nil {
		t.Fatalf("User(%s) error: %v", other.ID, err)
	} else if diff := gocmp.Diff(other, got); diff != "" {
		t.Errorf("other user changed by UpdateUser (-want +got):\n%s", diff)
	}

	missing, _ := newUser("ghost")
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateUser(ctx, missing) })
	wantKind(t, "UpdateUser(missing)", err, drive.NotFound)
}

func testDeleteUser(t *testing.T, s meta.Store) {
	alice, aliceRoot := createUser(t, s, "alice")
	bob, bobRoot := createUser(t, s, "bob")
	aDir := folder(alice.ID, "docs", aliceRoot.ID)
	aFile := file(alice.ID, "a.txt", 10, "text/plain", aDir.ID)
	bFile := file(bob.ID, "b.txt", 20, "text/plain", bobRoot.ID)
	insert(t, s, aDir, aFile, bFile)
	aTok := &meta.Token{Hash: "hash-alice", UserID: alice.ID, ClientID: "app", Scope: drive.ScopeRead, Kind: "access", CreatedAt: clock(0)}
	bTok := &meta.Token{Hash: "hash-bob", UserID: bob.ID, ClientID: "app", Scope: drive.ScopeRead, Kind: "access", CreatedAt: clock(0)}
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		if _, err := tx.NextSeq(ctx, alice.ID); err != nil {
			return err
		}
		if err := tx.AppendChange(ctx, drive.Change{UserID: alice.ID, Seq: 1, NodeID: aFile.ID, Event: drive.EventCreated, At: clock(0)}); err != nil {
			return err
		}
		if err := tx.SetProperty(ctx, aFile.ID, "app", "k", "v"); err != nil {
			return err
		}
		if err := tx.SetLocalID(ctx, alice.ID, aFile.ID, "local-1"); err != nil {
			return err
		}
		if err := tx.InsertToken(ctx, aTok); err != nil {
			return err
		}
		return tx.InsertToken(ctx, bTok)
	})

	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteUser(ctx, alice.ID) })

	_, err := getUser(t, s, alice.ID)
	wantKind(t, "User(deleted)", err, drive.NotFound)
	_, err = getUserByName(t, s, "alice")
	wantKind(t, "UserByName(deleted)", err, drive.NotFound)
	for _, id := range []string{aliceRoot.ID, aDir.ID, aFile.ID} {
		_, err := getNode(t, s, alice.ID, id)
		wantKind(t, fmt.Sprintf("Node(deleted user, %s)", id), err, drive.NotFound)
	}
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.Token(ctx, aTok.Hash)
		wantKind(t, "Token(deleted user's)", err, drive.NotFound)
		props, err := tx.Properties(ctx, aFile.ID, "app")
		if err != nil {
			return err
		}
		if len(props) != 0 {
			t.Errorf("Properties(deleted node) = %v, want empty", props)
		}
		if id, err := tx.NodeByLocalID(ctx, alice.ID, "local-1"); err != nil || id != "" {
			t.Errorf("NodeByLocalID(deleted user) = %q, %v, want \"\", nil", id, err)
		}
		if ok, err := tx.BlobReferenced(ctx, aFile.Content.BlobKey); err != nil || ok {
			t.Errorf("BlobReferenced(deleted user's blob) = %t, %v, want false, nil", ok, err)
		}
		_, err = tx.CurrentSeq(ctx, alice.ID)
		wantKind(t, "CurrentSeq(deleted user)", err, drive.NotFound)
		return nil
	})

	// Bob is untouched.
	if got, err := getNode(t, s, bob.ID, bFile.ID); err != nil {
		t.Errorf("Node(bob's file) after deleting alice error: %v", err)
	} else if diff := diffNode(bFile, got); diff != "" {
		t.Errorf("Node(bob's file) after deleting alice mismatch (-want +got):\n%s", diff)
	}
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		if _, err := tx.Token(ctx, bTok.Hash); err != nil {
			t.Errorf("Token(bob's) after deleting alice error: %v", err)
		}
		return nil
	})
	if got := userNames(listUsers(t, s)); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("Users() after DeleteUser = %q, want [bob]", got)
	}

	// The name is free again, and the id is gone for good.
	createUser(t, s, "alice")
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteUser(ctx, alice.ID) })
	wantKind(t, "DeleteUser(missing)", err, drive.NotFound)
}

func testNextSeq(t *testing.T, s meta.Store) {
	alice, _ := createUser(t, s, "alice")
	bob, _ := createUser(t, s, "bob")
	for want := int64(1); want <= 3; want++ {
		if got := nextSeq(t, s, alice.ID); got != want {
			t.Errorf("NextSeq(alice) = %d, want %d", got, want)
		}
	}
	if got := currentSeq(t, s, bob.ID); got != 0 {
		t.Errorf("CurrentSeq(bob) = %d, want 0", got)
	}
	if got := nextSeq(t, s, bob.ID); got != 1 {
		t.Errorf("NextSeq(bob) = %d, want 1", got)
	}
	if got := currentSeq(t, s, alice.ID); got != 3 {
		t.Errorf("CurrentSeq(alice) = %d, want 3", got)
	}

	// Several calls inside one transaction keep counting.
	var got []int64
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for range 2 {
			seq, err := tx.NextSeq(ctx, alice.ID)
			if err != nil {
				return err
			}
			got = append(got, seq)
		}
		cur, err := tx.CurrentSeq(ctx, alice.ID)
		got = append(got, cur)
		return err
	})
	if want := []int64{4, 5, 5}; !slices.Equal(got, want) {
		t.Errorf("NextSeq, NextSeq, CurrentSeq in one Update = %v, want %v", got, want)
	}
}

func testNextSeqMissingUser(t *testing.T, s meta.Store) {
	createUser(t, s, "alice")
	missing := drive.NewID()
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.NextSeq(ctx, missing)
		return err
	})
	wantKind(t, "NextSeq(missing user)", err, drive.NotFound)
	err = tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.CurrentSeq(ctx, missing)
		return err
	})
	wantKind(t, "CurrentSeq(missing user)", err, drive.NotFound)
}

func testNextSeqRollback(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	nextSeq(t, s, u.ID)

	errBoom := errors.New("boom")
	var inside int64
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		if inside, err = tx.NextSeq(ctx, u.ID); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update(fn returning boom) = %v, want boom", err)
	}
	if inside != 2 {
		t.Errorf("NextSeq inside the rolled-back Update = %d, want 2", inside)
	}
	if got := currentSeq(t, s, u.ID); got != 1 {
		t.Errorf("CurrentSeq after rollback = %d, want 1", got)
	}
	if got := nextSeq(t, s, u.ID); got != 2 {
		t.Errorf("NextSeq after rollback = %d, want 2", got)
	}
}

func testNextSeqConcurrent(t *testing.T, s meta.Store) {
	const n = 20
	u, _ := createUser(t, s, "alice")
	other, _ := createUser(t, s, "bob")

	var wg sync.WaitGroup
	seqs := make([]int64, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ctx := t.Context()
			errs[i] = s.Update(ctx, func(tx meta.Tx) error {
				seq, err := tx.NextSeq(ctx, u.ID)
				seqs[i] = seq
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Update %d error: %v", i, err)
		}
	}
	slices.Sort(seqs)
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(seqs, want) {
		t.Errorf("NextSeq from %d concurrent Updates = %v, want %v", n, seqs, want)
	}
	if got := currentSeq(t, s, u.ID); got != n {
		t.Errorf("CurrentSeq after concurrent Updates = %d, want %d", got, n)
	}
	if got := currentSeq(t, s, other.ID); got != 0 {
		t.Errorf("CurrentSeq(other user) = %d, want 0", got)
	}
}
