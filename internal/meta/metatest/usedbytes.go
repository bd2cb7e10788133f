package metatest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

func usedTests() []subtest {
	return []subtest{
		{"UsedNewUser", testUsedNewUser},
		{"UsedMissingUser", testUsedMissingUser},
		{"UsedRollback", testUsedRollback},
		{"UsedRandomOps", testUsedRandomOps},
	}
}

// used reads Used in its own View.
func used(t *testing.T, s meta.Store, userID string) drive.UsageCount {
	t.Helper()
	var c drive.UsageCount
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		c, err = tx.Used(ctx, userID)
		return err
	})
	return c
}

// checkUsed reports an error unless Used equals the total of Usage for
// userID, both read in one View.
func checkUsed(t *testing.T, s meta.Store, step, userID string) {
	t.Helper()
	var got drive.UsageCount
	var sum drive.Usage
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		if got, err = tx.Used(ctx, userID); err != nil {
			return err
		}
		sum, err = tx.Usage(ctx, userID)
		return err
	})
	if want := sum.Total(); got != want {
		t.Errorf("after %s: Used(%s) = %+v, want Usage total %+v", step, userID, got, want)
	}
}

func testUsedNewUser(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	if got := used(t, s, u.ID); got != (drive.UsageCount{}) {
		t.Errorf("Used(new user) = %+v, want zero", got)
	}
	purged := file(u.ID, "purged.bin", 999, "", root.ID)
	purged.Status = drive.StatusPurged
	insert(t, s,
		folder(u.ID, "dir", root.ID),
		file(u.ID, "a.txt", 10, "text/plain", root.ID),
		trashed(file(u.ID, "b.txt", 5, "text/plain", root.ID), ""),
		purged,
		file(u.ID, "empty", 0, "", root.ID),
	)
	want := drive.UsageCount{Bytes: 15, Count: 3}
	if got := used(t, s, u.ID); got != want {
		t.Errorf("Used(alice) = %+v, want %+v", got, want)
	}
	checkUsed(t, s, "inserts", u.ID)
}

func testUsedMissingUser(t *testing.T, s meta.Store) {
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.Used(ctx, drive.NewID())
		return err
	})
	wantKind(t, "Used(missing user)", err, drive.NotFound)

	u, root := createUser(t, s, "alice")
	insert(t, s, file(u.ID, "a.txt", 10, "text/plain", root.ID))
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteUser(ctx, u.ID) })
	err = tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.Used(ctx, u.ID)
		return err
	})
	wantKind(t, "Used(deleted user)", err, drive.NotFound)
}

func testUsedRollback(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	f := file(u.ID, "a.txt", 10, "text/plain", root.ID)
	insert(t, s, f)
	errBoom := errors.New("boom")
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		if err := tx.InsertNode(ctx, file(u.ID, "b.txt", 100, "text/plain", root.ID)); err != nil {
			return err
		}
		grown := norm(f)
		grown.Content.Size = 1000
		if err := tx.UpdateNode(ctx, grown); err != nil {
			return err
		}
		// The transaction sees its own changes.
		c, err := tx.Used(ctx, u.ID)
		if err != nil {
			return err
		}
		if want := (drive.UsageCount{Bytes: 1100, Count: 2}); c != want {
			return fmt.Errorf("tx.Used inside the transaction = %+v, want %+v", c, want)
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update(insert, grow, then boom) = %v, want boom", err)
	}
	if got, want := used(t, s, u.ID), (drive.UsageCount{Bytes: 10, Count: 1}); got != want {
		t.Errorf("Used(alice) after rollback = %+v, want %+v", got, want)
	}

	// A failed UpdateNode of a missing node changes nothing.
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.UpdateNode(ctx, file(u.ID, "ghost", 50, "", root.ID))
	})
	wantKind(t, "UpdateNode(missing)", err, drive.NotFound)
	checkUsed(t, s, "UpdateNode(missing)", u.ID)
}

// testUsedRandomOps checks after every step of a random sequence of
// writes that Used equals the total Usage computes by scanning, and that
// deleting a user leaves the other users' counters right.
func testUsedRandomOps(t *testing.T, s meta.Store) {
	users := randomUsedOps(t, s, 300, true)
	if t.Failed() {
		return
	}
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteUser(ctx, users[0]) })
	for _, id := range users[1:] {
		checkUsed(t, s, "DeleteUser", id)
	}
}

// CheckBackfill checks the migration that adds the used-space counter
// behind meta.Tx.Used to an existing database. It fills s with three
// users' files in every state, then calls recompute, which must bring
// the schema back to before the counter existed and migrate it up again
// (or otherwise rerun the migration's backfill), and checks that Used
// then equals the total of Usage for every user.
func CheckBackfill(t *testing.T, s meta.Store, recompute func(t *testing.T)) {
	t.Helper()
	users := randomUsedOps(t, s, 150, false)
	before := make([]drive.UsageCount, len(users))
	for i, id := range users {
		before[i] = used(t, s, id)
		if before[i].Count == 0 {
			t.Fatalf("Used(user %d) = %+v before the backfill, want some files", i, before[i])
		}
	}
	recompute(t)
	for i, id := range users {
		checkUsed(t, s, "backfill", id)
		if got := used(t, s, id); got != before[i] {
			t.Errorf("Used(user %d) after backfill = %+v, want %+v as before", i, got, before[i])
		}
	}
}

// randomUsedOps runs a seeded random sequence of the writes package nodes
// makes (upload, overwrite, trash, restore, purge, rename, move between
// folders, folder creation, several in one transaction) over three users
// and returns their ids. With check, it checks Used against Usage after
// every step and stops at the first failure.
func randomUsedOps(t *testing.T, s meta.Store, steps int, check bool) []string {
	t.Helper()
	seed := uint64(20240301)
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("seed %d", seed)

	type user struct {
		u       *drive.User
		folders []string
		files   []*drive.Node // every file ever inserted, as stored
	}
	var users []*user
	for _, name := range []string{"alice", "bob", "carol"} {
		u, root := createUser(t, s, name)
		users = append(users, &user{u: u, folders: []string{root.ID}})
	}
	contentTypes := []string{"image/jpeg", "video/mp4", "text/plain", "application/zip", ""}
	pick := func(u *user, ok func(*drive.Node) bool) *drive.Node {
		var c []*drive.Node
		for _, f := range u.files {
			if ok(f) {
				c = append(c, f)
			}
		}
		if len(c) == 0 {
			return nil
		}
		return c[rng.IntN(len(c))]
	}
	status := func(st ...drive.Status) func(*drive.Node) bool {
		return func(n *drive.Node) bool { return slices.Contains(st, n.Status) }
	}
	// Every write takes the user's next change number, as package nodes
	// does (stores that keep renderings key them by it).
	stamp := func(ctx context.Context, tx meta.Tx, n *drive.Node) error {
		seq, err := tx.NextSeq(ctx, n.UserID)
		n.ChangeSeq = seq
		return err
	}
	write := func(n *drive.Node) {
		t.Helper()
		update(t, s, func(ctx context.Context, tx meta.Tx) error {
			if err := stamp(ctx, tx, n); err != nil {
				return err
			}
			return tx.UpdateNode(ctx, norm(n))
		})
	}
	insertOne := func(n *drive.Node) {
		t.Helper()
		update(t, s, func(ctx context.Context, tx meta.Tx) error {
			if err := stamp(ctx, tx, n); err != nil {
				return err
			}
			return tx.InsertNode(ctx, n)
		})
	}

	for i := range steps {
		u := users[rng.IntN(len(users))]
		var step string
		switch op := rng.IntN(10); {
		case op < 3: // upload
			f := file(u.u.ID, fmt.Sprintf("f%d", i), rng.Int64N(1<<20), contentTypes[rng.IntN(len(contentTypes))],
				u.folders[rng.IntN(len(u.folders))])
			if rng.IntN(10) == 0 {
				f.Content.Size = 0
			}
			insertOne(f)
			u.files = append(u.files, f)
			step = fmt.Sprintf("step %d: insert %s (%d bytes)", i, f.Name, f.Content.Size)
		case op == 3: // folder
			d := folder(u.u.ID, fmt.Sprintf("d%d", i), u.folders[rng.IntN(len(u.folders))])
			insertOne(d)
			u.folders = append(u.folders, d.ID)
			step = fmt.Sprintf("step %d: insert folder %s", i, d.Name)
		case op == 4: // overwrite
			f := pick(u, status(drive.StatusAvailable))
			if f == nil {
				continue
			}
			old := f.Content.Size
			f.Content.Size = rng.Int64N(1 << 20)
			f.Content.Version++
			write(f)
			step = fmt.Sprintf("step %d: overwrite %s %d -> %d bytes", i, f.Name, old, f.Content.Size)
		case op == 5: // trash
			f := pick(u, status(drive.StatusAvailable))
			if f == nil {
				continue
			}
			trashed(f, "")
			write(f)
			step = fmt.Sprintf("step %d: trash %s", i, f.Name)
		case op == 6: // restore
			f := pick(u, status(drive.StatusTrash))
			if f == nil {
				continue
			}
			f.Status, f.TrashRoot = drive.StatusAvailable, ""
			// A restored name may clash with a newer live file: rename it
			// as package nodes would refuse, keeping the name unique.
			f.Name = fmt.Sprintf("%s-r%d", f.Name, i)
			write(f)
			step = fmt.Sprintf("step %d: restore %s", i, f.Name)
		case op == 7: // purge, as package nodes writes the tombstone
			f := pick(u, status(drive.StatusAvailable, drive.StatusTrash))
			if f == nil {
				continue
			}
			f.Status, f.TrashRoot, f.Parents = drive.StatusPurged, "", nil
			f.Content = &drive.Content{Version: f.Content.Version}
			write(f)
			step = fmt.Sprintf("step %d: purge %s", i, f.Name)
		case op == 8: // rename or move: no change in used space
			f := pick(u, status(drive.StatusAvailable))
			if f == nil {
				continue
			}
			f.Name = fmt.Sprintf("%s-m%d", f.Name, i)
			f.Parents = []string{u.folders[rng.IntN(len(u.folders))]}
			write(f)
			step = fmt.Sprintf("step %d: move %s", i, f.Name)
		default: // several changes in one transaction
			var batch []*drive.Node
			for j := range 3 {
				f := file(u.u.ID, fmt.Sprintf("f%d-%d", i, j), rng.Int64N(1<<20), "", u.folders[0])
				batch = append(batch, f)
			}
			update(t, s, func(ctx context.Context, tx meta.Tx) error {
				for _, f := range batch {
					if err := stamp(ctx, tx, f); err != nil {
						return err
					}
					if err := tx.InsertNode(ctx, f); err != nil {
						return err
					}
				}
				// Trash one and purge another in the same transaction.
				tr := trashed(norm(batch[1]), "")
				if err := stamp(ctx, tx, tr); err != nil {
					return err
				}
				if err := tx.UpdateNode(ctx, tr); err != nil {
					return err
				}
				batch[1] = tr
				pg := norm(batch[2])
				pg.Status, pg.Parents = drive.StatusPurged, nil
				pg.Content = &drive.Content{Version: 1}
				if err := stamp(ctx, tx, pg); err != nil {
					return err
				}
				if err := tx.UpdateNode(ctx, pg); err != nil {
					return err
				}
				batch[2] = pg
				return nil
			})
			u.files = append(u.files, batch...)
			step = fmt.Sprintf("step %d: insert 3, trash 1, purge 1", i)
		}
		if !check {
			continue
		}
		for _, u := range users {
			checkUsed(t, s, step, u.u.ID)
		}
		if t.Failed() {
			break
		}
	}
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.u.ID
	}
	return out
}
