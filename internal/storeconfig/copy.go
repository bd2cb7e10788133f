package storeconfig

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
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
// skipped. It works between any two metadata stores that implement
// meta.TableCopier (SQLite or PostgreSQL, either way) and returns the
// rows copied per table.
func CopyMeta(ctx context.Context, dst, src meta.TableCopier) ([]TableCount, error) {
	var counts []TableCount
	err := src.ReadTables(ctx, func(r meta.TableReader) error {
		srcTables, err := r.Tables(ctx)
		if err != nil {
			return &copyError{fmt.Errorf("source: %w", err)}
		}
		err = dst.WriteTables(ctx, func(w meta.TableWriter) error {
			var err error
			counts, err = copyTables(ctx, w, r, srcTables)
			return err
		})
		if _, ok := errors.AsType[*copyError](err); err != nil && !ok {
			return &copyError{fmt.Errorf("destination: %w", err)}
		}
		return err
	})
	if err != nil {
		if ce, ok := errors.AsType[*copyError](err); ok {
			return nil, ce.err
		}
		return nil, fmt.Errorf("source: %w", err)
	}
	return counts, nil
}

// copyError is an error CopyMeta has described already (which side,
// which table), passed through the transactions of both stores.
type copyError struct{ err error }

func (e *copyError) Error() string { return e.err.Error() }
func (e *copyError) Unwrap() error { return e.err }

// copyTables copies the rows of srcTables from r into w, which must be
// empty.
func copyTables(ctx context.Context, w meta.TableWriter, r meta.TableReader, srcTables []meta.Table) ([]TableCount, error) {
	fail := func(format string, args ...any) error { return &copyError{fmt.Errorf(format, args...)} }
	dstTables, err := w.Tables(ctx)
	if err != nil {
		return nil, fail("destination: %w", err)
	}
	dstCols := map[string][]string{}
	dstRefs := map[string][]string{}
	for _, t := range dstTables {
		n, err := w.Count(ctx, t.Name)
		if err != nil {
			return nil, fail("destination: %w", err)
		}
		if n > 0 {
			return nil, fail("destination is not empty (table %s has %d rows): migrate into a new database", t.Name, n)
		}
		dstCols[t.Name] = t.Columns
		dstRefs[t.Name] = t.References
	}
	var missing []string
	for _, t := range srcTables {
		if _, ok := dstCols[t.Name]; !ok {
			missing = append(missing, t.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fail("destination schema lacks tables %s: is it an older clouddrive version?", strings.Join(missing, ", "))
	}
	// The destination's foreign keys are the ones the inserts must
	// satisfy.
	for i := range srcTables {
		srcTables[i].References = dstRefs[srcTables[i].Name]
	}
	order, err := topoSort(srcTables)
	if err != nil {
		return nil, &copyError{err}
	}
	var counts []TableCount
	for _, t := range order {
		n, err := copyTable(ctx, w, r, t, dstCols[t.Name])
		if err != nil {
			return nil, fail("table %s: %w", t.Name, err)
		}
		counts = append(counts, TableCount{Table: t.Name, Rows: n})
	}
	return counts, nil
}

// topoSort orders tables so that every table comes after the tables it
// references.
func topoSort(tables []meta.Table) ([]meta.Table, error) {
	byName := map[string]meta.Table{}
	for _, t := range tables {
		byName[t.Name] = t
	}
	var out []meta.Table
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(t meta.Table) error
	visit = func(t meta.Table) error {
		switch state[t.Name] {
		case 1:
			return fmt.Errorf("foreign keys form a cycle through table %s", t.Name)
		case 2:
			return nil
		}
		state[t.Name] = 1
		for _, d := range t.References {
			if dt, ok := byName[d]; ok {
				if err := visit(dt); err != nil {
					return err
				}
			}
		}
		state[t.Name] = 2
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

// copyBatch is the number of rows handed to one Insert.
const copyBatch = 200

// copyTable copies the rows of table t, the columns both sides have, in
// batches.
func copyTable(ctx context.Context, w meta.TableWriter, r meta.TableReader, t meta.Table, dstCols []string) (int64, error) {
	cols := slices.DeleteFunc(slices.Clone(dstCols), func(c string) bool { return !slices.Contains(t.Columns, c) })
	if len(cols) == 0 {
		return 0, nil
	}
	var n int64
	batch := make([][]any, 0, copyBatch)
	err := r.Rows(ctx, t.Name, cols, func(row []any) error {
		batch = append(batch, slices.Clone(row))
		n++
		if len(batch) == copyBatch {
			if err := w.Insert(ctx, t.Name, cols, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if len(batch) > 0 {
		if err := w.Insert(ctx, t.Name, cols, batch); err != nil {
			return n, err
		}
	}
	return n, nil
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
func ReferencedBlobs(ctx context.Context, m meta.BlobReferencer) (map[string]int64, error) {
	return m.ReferencedBlobs(ctx)
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
