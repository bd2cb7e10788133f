package metrics

import (
	"context"
	"io"
	"time"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// observeOp records one store operation that started at start.
func (m *Metrics) observeOp(store, op string, start time.Time, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.StoreOps.WithLabelValues(store, op, result).Observe(time.Since(start).Seconds())
}

// Meta returns s with every transaction timed as
// clouddrive_store_operation_duration_seconds{store="metadata"}.
func (m *Metrics) Meta(s meta.Store) meta.Store { return &timedMeta{Store: s, m: m} }

type timedMeta struct {
	meta.Store
	m *Metrics
}

func (t *timedMeta) Update(ctx context.Context, fn func(tx meta.Tx) error) (err error) {
	defer func(start time.Time) { t.m.observeOp("metadata", "update", start, err) }(time.Now())
	return t.Store.Update(ctx, fn)
}

func (t *timedMeta) View(ctx context.Context, fn func(tx meta.Tx) error) (err error) {
	defer func(start time.Time) { t.m.observeOp("metadata", "view", start, err) }(time.Now())
	return t.Store.View(ctx, fn)
}

func (t *timedMeta) Ping(ctx context.Context) (err error) {
	defer func(start time.Time) { t.m.observeOp("metadata", "ping", start, err) }(time.Now())
	return t.Store.Ping(ctx)
}

// Blobs returns s with every call timed as
// clouddrive_store_operation_duration_seconds{store="blobs"}. Open is
// timed until the reader is returned (time to first byte), Put until the
// content is stored.
func (m *Metrics) Blobs(s blob.Store) blob.Store { return &timedBlobs{Store: s, m: m} }

type timedBlobs struct {
	blob.Store
	m *Metrics
}

func (t *timedBlobs) Put(ctx context.Context, r io.Reader, check blob.Check) (_ blob.Info, err error) {
	defer func(start time.Time) { t.m.observeOp("blobs", "put", start, err) }(time.Now())
	return t.Store.Put(ctx, r, check)
}

func (t *timedBlobs) Open(ctx context.Context, key string, off, length int64) (_ io.ReadCloser, err error) {
	defer func(start time.Time) { t.m.observeOp("blobs", "open", start, err) }(time.Now())
	return t.Store.Open(ctx, key, off, length)
}

func (t *timedBlobs) List(ctx context.Context, after string, limit int) (_ []blob.Entry, err error) {
	defer func(start time.Time) { t.m.observeOp("blobs", "list", start, err) }(time.Now())
	return t.Store.List(ctx, after, limit)
}

func (t *timedBlobs) Stat(ctx context.Context, key string) (_ blob.Entry, err error) {
	defer func(start time.Time) { t.m.observeOp("blobs", "stat", start, err) }(time.Now())
	return t.Store.Stat(ctx, key)
}

func (t *timedBlobs) Delete(ctx context.Context, key string) (err error) {
	defer func(start time.Time) { t.m.observeOp("blobs", "delete", start, err) }(time.Now())
	return t.Store.Delete(ctx, key)
}

func (t *timedBlobs) Ping(ctx context.Context) (err error) {
	defer func(start time.Time) { t.m.observeOp("blobs", "ping", start, err) }(time.Now())
	return t.Store.Ping(ctx)
}
