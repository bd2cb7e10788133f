package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/clouddrive/clouddrive/internal/meta"
)

// This file implements meta.TableCopier and meta.BlobReferencer: whole
// tables read and written for admin migrate, and the referenced-blob walk
// of admin check.

var (
	_ meta.TableCopier    = (*Store)(nil)
	_ meta.BlobReferencer = (*Store)(nil)
)

// ReadTables implements meta.TableCopier: one read-only transaction.
func (s *Store) ReadTables(ctx context.Context, fn func(r meta.TableReader) error) error {
	tx, err := s.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(&tableTx{tx: tx, d: &s.Dialect})
}

// WriteTables implements meta.TableCopier: one read-write transaction on
// the write pool.
func (s *Store) WriteTables(ctx context.Context, fn func(w meta.TableWriter) error) error {
	tx, err := s.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(&tableTx{tx: tx, d: &s.Dialect}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ReferencedBlobs implements meta.BlobReferencer.
func (s *Store) ReferencedBlobs(ctx context.Context) (map[string]int64, error) {
	rows, err := s.Read.QueryContext(ctx, `SELECT DISTINCT blob_key, size FROM nodes WHERE blob_key IS NOT NULL AND blob_key <> ''`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var size sql.NullInt64
		if err := rows.Scan(&k, &size); err != nil {
			return nil, err
		}
		out[k] = size.Int64
	}
	return out, rows.Err()
}

// tableTx is a meta.TableReader and meta.TableWriter over one
// transaction.
type tableTx struct {
	tx *sql.Tx
	d  *Dialect
}

// softState reports whether table t holds no data worth moving:
// PostgreSQL's shared rate-limit buckets, which SQLite does not have.
func softState(t string) bool { return t == "rate_limits" }

// Tables implements meta.TableReader and meta.TableWriter.
func (t *tableTx) Tables(ctx context.Context) ([]meta.Table, error) {
	var tablesQ, fkQ string
	switch t.d.Name {
	case "sqlite":
		tablesQ = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
		fkQ = `SELECT m.name, p."table" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) p WHERE m.type = 'table'`
	case "postgres":
		tablesQ = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
		fkQ = `SELECT DISTINCT tc.table_name, ccu.table_name
			FROM information_schema.table_constraints tc
			JOIN information_schema.constraint_column_usage ccu
			  ON ccu.constraint_name = tc.constraint_name AND ccu.constraint_schema = tc.constraint_schema
			WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()`
	default:
		return nil, fmt.Errorf("unknown dialect %q", t.d.Name)
	}
	names, err := t.strings(ctx, tablesQ)
	if err != nil {
		return nil, err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == "goose_db_version" || softState(n) })
	rows, err := t.tx.QueryContext(ctx, fkQ)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	deps := map[string][]string{}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			return nil, err
		}
		if from != to {
			deps[from] = append(deps[from], to)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	tables := make([]meta.Table, 0, len(names))
	for _, n := range names {
		cols, err := t.columns(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", n, err)
		}
		tables = append(tables, meta.Table{Name: n, Columns: cols, References: deps[n]})
	}
	return tables, nil
}

func (t *tableTx) strings(ctx context.Context, q string) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// columns returns the column names of table name.
func (t *tableTx) columns(ctx context.Context, name string) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT * FROM `+quoteIdent(name)+` WHERE 1 = 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

func quoteIdent(ident string) string { return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"` }

func quoteList(cols []string) string {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	return strings.Join(quoted, ", ")
}

// Rows implements meta.TableReader.
func (t *tableTx) Rows(ctx context.Context, table string, cols []string, fn func(row []any) error) error {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+quoteList(cols)+` FROM `+quoteIdent(table))
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for rows.Next() {
		for i := range vals {
			vals[i] = nil
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Count implements meta.TableWriter.
func (t *tableTx) Count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(table)).Scan(&n)
	return n, err
}

// insertBatch is the most rows one INSERT statement carries.
const insertBatch = 200

// Insert implements meta.TableWriter, in multi-row INSERTs of up to
// insertBatch rows.
func (t *tableTx) Insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	head := `INSERT INTO ` + quoteIdent(table) + ` (` + quoteList(cols) + `) VALUES `
	for len(rows) > 0 {
		n := min(len(rows), insertBatch)
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, n*len(cols))
		for r, row := range rows[:n] {
			if len(row) != len(cols) {
				return fmt.Errorf("row has %d values for %d columns", len(row), len(cols))
			}
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for c := range cols {
				if c > 0 {
					b.WriteString(", ")
				}
				args = append(args, row[c])
				if t.d.Numbered {
					b.WriteString("$" + strconv.Itoa(len(args)))
				} else {
					b.WriteByte('?')
				}
			}
			b.WriteByte(')')
		}
		if _, err := t.tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
