// Package sqlite opens the embedded metadata store: a SQLite database file
// (modernc.org/sqlite, pure Go, no cgo) in WAL mode with foreign keys on.
//
// Writes go through a pool of one connection whose transactions begin
// IMMEDIATE, so writers queue in Go instead of failing with SQLITE_BUSY;
// reads use a separate pool and see WAL snapshots. Concurrent writes are
// group-committed (sqlstore.Store.GroupCommit): one goroutine runs their
// closures in one transaction, a savepoint each, and commits them with one
// fsync before any of them returns; statements stay prepared between
// transactions (sqlstore.Store.CacheStatements). WAL checkpoints run in
// the background on a connection of their own, never inside a commit.
// synchronous=FULL makes
// every acknowledged commit durable across power loss, not only across a
// process crash. A busy timeout lets a second process (clouddrive admin
// while the server runs) wait for the write lock.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyMillis is how long a connection waits for a lock another holds.
const busyMillis = 10000

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	dsn := func(txlock string, pragmas ...string) string {
		v := url.Values{}
		for _, p := range append([]string{"busy_timeout(" + strconv.Itoa(busyMillis) + ")", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)"}, pragmas...) {
			v.Add("_pragma", p)
		}
		v.Set("_txlock", txlock)
		return "file:" + path + "?" + v.Encode()
	}
	// Checkpoints run on a connection of their own (checkpoint.go).
	// Savepoint journals (one per closure of a group commit) stay in
	// memory rather than in a temp file written page by page.
	write, err := sql.Open("sqlite", dsn("immediate", "wal_autocheckpoint(0)", "temp_store(MEMORY)"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	// Readers map the file (up to SQLite's 2 GiB limit) instead of
	// reading it through each connection's 2 MiB page cache: a full
	// changes sync or a filtered listing of a large account reads many
	// more pages than that (a filter over a folder of 10,000 children
	// took 77 ms instead of 25 in an account of 1M nodes).
	read, err := sql.Open("sqlite", dsn("deferred", "query_only(1)", "mmap_size(2147418112)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	opened, err := os.Stat(path)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	cpdb, err := sql.Open("sqlite", dsn("deferred"))
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	cpdb.SetMaxOpenConns(1)
	gate := &readGate{}
	cp := startCheckpointer(cpdb, write, gate)
	return &sqlstore.Store{Write: write, Read: read, Dialect: dialect(), Check: sameFile(path, opened),
		GroupCommit: true, CacheStatements: true, OnClose: cp.close, EnterRead: gate.enter}, nil
}

// sameFile checks that path is still the database file that was opened.
// Open connections keep working on a file that was deleted, moved or
// replaced, but nothing written then survives a restart, so the store is
// not ready.
func sameFile(path string, opened os.FileInfo) func(context.Context) error {
	return func(context.Context) error {
		now, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("database file: %w", err)
		}
		if !os.SameFile(now, opened) {
			return fmt.Errorf("database file %s was replaced while open", path)
		}
		return nil
	}
}

// provider returns the migrations of this store on db.
func provider(db *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	return p, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// dialect is the SQLite dialect of sqlstore.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name: "sqlite",
		IsUniqueViolation: func(err error) bool {
			var e *sqlite.Error
			if errors.As(err, &e) {
				return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
			}
			return false
		},
		IsRetryable: func(err error) bool {
			var e *sqlite.Error
			if errors.As(err, &e) {
				c := e.Code() & 0xff
				return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
			}
			return false
		},
	}
}
