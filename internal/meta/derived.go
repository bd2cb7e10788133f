package meta

import (
	"context"
	"time"
)

// DerivedTx is the part of a transaction that records blobs computed from
// other blobs, such as thumbnails (package thumbnail). A derived blob is a
// cache: it is kept while some node still references its source blob and
// is garbage collected once none does (package gc asks DerivedInUse).
type DerivedTx interface {
	// DerivedBlob returns the derived blob of a source blob for a variant
	// (e.g. "thumb-jpeg-256x256"), or NotFound. The derived blob itself
	// may have been collected since; callers treat a missing blob as a
	// cache miss.
	DerivedBlob(ctx context.Context, sourceKey, variant string) (*DerivedBlob, error)
	// PutDerivedBlob records d, replacing the record of the same source
	// and variant.
	PutDerivedBlob(ctx context.Context, d *DerivedBlob) error
	// DerivedInUse reports whether key is the derived blob of a source
	// blob that a node (in any status but PURGED) still references.
	DerivedInUse(ctx context.Context, key string) (bool, error)
	// DeleteDerived removes every record whose derived blob is key (the
	// collector calls it after deleting the blob). Missing records are
	// not an error.
	DeleteDerived(ctx context.Context, key string) error
}

// DerivedBlob maps a source blob and a variant to the blob computed from
// it.
type DerivedBlob struct {
	SourceKey string
	Variant   string
	Key       string
	Size      int64
	CreatedAt time.Time
}
