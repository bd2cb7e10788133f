package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Group commit (SQLite).
//
// SQLite has one writer at a time, and every commit of a durable
// (synchronous=FULL) database waits for an fsync of the WAL. With one
// transaction per Update, concurrent writers queue for the write lock and
// pay one fsync each. A committer instead runs the closures of concurrent
// Updates one after the other on its own goroutine, inside one
// transaction, each in a SAVEPOINT of its own, and commits them together:
//
//   - a closure that fails (or panics) is rolled back to its savepoint,
//     and only its own changes go;
//   - everything the other closures did commits atomically, with one
//     fsync; each caller is released only after that COMMIT has returned,
//     so a successful Update still means committed and durable;
//   - closures run in the order they were taken, each seeing what the
//     ones before it wrote, exactly as if they had run one at a time; the
//     batch becomes visible at once, so change numbers (bumped per user
//     inside the closures) still follow commit order.
//
// Cancellation: a statement that starts after its caller's context ended
// fails, which rolls back that closure; a running statement is never
// interrupted (an interrupted write inside a transaction makes SQLite roll
// back the whole transaction, other callers' work included). A caller
// whose context ends while it waits in the queue leaves at once; once its
// closure has started, it waits for the batch.
//
// When SQLite rolls back the whole transaction on its own (a full disk or
// an I/O error in a statement), the closures that had succeeded in it run
// again in the next batch (closures may be retried, as meta.Store says),
// and the one that met the error returns it.

const (
	// maxBatch bounds the closures of one batch.
	maxBatch = 128
	// maxBatchTime stops a batch from taking more closures once it has run
	// this long, so that a caller's wait stays bounded.
	maxBatchTime = 20 * time.Millisecond
)

// errClosed is returned by Update after Close.
var errClosed = errors.New("metadata store closed")

// request is one Update waiting for, or in, a batch.
type request struct {
	ctx   context.Context
	fn    func(tx meta.Tx) error
	state atomic.Int32 // reqQueued, reqTaken or reqCancelled
	err   error
	// panicked holds what fn panicked with, to panic again in the caller.
	panicked any
	done     chan struct{}
}

const (
	reqQueued int32 = iota
	reqTaken
	reqCancelled
)

// committer is the one goroutine that runs the write transactions of a
// Store with GroupCommit set.
type committer struct {
	db    *sql.DB
	d     *Dialect
	err   func(op string, err error) error
	stmts *stmtCache    // may be nil
	reqs  chan *request // unbuffered: a send that succeeds was taken by run
	quit  chan struct{}
	done  chan struct{}
	// stopOnce guards quit.
	stopOnce sync.Once
	// batches and commits count committed batches and the Updates they
	// committed.
	batches, commits atomic.Int64
}

func newCommitter(db *sql.DB, d *Dialect, dbErr func(op string, err error) error, stmts *stmtCache) *committer {
	c := &committer{db: db, d: d, err: dbErr, stmts: stmts, reqs: make(chan *request), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// update queues fn and waits for the batch that runs it to end.
func (c *committer) update(ctx context.Context, fn func(tx meta.Tx) error) error {
	const op = "meta.tx"
	if err := ctx.Err(); err != nil {
		return c.err(op, err)
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case c.reqs <- r:
	case <-c.quit:
		return drive.E(op, drive.Unavailable, "metadata store closed", errClosed)
	case <-ctx.Done():
		return c.err(op, ctx.Err())
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqCancelled) {
			return c.err(op, ctx.Err()) // never started: nothing was written
		}
		<-r.done
	}
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// close stops the committer after the requests it has taken.
func (c *committer) close() {
	c.stopOnce.Do(func() { close(c.quit) })
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	var again []*request // to run first in the next batch
	for {
		if len(again) == 0 {
			select {
			case r := <-c.reqs:
				again = append(again, r)
			case <-c.quit:
				// Serve whoever got in before quit was seen, then stop.
				for {
					select {
					case r := <-c.reqs:
						again = c.batch([]*request{r})
						for len(again) > 0 {
							again = c.batch(again)
						}
					default:
						return
					}
				}
			}
		}
		again = c.batch(again)
		if c.stmts != nil {
			c.stmts.flush() // the connection is free between batches
		}
	}
}

// batch runs first, then whatever else is queued, in one transaction, and
// commits it. It returns the requests to run again: those whose work was
// lost when SQLite rolled back the transaction itself.
func (c *committer) batch(first []*request) (again []*request) {
	const op = "meta.tx"
	stx, err := c.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range first {
			c.finish(r, c.err(op, err))
		}
		return nil
	}
	start := time.Now()
	var ran []*request // closures that succeeded, waiting for COMMIT
	next := func() *request {
		if len(first) > 0 {
			r := first[0]
			first = first[1:]
			return r
		}
		if len(ran) >= maxBatch || time.Since(start) > maxBatchTime {
			return nil
		}
		select {
		case r := <-c.reqs:
			return r
		default:
			return nil
		}
	}
	for r := next(); r != nil; r = next() {
		if !r.state.CompareAndSwap(reqQueued, reqTaken) && r.state.Load() != reqTaken {
			close(r.done) // its caller gave up before it started
			continue
		}
		ok, broken := c.one(stx, r)
		if broken {
			// SQLite rolled the whole transaction back: what ran before is
			// gone. Run it again, and what was still to come, next time.
			_ = stx.Rollback()
			return append(ran, first...)
		}
		if ok {
			ran = append(ran, r)
		} else {
			close(r.done) // its error is its own; nothing of it will commit
		}
	}
	if err := stx.Commit(); err != nil {
		err = c.err(op, err)
		for _, r := range ran {
			c.finish(r, err)
		}
		return nil
	}
	c.batches.Add(1)
	c.commits.Add(int64(len(ran)))
	for _, r := range ran {
		close(r.done)
	}
	return nil
}

func (c *committer) finish(r *request, err error) {
	r.err = err
	close(r.done)
}

// one runs r's closure in a savepoint of stx. ok reports whether it
// succeeded and is waiting for the COMMIT; broken, that the transaction
// no longer exists (r has been finished, with an error, then).
func (c *committer) one(stx *sql.Tx, r *request) (ok, broken bool) {
	const op = "meta.tx"
	if err := r.ctx.Err(); err != nil {
		r.err = c.err(op, err)
		return false, false
	}
	bg := context.Background()
	if _, err := stx.ExecContext(bg, `SAVEPOINT batch_item`); err != nil {
		r.err = c.err(op, err)
		close(r.done)
		return false, true
	}
	r.err, r.panicked = nil, nil
	t := &tx{tx: stx, d: c.d, detached: true, stmts: c.stmts}
	err := callFn(r, t)
	if err == nil {
		if _, err := stx.ExecContext(bg, `RELEASE batch_item`); err != nil {
			// The closure succeeded, but the transaction it ran in is
			// gone: it reports the failure rather than running again.
			r.err = c.err(op, fmt.Errorf("transaction lost: %w", err))
			close(r.done)
			return false, true
		}
		return true, false
	}
	r.err = err
	if _, rerr := stx.ExecContext(bg, `ROLLBACK TO batch_item`); rerr != nil {
		close(r.done)
		return false, true
	}
	if _, rerr := stx.ExecContext(bg, `RELEASE batch_item`); rerr != nil {
		close(r.done)
		return false, true
	}
	return false, false
}

// callFn runs r's closure, turning a panic into an error for the batch
// (the value is kept to panic again in the caller's goroutine).
func callFn(r *request, t *tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			r.panicked = v
			err = fmt.Errorf("panic in transaction: %v", v)
		}
	}()
	return r.fn(t)
}
