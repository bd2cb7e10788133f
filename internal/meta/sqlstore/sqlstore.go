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
}

var _ meta.Store = (*Store)(nil)

const maxRetries = 5

// Update implements meta.Store.
func (s *Store) Update(ctx context.Context, fn func(tx meta.Tx) error) error {
	var err error
	for attempt := 0; attempt < maxRetries; attempt++ {
		err = s.run(ctx, s.Write, false, fn)
		if err == nil || s.Dialect.IsRetryable == nil || !s.Dialect.IsRetryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// View implements meta.Store.
func (s *Store) View(ctx context.Context, fn func(tx meta.Tx) error) error {
	return s.run(ctx, s.Read, s.ReadOnlyTx, fn)
}

func (s *Store) run(ctx context.Context, db *sql.DB, readOnly bool, fn func(tx meta.Tx) error) error {
	const op = "meta.tx"
	stx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return s.dbErr(op, err)
	}
	t := &tx{tx: stx, d: &s.Dialect}
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

// Close implements meta.Store.
func (s *Store) Close() error {
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
