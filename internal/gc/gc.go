// Package gc deletes blobs that no node references.
//
// A blob becomes garbage when the node that pointed at it is purged or
// overwritten, or when an upload stored its bytes and then failed to commit
// (a name conflict found late, a crash between the two steps). A derived
// blob (a thumbnail, meta.DerivedTx) becomes garbage when its source blob
// does: no node references the source any more. Blobs are
// content addressed and shared, so the collector must never delete a blob
// that an upload is about to reference:
//
//   - it only considers blobs whose modification time is older than Grace;
//     storing the same bytes again refreshes the time, so a blob an upload
//     has just stored is never a candidate;
//   - it decides and deletes inside a metadata write transaction holding
//     the blob's lock (meta.Tx.LockBlob), re-reading the blob's time there;
//   - an upload, in the transaction that commits its reference, takes the
//     same lock and checks that the blob exists (nodes.Service.pinBlob), so
//     either the upload sees the blob gone and fails cleanly (503, retried
//     by clients), or the collector sees the reference or the fresh time.
package gc

import (
	"context"
	"log/slog"
	"time"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/lease"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Collector deletes unreferenced blobs.
type Collector struct {
	Meta   meta.Store
	Blobs  blob.Store
	Now    drive.Clock
	Logger *slog.Logger
	// Grace is the minimum age of a blob before it may be deleted.
	Grace time.Duration
	// Observe, if set, is told the outcome of every Loop run.
	Observe func(deleted int, bytes int64, err error)
}

// Stats reports one collection run.
type Stats struct {
	Scanned      int
	Deleted      int
	DeletedBytes int64
	// SweptUploads counts the debris of interrupted uploads removed
	// (Collect, with a blob.Sweeper store).
	SweptUploads int
}

// Run scans every blob once and deletes the unreferenced ones older than
// the grace period.
func (c *Collector) Run(ctx context.Context) (Stats, error) {
	var st Stats
	after := ""
	for {
		page, err := c.Blobs.List(ctx, after, 1000)
		if err != nil {
			return st, err
		}
		if len(page) == 0 {
			return st, nil
		}
		for _, e := range page {
			st.Scanned++
			after = e.Key
			cutoff := c.Now().Add(-c.Grace)
			if !e.ModTime.Before(cutoff) {
				continue
			}
			deleted, err := c.collect(ctx, e.Key, cutoff)
			if err != nil {
				return st, err
			}
			if deleted {
				st.Deleted++
				st.DeletedBytes += e.Size
			}
		}
	}
}

func (c *Collector) collect(ctx context.Context, key string, cutoff time.Time) (bool, error) {
	deleted := false
	err := c.update(ctx, func(tx Tx) error {
		if err := tx.LockBlob(ctx, key); err != nil {
			return err
		}
		used, err := tx.BlobReferenced(ctx, key)
		if err != nil || used {
			return err
		}
		// A derived blob (a thumbnail) lives as long as its source.
		if used, err := tx.DerivedInUse(ctx, key); err != nil || used {
			return err
		}
		e, err := c.Blobs.Stat(ctx, key)
		if drive.Is(drive.NotFound, err) {
			return nil
		}
		if err != nil {
			return err
		}
		if !e.ModTime.Before(cutoff) {
			return nil // stored again meanwhile
		}
		if err := c.Blobs.Delete(ctx, key); err != nil {
			return err
		}
		if err := tx.DeleteDerived(ctx, key); err != nil {
			return err
		}
		deleted = true
		return nil
	})
	return deleted, err
}

// Collect runs one whole collection: Run, then, when the blob store is a
// blob.Sweeper, the removal of what interrupted uploads left behind
// (older than the same grace period).
func (c *Collector) Collect(ctx context.Context) (Stats, error) {
	st, err := c.Run(ctx)
	if err != nil {
		return st, err
	}
	sw, ok := c.Blobs.(blob.Sweeper)
	if !ok {
		return st, nil
	}
	st.SweptUploads, err = sw.SweepUploads(ctx, c.Now().Add(-c.Grace))
	return st, err
}

// Loop runs Collect every interval until ctx ends. Every replica runs it;
// the collector's lease (LeaseSetting, package lease) makes one of them
// collect, and the per-blob lock in the metadata store would keep
// concurrent runs safe anyway. Observe is told each outcome.
func (c *Collector) Loop(ctx context.Context, interval time.Duration) {
	lease.Loop(ctx, c.Meta, c.Now, LeaseSetting, interval, c.Logger, "blob gc", func(ctx context.Context) {
		st, err := c.Collect(ctx)
		if c.Observe != nil && ctx.Err() == nil {
			c.Observe(st.Deleted, st.DeletedBytes, err)
		}
		if err != nil {
			if ctx.Err() == nil {
				c.Logger.Error("blob gc failed", "err", err)
			}
			return
		}
		c.Logger.Info("blob gc", "scanned", st.Scanned, "deleted", st.Deleted, "deleted_bytes", st.DeletedBytes, "swept_uploads", st.SweptUploads)
	})
}
