package metatest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Concurrent writers. A store may run concurrent Updates together (the
// SQLite store commits them in one transaction, a savepoint each); these
// tests pin down what callers must see either way: each Update commits or
// rolls back on its own, a panic stays with its caller, and change numbers
// become visible in order.

func concurrentTests() []subtest {
	return []subtest{
		{"ConcurrentUpdatesOneFails", testConcurrentUpdatesOneFails},
		{"ConcurrentUpdatesConflict", testConcurrentUpdatesConflict},
		{"ConcurrentUpdatesPanic", testConcurrentUpdatesPanic},
		{"ConcurrentChangeOrder", testConcurrentChangeOrder},
		{"UpdateCancelled", testUpdateCancelled},
	}
}

// createFolder bumps the user's change counter, records a change and
// inserts a folder named name under parent, as package nodes does for a
// new node. It returns the folder.
func createFolder(ctx context.Context, tx meta.Tx, userID, parent, name string) (*drive.Node, error) {
	seq, err := tx.NextSeq(ctx, userID)
	if err != nil {
		return nil, err
	}
	n := folder(userID, name, parent)
	n.ChangeSeq = seq
	if err := tx.AppendChange(ctx, drive.Change{UserID: userID, Seq: seq, NodeID: n.ID, Event: drive.EventCreated, At: clock(time.Second)}); err != nil {
		return nil, err
	}
	return n, tx.InsertNode(ctx, n)
}

// together runs fn(i) for i in [0, n) on n goroutines started at once, so
// that their Updates overlap; each fn sleeps a little inside its
// transaction to let the others queue up behind it.
func together(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// changedSeqs returns the change numbers of the user's nodes, in order.
func changedSeqs(t *testing.T, s meta.Store, userID string) []int64 {
	t.Helper()
	var seqs []int64
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		nodes, err := tx.Changed(ctx, userID, 0, 100000)
		for _, n := range nodes {
			seqs = append(seqs, n.ChangeSeq)
		}
		return err
	})
	return seqs
}

func wantSeqs(t *testing.T, what string, got []int64, n int) {
	t.Helper()
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want 1..%d without gaps", what, got, n)
	}
}

// testConcurrentUpdatesOneFails: of concurrent Updates that each create a
// folder, one writes and then fails; the others commit, and nothing of the
// failed one remains, not even its change number.
func testConcurrentUpdatesOneFails(t *testing.T, s meta.Store) {
	const n, failing = 12, 5
	u, root := createUser(t, s, "alice")
	errBoom := errors.New("boom")
	made := make([]*drive.Node, n)
	errs := make([]error, n)
	together(n, func(i int) {
		ctx := t.Context()
		errs[i] = s.Update(ctx, func(tx meta.Tx) error {
			f, err := createFolder(ctx, tx, u.ID, root.ID, fmt.Sprintf("f%02d", i))
			made[i] = f
			if err != nil {
				return err
			}
			time.Sleep(2 * time.Millisecond)
			if i == failing {
				return errBoom
			}
			return nil
		})
	})
	for i, err := range errs {
		if i == failing {
			if !errors.Is(err, errBoom) {
				t.Errorf("Update %d (failing) = %v, want boom", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Update %d = %v, want nil", i, err)
		}
	}
	for i, f := range made {
		_, err := getNode(t, s, u.ID, f.ID)
		switch {
		case i == failing && !drive.Is(drive.NotFound, err):
			t.Errorf("folder of the failed Update: Node = %v, want NotFound", err)
		case i != failing && err != nil:
			t.Errorf("folder of Update %d: Node = %v, want it committed", i, err)
		}
	}
	wantSeqs(t, "change numbers after concurrent Updates, one failed", changedSeqs(t, s, u.ID), n-1)
	if got := currentSeq(t, s, u.ID); got != n-1 {
		t.Errorf("CurrentSeq = %d, want %d", got, n-1)
	}
}

// testConcurrentUpdatesConflict: concurrent Updates of which one meets a
// unique violation in the database (a live name already taken) after
// writing: it gets its Conflict, the others commit.
func testConcurrentUpdatesConflict(t *testing.T, s meta.Store) {
	const n, conflicting = 8, 3
	u, root := createUser(t, s, "alice")
	taken := folder(u.ID, "taken", root.ID)
	insert(t, s, taken)
	errs := make([]error, n)
	together(n, func(i int) {
		ctx := t.Context()
		errs[i] = s.Update(ctx, func(tx meta.Tx) error {
			if _, err := createFolder(ctx, tx, u.ID, root.ID, fmt.Sprintf("f%02d", i)); err != nil {
				return err
			}
			time.Sleep(2 * time.Millisecond)
			if i == conflicting {
				_, err := createFolder(ctx, tx, u.ID, root.ID, "TAKEN")
				return err
			}
			return nil
		})
	})
	for i, err := range errs {
		if i == conflicting {
			wantConflict(t, "Update meeting a taken name", err, taken.ID)
		} else if err != nil {
			t.Errorf("Update %d = %v, want nil", i, err)
		}
	}
	var names []string
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		pg, err := tx.List(ctx, meta.Query{UserID: u.ID, Parent: root.ID, Limit: 200})
		for _, nd := range pg.Nodes {
			names = append(names, nd.Name)
		}
		return err
	})
	slices.Sort(names)
	want := []string{"f00", "f01", "f02", "f04", "f05", "f06", "f07", "taken"}
	if !slices.Equal(names, want) {
		t.Errorf("children after the conflict = %v, want %v", names, want)
	}
	wantSeqs(t, "change numbers", changedSeqs(t, s, u.ID), n-1)
}

// testConcurrentUpdatesPanic: a closure that panics after writing panics
// in its caller's goroutine with the same value, leaves nothing behind,
// and neither concurrent Updates nor later ones suffer.
func testConcurrentUpdatesPanic(t *testing.T, s meta.Store) {
	const n, panicking = 6, 2
	u, root := createUser(t, s, "alice")
	type boom struct{ msg string }
	errs := make([]error, n)
	var recovered any
	together(n, func(i int) {
		ctx := t.Context()
		defer func() {
			if i == panicking {
				recovered = recover()
			}
		}()
		errs[i] = s.Update(ctx, func(tx meta.Tx) error {
			if _, err := createFolder(ctx, tx, u.ID, root.ID, fmt.Sprintf("f%02d", i)); err != nil {
				return err
			}
			time.Sleep(2 * time.Millisecond)
			if i == panicking {
				panic(boom{"in the transaction"})
			}
			return nil
		})
	})
	if b, ok := recovered.(boom); !ok || b.msg != "in the transaction" {
		t.Errorf("the panicking Update's caller recovered %#v, want the closure's value", recovered)
	}
	for i, err := range errs {
		if i != panicking && err != nil {
			t.Errorf("Update %d = %v, want nil", i, err)
		}
	}
	wantSeqs(t, "change numbers after a panic", changedSeqs(t, s, u.ID), n-1)
	// The store still works.
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := createFolder(ctx, tx, u.ID, root.ID, "after")
		return err
	})
	wantSeqs(t, "change numbers after the next Update", changedSeqs(t, s, u.ID), n)
}

// testConcurrentChangeOrder: many writers of two users, and a reader that
// must never see a change number before every lower one of the same user
// is visible too (a checkpoint taken at the highest number it saw would
// otherwise skip a change committed later).
func testConcurrentChangeOrder(t *testing.T, s meta.Store) {
	const writers, each = 8, 15
	alice, aroot := createUser(t, s, "alice")
	bob, broot := createUser(t, s, "bob")
	ctx, stop := context.WithCancel(t.Context())
	readerDone := make(chan error, 1)
	go func() {
		var last int64
		for ctx.Err() == nil {
			var seqs []int64
			err := s.View(t.Context(), func(tx meta.Tx) error {
				nodes, err := tx.Changed(t.Context(), alice.ID, 0, 100000)
				for _, n := range nodes {
					seqs = append(seqs, n.ChangeSeq)
				}
				return err
			})
			if err != nil {
				readerDone <- err
				return
			}
			for i, seq := range seqs {
				if seq != int64(i+1) {
					readerDone <- fmt.Errorf("a reader saw change numbers %v: %d is visible before %d", seqs, seq, i+1)
					return
				}
			}
			if int64(len(seqs)) < last {
				readerDone <- fmt.Errorf("a reader saw %d changes after %d", len(seqs), last)
				return
			}
			last = int64(len(seqs))
		}
		readerDone <- nil
	}()
	errs := make([]error, writers)
	together(writers, func(w int) {
		for k := range each {
			user, root := alice, aroot
			if k%3 == 2 {
				user, root = bob, broot
			}
			err := s.Update(t.Context(), func(tx meta.Tx) error {
				_, err := createFolder(t.Context(), tx, user.ID, root.ID, fmt.Sprintf("w%d-%d", w, k))
				return err
			})
			if err != nil {
				errs[w] = err
				return
			}
		}
	})
	stop()
	if err := <-readerDone; err != nil {
		t.Error(err)
	}
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	wantSeqs(t, "alice's change numbers", changedSeqs(t, s, alice.ID), writers*10)
	wantSeqs(t, "bob's change numbers", changedSeqs(t, s, bob.ID), writers*5)
}

// testUpdateCancelled: an Update whose context has ended fails without
// running, and writes nothing.
func testUpdateCancelled(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	err := s.Update(ctx, func(tx meta.Tx) error {
		ran = true
		_, err := createFolder(ctx, tx, u.ID, root.ID, "never")
		return err
	})
	if err == nil {
		t.Errorf("Update with a cancelled context = nil, want an error")
	}
	if ran && err == nil {
		t.Errorf("the closure of a cancelled Update committed")
	}
	if got := currentSeq(t, s, u.ID); got != 0 {
		t.Errorf("CurrentSeq after a cancelled Update = %d, want 0", got)
	}
}
