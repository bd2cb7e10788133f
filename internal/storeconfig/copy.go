package storeconfig

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
)

// TableCount is the number of rows copied into one table.
type TableCount struct {
	Table string
	Rows  int64
}

// CopyMeta copies every row of every table of src into the same table of
// dst, in one transaction on each side: src is read from one snapshot,
// and dst gets all the rows or none. dst must be empty (freshly migrated,
// as opening it does). Tables are copied parents first, following the
// foreign keys of dst's schema; columns present on one side only are
// skipped. It works between any two metadata stores (SQLite or
// PostgreSQL, either way) and returns the rows copied per table.
func CopyMeta(ctx context.Context, dst, src *sqlstore.Store) ([]TableCount, error) {
	stx, err := src.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer stx.Rollback()
	dtx, err := dst.Write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	defer dtx.Rollback()

	srcTables, _, err := schema(ctx, stx, src.Dialect.Name)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	dstTables, deps, err := schema(ctx, dtx, dst.Dialect.Name)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	for _, t := range dstTables {
		var n int64
		if err := dtx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quote(t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("destination: %w", err)
		}
		if n > 0 {
			return nil, fmt.Errorf("destination is not empty (table %s has %d rows): migrate into a new database", t, n)
		}
	}
	var missing []string
	for _, t := range srcTables {
		if !slices.Contains(dstTables, t) {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("destination schema lacks tables %s: is it an older clouddrive version?", strings.Join(missing, ", "))
	}
	order, err := topoSort(srcTables, deps)
	if err != nil {
		return nil, err
	}
	var counts []TableCount
	for _, t := range order {
		n, err := copyTable(ctx, dtx, stx, t, dst.Dialect.Numbered)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t, err)
		}
		counts = append(counts, TableCount{Table: t, Rows: n})
	}
	if err := dtx.Commit(); err != nil {
		return nil, fmt.Errorf("destination: commit: %w", err)
	}
	return counts, nil
}

// softState reports whether table t holds no data worth moving:
// PostgreSQL's shared rate-limit buckets, which SQLite does not have.
func softState(t string) bool { return t == "rate_limits" }

// schema lists a database's tables (migration bookkeeping excluded) and,
// for each, the tables its foreign keys reference.
func schema(ctx context.Context, tx *sql.Tx, dialect string) ([]string, map[string][]string, error) {
	var tablesQ, fkQ string
	switch dialect {
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
		return nil, nil, fmt.Errorf("unknown dialect %q", dialect)
	}
	tables, err := strings2(ctx, tx, tablesQ)
	if err != nil {
		return nil, nil, err
	}
	tables = slices.DeleteFunc(tables, func(t string) bool { return t == "goose_db_version" || softState(t) })
	rows, err := tx.QueryContext(ctx, fkQ)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	deps := map[string][]string{}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			return nil, nil, err
		}
		if from != to {
			deps[from] = append(deps[from], to)
		}
	}
	return tables, deps, rows.Err()
}

func strings2(ctx context.Context, tx *sql.Tx, q string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q)
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

// topoSort orders tables so that every table comes after the tables it
// references.
func topoSort(tables []string, deps map[string][]string) ([]string, error) {
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(t string) error
	visit = func(t string) error {
		switch state[t] {
		case 1:
			return fmt.Errorf("foreign keys form a cycle through table %s", t)
		case 2:
			return nil
		}
		state[t] = 1
		for _, d := range deps[t] {
			if slices.Contains(tables, d) {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[t] = 2
		out = append(out, t)
		return nil
	}
	for _, t := range tables {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func quote(ident string) string { return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"` }

// copyBatch is the number of rows per INSERT statement.
const copyBatch = 200

// copyTable copies the rows of table t, in batches of multi-row INSERTs.
func copyTable(ctx context.Context, dtx, stx *sql.Tx, t string, numbered bool) (int64, error) {
	cols, err := columns(ctx, dtx, t)
	if err != nil {
		return 0, err
	}
	srcCols, err := columns(ctx, stx, t)
	if err != nil {
		return 0, err
	}
	cols = slices.DeleteFunc(cols, func(c string) bool { return !slices.Contains(srcCols, c) })
	if len(cols) == 0 {
		return 0, nil
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quote(c)
	}
	list := strings.Join(quoted, ", ")
	rows, err := stx.QueryContext(ctx, `SELECT `+list+` FROM `+quote(t))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	batch := make([]any, 0, copyBatch*len(cols))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + quote(t) + ` (` + list + `) VALUES `)
		arg := 0
		for r := 0; r < len(batch)/len(cols); r++ {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for c := range cols {
				if c > 0 {
					b.WriteString(", ")
				}
				arg++
				if numbered {
					b.WriteString("$" + strconv.Itoa(arg))
				} else {
					b.WriteByte('?')
				}
			}
			b.WriteByte(')')
		}
		if _, err := dtx.ExecContext(ctx, b.String(), batch...); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		batch = append(batch, vals...)
		n++
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// columns returns the column names of table t.
func columns(ctx context.Context, tx *sql.Tx, t string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT * FROM `+quote(t)+` WHERE 1 = 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

// BlobStats reports a CopyBlobs run.
type BlobStats struct {
	Copied, Skipped int
	Bytes           int64
}

// CopyBlobs copies every blob of src that dst lacks (or holds with another
// size) into dst, with workers copies at once. Keys are content
// addresses, so each copy is verified: the key dst computes from the
// bytes it received must be the source key. progress, if not nil, is
// called after each blob.
func CopyBlobs(ctx context.Context, dst, src blob.Store, workers int, progress func(BlobStats)) (BlobStats, error) {
	var copied, skipped atomic.Int64
	var bytes atomic.Int64
	var mu sync.Mutex
	stats := func() BlobStats {
		return BlobStats{Copied: int(copied.Load()), Skipped: int(skipped.Load()), Bytes: bytes.Load()}
	}
	report := func() {
		if progress != nil {
			mu.Lock()
			progress(stats())
			mu.Unlock()
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	after := ""
	for {
		page, err := src.List(gctx, after, 1000)
		if err != nil {
			// A failed copy cancels gctx, and with it the listing: report
			// the copy's error.
			if werr := g.Wait(); werr != nil {
				return stats(), werr
			}
			return stats(), fmt.Errorf("listing source blobs: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			after = e.Key
			g.Go(func() error {
				if d, err := dst.Stat(gctx, e.Key); err == nil && d.Size == e.Size {
					skipped.Add(1)
					report()
					return nil
				} else if err != nil && !drive.Is(drive.NotFound, err) {
					return fmt.Errorf("blob %s: destination: %w", e.Key, err)
				}
				n, err := copyBlob(gctx, dst, src, e.Key)
				if err != nil {
					return err
				}
				copied.Add(1)
				bytes.Add(n)
				report()
				return nil
			})
		}
	}
	err := g.Wait()
	return stats(), err
}

// errKeyMismatch marks a blob whose bytes do not hash to its key.
var errKeyMismatch = errors.New("content does not match its key")

func copyBlob(ctx context.Context, dst, src blob.Store, key string) (int64, error) {
	rc, err := src.Open(ctx, key, 0, -1)
	if err != nil {
		if drive.Is(drive.NotFound, err) {
			return 0, nil // deleted meanwhile (garbage collected)
		}
		return 0, fmt.Errorf("blob %s: source: %w", key, err)
	}
	defer rc.Close()
	info, err := dst.Put(ctx, rc, func(i blob.Info) error {
		if i.Key != key {
			return fmt.Errorf("blob %s: %w (got %s)", key, errKeyMismatch, i.Key)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", key, err)
	}
	return info.Size, nil
}

// ReferencedBlobs returns the blob keys the nodes of m reference, with
// the size each node records.
func ReferencedBlobs(ctx context.Context, m *sqlstore.Store) (map[string]int64, error) {
	rows, err := m.Read.QueryContext(ctx, `SELECT DISTINCT blob_key, size FROM nodes WHERE blob_key IS NOT NULL AND blob_key <> ''`)
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

// CheckBlobs reports the keys of refs that b lacks or holds with another
// size.
func CheckBlobs(ctx context.Context, b blob.Store, refs map[string]int64) ([]string, error) {
	var bad []string
	for k, size := range refs {
		e, err := b.Stat(ctx, k)
		if drive.Is(drive.NotFound, err) || (err == nil && e.Size != size) {
			bad = append(bad, k)
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(bad)
	return bad, nil
}
