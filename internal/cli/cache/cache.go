// Package cache is the CLI's local node cache: a SQLite database
// (modernc.org/sqlite, no cgo) holding every node of one account as the
// changes feed last described it, plus the feed's checkpoint.
//
// The cache is filled by applying change sets in order (Apply), each in
// one transaction together with its checkpoint, so an interrupted sync
// resumes from the last set applied. A set with reset:true wipes the cache
// first. Nodes the CLI learns from other API replies (a path looked up, a
// folder created, a file uploaded) are stored with Put; the feed later
// overwrites them with their then-current state, so they never go stale
// for longer than until the next sync.
//
// A cache belongs to one account (Claim records it): the CLI keeps one
// file per server and account, and a file found holding another
// account's nodes is emptied before use.
//
// Names are looked up case-insensitively with Unicode case folding, as the
// server compares them. It is safe for concurrent use by one process;
// several processes may share the file (WAL, busy timeout).
package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/text/cases"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/clouddrive/clouddrive/acd"
)

// ErrNotFound is returned for a node the cache does not hold.
var ErrNotFound = errors.New("not in the node cache")

const schema = `
CREATE TABLE IF NOT EXISTS nodes (
	id       TEXT PRIMARY KEY,
	name_key TEXT NOT NULL,
	kind     TEXT NOT NULL,
	status   TEXT NOT NULL,
	is_root  INTEGER NOT NULL DEFAULT 0,
	json     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS parents (
	child  TEXT NOT NULL,
	parent TEXT NOT NULL,
	PRIMARY KEY (parent, child)
);
CREATE INDEX IF NOT EXISTS parents_child ON parents (child);
CREATE INDEX IF NOT EXISTS nodes_root ON nodes (is_root) WHERE is_root = 1;
CREATE TABLE IF NOT EXISTS state (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`

// Cache is an open node cache.
type Cache struct {
	db  *sql.DB
	now func() time.Time
}

// Open opens (creating if needed) the cache database at path. now stamps
// the time of the last sync; nil means time.Now.
func Open(ctx context.Context, path string, now func() time.Time) (*Cache, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	v := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)"} {
		v.Add("_pragma", p)
	}
	v.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("cache: open %s: %w", path, err)
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{db: db, now: now}, nil
}

// Close closes the database.
func (c *Cache) Close() error { return c.db.Close() }

// nameKey folds a name for case-insensitive comparison.
func nameKey(name string) string { return cases.Fold().String(name) }

func (c *Cache) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

func put(ctx context.Context, tx *sql.Tx, n *acd.Node) error {
	if n.Status == "PURGED" {
		return del(ctx, tx, n.ID)
	}
	raw, err := json.Marshal(n)
	if err != nil {
		return err
	}
	root := 0
	if n.IsRoot {
		root = 1
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO nodes (id, name_key, kind, status, is_root, json) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name_key = excluded.name_key, kind = excluded.kind, status = excluded.status,
		is_root = excluded.is_root, json = excluded.json`, n.ID, nameKey(n.Name), n.Kind, n.Status, root, string(raw)); err != nil {
		return fmt.Errorf("cache: put %s: %w", n.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM parents WHERE child = ?`, n.ID); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	for _, p := range n.Parents {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO parents (child, parent) VALUES (?, ?)`, n.ID, p); err != nil {
			return fmt.Errorf("cache: %w", err)
		}
	}
	return nil
}

func del(ctx context.Context, tx *sql.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM nodes WHERE id = ?`, id); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM parents WHERE child = ?`, id); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

func setState(ctx context.Context, tx *sql.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// wipe empties the cache but keeps the account it belongs to.
func wipe(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{`DELETE FROM nodes`, `DELETE FROM parents`, `DELETE FROM state WHERE key <> 'account'`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("cache: %w", err)
		}
	}
	return nil
}

// Apply applies one change set and saves its checkpoint, atomically.
// Purged nodes are removed; a reset set wipes the cache first.
func (c *Cache) Apply(ctx context.Context, set *acd.ChangeSet) error {
	return c.tx(ctx, func(tx *sql.Tx) error {
		if set.Reset {
			if err := wipe(ctx, tx); err != nil {
				return err
			}
		}
		for _, n := range set.Nodes {
			if err := put(ctx, tx, n); err != nil {
				return err
			}
		}
		if err := setState(ctx, tx, "checkpoint", set.Checkpoint); err != nil {
			return err
		}
		return setState(ctx, tx, "synced_at", c.now().UTC().Format(time.RFC3339))
	})
}

// Put stores nodes learned outside the changes feed (PURGED ones are
// removed).
func (c *Cache) Put(ctx context.Context, nodes ...*acd.Node) error {
	return c.tx(ctx, func(tx *sql.Tx) error {
		for _, n := range nodes {
			if n == nil || n.ID == "" {
				continue
			}
			if err := put(ctx, tx, n); err != nil {
				return err
			}
		}
		return nil
	})
}

// Delete removes nodes.
func (c *Cache) Delete(ctx context.Context, ids ...string) error {
	return c.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if err := del(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// Reset empties the cache, checkpoint included (not the account).
func (c *Cache) Reset(ctx context.Context) error {
	return c.tx(ctx, func(tx *sql.Tx) error { return wipe(ctx, tx) })
}

// Claim makes the cache the given account's: if it holds another
// account's nodes, or nodes of no recorded account, they are dropped
// first (checkpoint included), so a cache never shows what a previous
// user synced. It reports whether anything was dropped.
func (c *Cache) Claim(ctx context.Context, account string) (dropped bool, err error) {
	err = c.tx(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT value FROM state WHERE key = 'account'`).Scan(&cur)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("cache: %w", err)
		}
		if err == nil && cur == account {
			return nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM nodes`).Scan(&n); err != nil {
			return fmt.Errorf("cache: %w", err)
		}
		dropped = n > 0
		if err := wipe(ctx, tx); err != nil {
			return err
		}
		if err := setState(ctx, tx, "account", account); err != nil {
			return fmt.Errorf("cache: %w", err)
		}
		return nil
	})
	return dropped, err
}

// Account returns the account recorded by Claim, or "".
func (c *Cache) Account(ctx context.Context) (string, error) {
	return c.state(ctx, "account")
}

// Checkpoint returns the checkpoint of the last applied change set, or ""
// if the cache was never synced.
func (c *Cache) Checkpoint(ctx context.Context) (string, error) {
	return c.state(ctx, "checkpoint")
}

// SyncedAt returns when the last change set was applied (zero if never).
func (c *Cache) SyncedAt(ctx context.Context) (time.Time, error) {
	s, err := c.state(ctx, "synced_at")
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, _ := time.Parse(time.RFC3339, s)
	return t, nil
}

func (c *Cache) state(ctx context.Context, key string) (string, error) {
	var v string
	err := c.db.QueryRowContext(ctx, `SELECT value FROM state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	return v, nil
}

func scanNodes(rows *sql.Rows) ([]*acd.Node, error) {
	defer rows.Close()
	var out []*acd.Node
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		n := &acd.Node{}
		if err := json.Unmarshal([]byte(raw), n); err != nil {
			return nil, fmt.Errorf("cache: corrupt node: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return out, nil
}

func (c *Cache) one(ctx context.Context, q string, args ...any) (*acd.Node, error) {
	rows, err := c.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	ns, err := scanNodes(rows)
	if err != nil {
		return nil, err
	}
	if len(ns) == 0 {
		return nil, ErrNotFound
	}
	return ns[0], nil
}

// Node returns a node by id.
func (c *Cache) Node(ctx context.Context, id string) (*acd.Node, error) {
	return c.one(ctx, `SELECT json FROM nodes WHERE id = ?`, id)
}

// Root returns the root folder.
func (c *Cache) Root(ctx context.Context) (*acd.Node, error) {
	return c.one(ctx, `SELECT json FROM nodes WHERE is_root = 1 LIMIT 1`)
}

// Child returns the child of parentID called name (case-insensitively)
// with the given status.
func (c *Cache) Child(ctx context.Context, parentID, name, status string) (*acd.Node, error) {
	return c.one(ctx, `SELECT n.json FROM parents p JOIN nodes n ON n.id = p.child
		WHERE p.parent = ? AND n.name_key = ? AND n.status = ? ORDER BY n.id LIMIT 1`, parentID, nameKey(name), status)
}

// Children returns the children of parentID with the given status, by
// name.
func (c *Cache) Children(ctx context.Context, parentID, status string) ([]*acd.Node, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT n.json FROM parents p JOIN nodes n ON n.id = p.child
		WHERE p.parent = ? AND n.status = ? ORDER BY n.name_key, n.id`, parentID, status)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return scanNodes(rows)
}

// Stats counts the cached nodes by kind.
func (c *Cache) Stats(ctx context.Context) (map[string]int, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT kind || '/' || status, COUNT(*) FROM nodes GROUP BY kind, status`)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}
