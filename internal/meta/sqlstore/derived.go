package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// ---- derived blobs (meta.DerivedTx) ----

func (t *tx) DerivedBlob(ctx context.Context, sourceKey, variant string) (*meta.DerivedBlob, error) {
	const op = "meta.DerivedBlob"
	d := meta.DerivedBlob{SourceKey: sourceKey, Variant: variant}
	var created int64
	err := t.queryRow(ctx, `SELECT derived_key, size, created_at FROM derived_blobs WHERE source_key = ? AND variant = ?`,
		sourceKey, variant).Scan(&d.Key, &d.Size, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, drive.E(op, drive.NotFound, "derived blob not found")
	}
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	d.CreatedAt = fromMS(created)
	return &d, nil
}

func (t *tx) PutDerivedBlob(ctx context.Context, d *meta.DerivedBlob) error {
	_, err := t.exec(ctx, `INSERT INTO derived_blobs (source_key, variant, derived_key, size, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (source_key, variant) DO UPDATE SET derived_key = excluded.derived_key, size = excluded.size, created_at = excluded.created_at`,
		d.SourceKey, d.Variant, d.Key, d.Size, ms(d.CreatedAt))
	return drive.Wrap("meta.PutDerivedBlob", err)
}

func (t *tx) DerivedInUse(ctx context.Context, key string) (bool, error) {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM derived_blobs d WHERE d.derived_key = ?
		AND EXISTS (SELECT 1 FROM nodes n WHERE n.blob_key = d.source_key) LIMIT 1`, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, drive.Wrap("meta.DerivedInUse", err)
}

func (t *tx) DeleteDerived(ctx context.Context, key string) error {
	_, err := t.exec(ctx, `DELETE FROM derived_blobs WHERE derived_key = ?`, key)
	return drive.Wrap("meta.DeleteDerived", err)
}
