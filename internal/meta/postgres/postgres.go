// Package postgres opens the scale-out metadata store: PostgreSQL through
// pgx (github.com/jackc/pgx/v5), with the queries of package sqlstore, the
// same implementation the SQLite store runs. Only the Dialect and the
// schema files differ; migrations/ mirrors sqlite/migrations with BIGINT
// times and byte-order (COLLATE "C") text, applied by goose as on SQLite.
//
// Dependency: pgx is the maintained pure-Go PostgreSQL driver. Its pgxpool
// holds the connections and its stdlib adapter exposes them as the
// *sql.DB that sqlstore and goose take, so nothing is written twice.
//
// # Transactions and replicas
//
// Any number of server replicas may share one database; every rule is
// enforced by the database, never by a lock in one process:
//
//   - Update transactions run at READ COMMITTED. Each mutating transaction
//     of package nodes first calls NextSeq (UPDATE users ... RETURNING),
//     which row-locks the user: one user's writers queue on that row
//     whichever replica they run on, so change numbers follow commit order
//     and every later statement sees the latest committed rows.
//   - Live names are unique through the partial unique index on
//     node_parents; quotas and the change sequence are checked and bumped
//     under the user's row lock.
//   - View transactions run at REPEATABLE READ, READ ONLY: one snapshot for
//     the whole transaction, as SQLite's WAL readers get.
//   - Serialization failures (40001) and deadlocks (40P01) are retried by
//     sqlstore.Store.Update.
//   - The garbage collector's meta.Tx.LockBlob is a transaction-scoped
//     advisory lock (pg_advisory_xact_lock), shared by all replicas.
//   - Migrations run under a session advisory lock per schema, so replicas
//     starting together migrate once.
//
// # DSN
//
// Open takes a libpq-style URL or key=value string, as pgx parses it, e.g.
// postgres://user:pass@host:5432/db?sslmode=disable. Standard PG*
// environment variables fill in what it leaves out. A search_path
// parameter selects the schema (tests use one schema per server). The
// pool size is pgx's pool_max_conns parameter (default 16 here).
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// defaultMaxConns is the pool size when the DSN sets no pool_max_conns.
const defaultMaxConns = 16

// Open connects to the database named by dsn, applies pending migrations
// and returns the store. The caller closes it.
func Open(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	write, err := newPool(ctx, dsn, "read committed")
	if err != nil {
		return nil, err
	}
	wdb := stdlib.OpenDBFromPool(write)
	if err := migrate(ctx, wdb); err != nil {
		wdb.Close()
		write.Close()
		return nil, err
	}
	read, err := newPool(ctx, dsn, "repeatable read")
	if err != nil {
		wdb.Close()
		write.Close()
		return nil, err
	}
	rdb := stdlib.OpenDBFromPool(read)
	return &sqlstore.Store{
		Write:      wdb,
		Read:       rdb,
		Dialect:    Dialect(),
		ReadOnlyTx: true,
		OnClose: func() error {
			write.Close()
			read.Close()
			return nil
		},
	}, nil
}

// newPool opens a pool whose transactions default to isolation.
func newPool(ctx context.Context, dsn, isolation string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", redact(err))
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	rp := cfg.ConnConfig.RuntimeParams
	rp["default_transaction_isolation"] = isolation
	// The filter compiler's LIKE ... ESCAPE '\' needs standard strings.
	rp["standard_conforming_strings"] = "on"
	if rp["application_name"] == "" {
		rp["application_name"] = "clouddrive"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", redact(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", redact(err))
	}
	return pool, nil
}

// redact drops what pgx quotes of a DSN from an error; it may hold a
// password.
func redact(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("invalid DSN")
	}
	return err
}

// provider returns the migrations of this store on db.
func provider(db *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(schemaLocker{}))
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// schemaLocker is a goose session locker that waits (without polling) on
// a session advisory lock keyed by the current schema, so that replicas
// starting at once migrate one after the other while servers on other
// schemas of the same database do not wait for each other.
type schemaLocker struct{}

const lockKey = `hashtextextended('clouddrive-migrate:' || current_schema(), 0)`

func (schemaLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`)
	return err
}

func (schemaLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(`+lockKey+`)`)
	return err
}

// PostgreSQL error codes the dialect recognises.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// Dialect is the PostgreSQL dialect of sqlstore.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:     "postgres",
		Numbered: true,
		IsUniqueViolation: func(err error) bool {
			return pgCode(err) == codeUniqueViolation
		},
		IsRetryable: func(err error) bool {
			c := pgCode(err)
			return c == codeSerializationFailure || c == codeDeadlockDetected
		},
	}
}
