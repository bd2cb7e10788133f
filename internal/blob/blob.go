// Package blob defines the contract for storing file content. Blob stores
// hold immutable byte strings addressed by a key that the store chooses. The
// metadata store records which node points at which key; blobs nobody
// points at are garbage collected later (see Lister).
//
// Durability: when Put returns without error, the blob is durable (written
// and fsynced, or acknowledged by the object store) and readable by Open.
// A Put that fails or is rejected by its check leaves nothing readable and
// nothing to collect.
package blob

import (
	"context"
	"io"
	"time"
)

// Info describes a stored blob.
type Info struct {
	Key    string
	Size   int64
	MD5    string // lowercase hex
	SHA256 string // lowercase hex
}

// Check is called by Put after all bytes are received and hashed, but
// before the blob is made durable and visible. If it returns an error, Put
// discards the bytes and returns that error unchanged.
type Check func(Info) error

// Putter stores content.
type Putter interface {
	// Put reads r to EOF and stores its bytes. It computes size, MD5 and
	// SHA-256 while streaming, in constant memory. check, if not nil, runs
	// before the blob becomes visible (see Check). Storing bytes identical
	// to an existing blob is allowed and may return the same key.
	// Put honours ctx cancellation; a cancelled Put stores nothing.
	Put(ctx context.Context, r io.Reader, check Check) (Info, error)
}

// Opener reads content.
type Opener interface {
	// Open returns a reader of length bytes starting at offset off. A
	// negative length means "to the end". The caller closes the reader.
	// A missing key gives a drive.NotFound error.
	Open(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)
}

// Entry is one blob in a listing.
type Entry struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Lister enumerates blobs, for garbage collection and audits.
type Lister interface {
	// List returns up to limit entries with keys greater than after, in
	// ascending key order. An empty result means the end.
	List(ctx context.Context, after string, limit int) ([]Entry, error)
}

// Sweeper is implemented by blob stores that can leave debris of
// interrupted uploads outside their blobs (the S3 store: multipart
// uploads and temp objects). The garbage collector calls it.
type Sweeper interface {
	// SweepUploads removes upload debris older than cutoff and returns
	// how much it removed.
	SweepUploads(ctx context.Context, cutoff time.Time) (int, error)
}

// Store is the full blob store contract. Implementations are safe for
// concurrent use.
type Store interface {
	Putter
	Opener
	Lister
	// Stat returns the size of a blob, or a drive.NotFound error.
	Stat(ctx context.Context, key string) (Entry, error)
	// Delete removes a blob. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Ping reports whether the store is reachable (for readiness checks).
	Ping(ctx context.Context) error
}
