package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/clouddrive/clouddrive/internal/meta"
)

// openKV opens a SQLite database with one table, kv, through a pool of
// one connection whose transactions begin IMMEDIATE, as package sqlite
// opens its write pool.
func openKV(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "kv.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func keys(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT k FROM kv ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ks []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	return ks
}

// put returns a closure that inserts key, then does then.
func put(key string, then func(t *tx) error) func(meta.Tx) error {
	return func(mt meta.Tx) error {
		t := mt.(*tx)
		if _, err := t.exec(context.Background(), `INSERT INTO kv (k, v) VALUES (?, 'x')`, key); err != nil {
			return err
		}
		if then != nil {
			return then(t)
		}
		return nil
	}
}

func req(fn func(meta.Tx) error) *request {
	return &request{ctx: context.Background(), fn: fn, done: make(chan struct{})}
}

func testCommitter(db *sql.DB) *committer {
	d := &Dialect{Name: "sqlite"}
	return &committer{db: db, d: d, err: func(_ string, err error) error { return err },
		reqs: make(chan *request), quit: make(chan struct{}), done: make(chan struct{})}
}

func isDone(r *request) bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// TestBatchSavepoints runs one batch of closures that succeed, fail,
// meet a unique violation and panic: only the successful ones commit, each
// caller gets its own outcome.
func TestBatchSavepoints(t *testing.T) {
	db := openKV(t)
	c := testCommitter(db)
	errBoom := errors.New("boom")
	ok1 := req(put("a", nil))
	fail := req(put("b", func(*tx) error { return errBoom }))
	dup := req(put("c", func(t *tx) error {
		_, err := t.exec(context.Background(), `INSERT INTO kv (k, v) VALUES ('a', 'again')`)
		return err
	}))
	pan := req(put("d", func(*tx) error { panic("in the batch") }))
	ok2 := req(put("e", nil))
	if again := c.batch([]*request{ok1, fail, dup, pan, ok2}); len(again) != 0 {
		t.Fatalf("batch asked to run %d requests again, want none", len(again))
	}
	for _, r := range []*request{ok1, fail, dup, pan, ok2} {
		if !isDone(r) {
			t.Fatal("a request of the batch was not released")
		}
	}
	if ok1.err != nil || ok2.err != nil {
		t.Errorf("successful closures got %v, %v; want nil", ok1.err, ok2.err)
	}
	if !errors.Is(fail.err, errBoom) {
		t.Errorf("failing closure got %v, want boom", fail.err)
	}
	if dup.err == nil {
		t.Error("closure meeting a unique violation got nil")
	}
	if pan.panicked != "in the batch" {
		t.Errorf("panicking closure: panicked = %#v", pan.panicked)
	}
	if got, want := keys(t, db), []string{"a", "e"}; !slices.Equal(got, want) {
		t.Errorf("rows after the batch = %v, want %v", got, want)
	}
	if c.batches.Load() != 1 || c.commits.Load() != 2 {
		t.Errorf("stats = %d batches, %d commits; want 1, 2", c.batches.Load(), c.commits.Load())
	}
}

// TestBatchLostTransaction: when the transaction itself is gone (as when
// SQLite rolls it back on a full disk), the closure that was running
// reports an error and those that had succeeded in it run again.
func TestBatchLostTransaction(t *testing.T) {
	db := openKV(t)
	c := testCommitter(db)
	runs := map[string]int{}
	counted := func(key string, then func(t *tx) error) func(meta.Tx) error {
		inner := put(key, then)
		return func(mt meta.Tx) error {
			runs[key]++
			return inner(mt)
		}
	}
	a := req(counted("a", nil))
	breaker := req(counted("b", func(t *tx) error {
		// What SQLite does on its own after SQLITE_FULL or SQLITE_IOERR.
		_, err := t.exec(context.Background(), `ROLLBACK`)
		return err
	}))
	after := req(counted("c", nil))
	again := c.batch([]*request{a, breaker, after})
	if !isDone(breaker) || breaker.err == nil {
		t.Fatalf("the closure that lost the transaction: done %v, err %v; want an error", isDone(breaker), breaker.err)
	}
	if isDone(a) || isDone(after) {
		t.Fatal("requests whose work was lost were released")
	}
	if len(again) != 2 || again[0] != a || again[1] != after {
		t.Fatalf("batch returned %d requests to run again, want a and c", len(again))
	}
	if got := keys(t, db); len(got) != 0 {
		t.Fatalf("rows after the lost batch = %v, want none", got)
	}
	if again := c.batch(again); len(again) != 0 {
		t.Fatalf("second batch returned %d to run again", len(again))
	}
	if a.err != nil || after.err != nil || !isDone(a) || !isDone(after) {
		t.Errorf("rerun requests: %v, %v", a.err, after.err)
	}
	if got, want := keys(t, db), []string{"a", "c"}; !slices.Equal(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
	if runs["a"] != 2 || runs["b"] != 1 || runs["c"] != 1 {
		t.Errorf("runs = %v, want a twice, b and c once", runs)
	}
}

// TestGroupCommitBatches: concurrent Updates through a Store with
// GroupCommit share transactions, and all of them commit.
func TestGroupCommitBatches(t *testing.T) {
	db := openKV(t)
	s := &Store{Write: db, Read: db, Dialect: Dialect{Name: "sqlite"}, GroupCommit: true, CacheStatements: true}
	const n = 32
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.Update(t.Context(), put(fmt.Sprintf("k%02d", i), func(*tx) error {
				time.Sleep(5 * time.Millisecond) // let the others queue up
				return nil
			}))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
	}
	if got := len(keys(t, db)); got != n {
		t.Errorf("%d rows, want %d", got, n)
	}
	batches, updates := s.GroupStats()
	t.Logf("%d Updates in %d batches", updates, batches)
	if updates != n || batches > n/2 {
		t.Errorf("GroupStats = %d batches, %d updates; want %d updates in at most %d batches", batches, updates, n, n/2)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), put("late", nil)); err == nil {
		t.Error("Update after Close = nil, want an error")
	}
}
