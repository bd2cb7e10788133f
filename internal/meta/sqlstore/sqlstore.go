// Package sqlstore implements meta.Store over database/sql with portable
// SQL, so that the SQLite and PostgreSQL adapters share one implementation
// of every query and differ only in a Dialect: placeholder syntax, how a
// unique violation is recognised, and how a write transaction begins.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Dialect captures what differs between SQL databases.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Numbered placeholders ($1, $2, ...) instead of '?'.
	Numbered bool
	// IsUniqueViolation reports whether err is a unique-constraint error.
	IsUniqueViolation func(err error) bool
	// IsRetryable reports whether a transaction failed for a reason that a
	// retry may fix (serialization failure, deadlock, busy).
	IsRetryable func(err error) bool

	// wire renders the nodes.wire column (Store.SetWire); nil stores
	// none. It lives here because every transaction of a Store, grouped
	// or not, reaches the Store's Dialect.
	wire meta.WireFunc
}

// Store is a meta.Store over two connection pools: Write (for Update) and
// Read (for View). They may be the same pool.
type Store struct {
	Write   *sql.DB
	Read    *sql.DB
	Dialect Dialect
	// ReadOnlyTx marks View transactions read-only (PostgreSQL).
	ReadOnlyTx bool
	// OnClose, if set, runs on Close after the pools are closed.
	OnClose func() error
	// Check, if set, is a backend-specific health check Ping runs after
	// its queries (SQLite: the database file is still in place).
	Check func(ctx context.Context) error
	// GroupCommit runs the Updates of concurrent callers together in one
	// transaction, one savepoint each, with one COMMIT (see group.go). It
	// suits a database with a single writer (SQLite); set it before the
	// first Update.
	GroupCommit bool
	// CacheStatements keeps the statements transactions run prepared, per
	// pool (see stmtcache.go), for a driver that does not (SQLite); set it
	// before the first transaction.
	CacheStatements bool
	// EnterRead, if set, runs before every View transaction begins, and
	// the function it returns after it ends (SQLite: a gate that the WAL
	// checkpointer closes for a moment to restart the WAL).
	EnterRead func(ctx context.Context) (leave func(), err error)

	groupOnce sync.Once
	group     *committer
	cacheOnce sync.Once
	wstmts    *stmtCache
	rstmts    *stmtCache
}

var _ meta.Store = (*Store)(nil)

const maxRetries = 5

// Update implements meta.Store. With GroupCommit, fn runs on the store's
// committer goroutine, in a batch with other callers' closures; Update
// returns once the batch has committed (or fn failed), and a panic in fn
// is raised again here.
func (s *Store) Update(ctx context.Context, fn func(tx meta.Tx) error) error {
	var err error
	for attempt := 0; attempt < maxRetries; attempt++ {
		if s.GroupCommit {
			c := s.committer()
			if c == nil { // closed before any Update
				return drive.E("meta.tx", drive.Unavailable, "metadata store closed", errClosed)
			}
			err = c.update(ctx, fn)
		} else {
			err = s.run(ctx, s.Write, false, fn)
		}
		if err == nil || s.Dialect.IsRetryable == nil || !s.Dialect.IsRetryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// GroupStats returns how many batches the group committer has committed
// and how many Updates they held (zeros without GroupCommit).
func (s *Store) GroupStats() (batches, updates int64) {
	if !s.GroupCommit {
		return 0, 0
	}
	c := s.committer()
	if c == nil {
		return 0, 0
	}
	return c.batches.Load(), c.commits.Load()
}

// committer starts the group committer on first use. It returns nil once
// the store is closed.
func (s *Store) committer() *committer {
	s.groupOnce.Do(func() {
		w, _ := s.stmtCaches()
		s.group = newCommitter(s.Write, &s.Dialect, s.dbErr, w)
	})
	return s.group
}

// stmtCaches returns the statement caches of the write and read pools, or
// nils without CacheStatements.
func (s *Store) stmtCaches() (w, r *stmtCache) {
	if !s.CacheStatements {
		return nil, nil
	}
	s.cacheOnce.Do(func() {
		s.wstmts = newStmtCache(s.Write)
		s.rstmts = s.wstmts
		if s.Read != s.Write {
			s.rstmts = newStmtCache(s.Read)
		}
	})
	return s.wstmts, s.rstmts
}

// View implements meta.Store.
func (s *Store) View(ctx context.Context, fn func(tx meta.Tx) error) error {
	if s.EnterRead != nil {
		leave, err := s.EnterRead(ctx)
		if err != nil {
			return s.dbErr("meta.tx", err)
		}
		defer leave()
	}
	return s.run(ctx, s.Read, s.ReadOnlyTx, fn)
}

func (s *Store) run(ctx context.Context, db *sql.DB, readOnly bool, fn func(tx meta.Tx) error) error {
	const op = "meta.tx"
	stx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return s.dbErr(op, err)
	}
	wc, rc := s.stmtCaches()
	t := &tx{tx: stx, d: &s.Dialect, stmts: rc}
	if db == s.Write {
		t.stmts = wc
	}
	if t.stmts != nil {
		defer t.stmts.flush() // runs after the transaction has ended
	}
	defer func() {
		if v := recover(); v != nil {
			_ = stx.Rollback() // give the connection back before panicking on
			panic(v)
		}
	}()
	if err := fn(t); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return s.dbErr(op, err)
	}
	return nil
}

func (s *Store) dbErr(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return drive.E(op, drive.Unavailable, "request cancelled", err)
	}
	return drive.Wrap(op, err)
}

// Ping implements meta.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.Write.PingContext(ctx); err != nil {
		return drive.E("meta.Ping", drive.Unavailable, "metadata store unreachable", err)
	}
	var one int
	if err := s.Read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return drive.E("meta.Ping", drive.Unavailable, "metadata store unreachable", err)
	}
	if s.Check != nil {
		if err := s.Check(ctx); err != nil {
			return drive.E("meta.Ping", drive.Unavailable, "metadata store unavailable", err)
		}
	}
	return nil
}

// Close implements meta.Store. Updates already taken into a batch finish
// first; later ones fail.
func (s *Store) Close() error {
	if s.GroupCommit {
		s.groupOnce.Do(func() {}) // none started: none will
		if s.group != nil {
			s.group.close()
		}
	}
	if w, r := s.stmtCaches(); w != nil {
		w.close()
		r.close()
	}
	err := s.Write.Close()
	if s.Read != s.Write {
		err = errors.Join(err, s.Read.Close())
	}
	if s.OnClose != nil {
		err = errors.Join(err, s.OnClose())
	}
	return err
}

// rebind rewrites '?' placeholders to $n for numbered dialects. Queries
// never contain '?' inside literals.
func rebind(d *Dialect, q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
