package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// maxCachedStmts bounds the statements a cache keeps: the fixed queries of
// this package number about a hundred; what is built per request (filter
// queries, IN lists of every length) may take the rest and then runs
// unprepared.
const maxCachedStmts = 512

// stmtCache keeps the prepared statements of one pool, by query text, so
// that a query that runs again is not compiled again (SQLite through
// database/sql prepares and finalizes every statement of every call: on a
// small upload that was about a seventh of the server's CPU time).
//
// A statement is prepared on the pool (database/sql's Stmt), which needs a
// free connection: a query met for the first time inside a transaction
// runs unprepared and is remembered, and flush prepares it once the
// transaction has ended. Inside later transactions, Tx.StmtContext reuses
// the statement as already prepared on that transaction's connection, or
// prepares it there once.
type stmtCache struct {
	db      *sql.DB
	stmts   sync.Map // query -> *sql.Stmt, nil when it could not be prepared
	n       atomic.Int64
	mu      sync.Mutex
	pending map[string]struct{}
	waiting atomic.Bool // pending is not empty
	closed  bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, pending: map[string]struct{}{}}
}

// get returns the prepared statement of q, or nil when there is none yet.
func (c *stmtCache) get(q string) *sql.Stmt {
	if v, ok := c.stmts.Load(q); ok {
		return v.(*sql.Stmt)
	}
	if c.n.Load() < maxCachedStmts {
		c.mu.Lock()
		if !c.closed && len(c.pending) < maxCachedStmts {
			c.pending[q] = struct{}{}
			c.waiting.Store(true)
		}
		c.mu.Unlock()
	}
	return nil
}

// flush prepares the statements met since the last call. Call it with no
// transaction of the pool open on this goroutine (it takes a connection).
func (c *stmtCache) flush() {
	if !c.waiting.Load() {
		return
	}
	c.mu.Lock()
	qs := make([]string, 0, len(c.pending))
	for q := range c.pending {
		qs = append(qs, q)
	}
	clear(c.pending)
	c.waiting.Store(false)
	c.mu.Unlock()
	for _, q := range qs {
		if _, ok := c.stmts.Load(q); ok || c.n.Load() >= maxCachedStmts {
			continue
		}
		// Not the caller's context: a cancelled request must not leave a
		// statement marked as unpreparable.
		st, err := c.db.PrepareContext(context.Background(), q)
		if err != nil {
			st = nil // stays unprepared
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			if st != nil {
				_ = st.Close()
			}
			return
		}
		if _, dup := c.stmts.LoadOrStore(q, st); dup {
			if st != nil {
				_ = st.Close()
			}
		} else {
			c.n.Add(1)
		}
		c.mu.Unlock()
	}
}

// close closes the prepared statements.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.stmts.Range(func(q, v any) bool {
		if st := v.(*sql.Stmt); st != nil {
			_ = st.Close()
		}
		c.stmts.Delete(q)
		return true
	})
}
