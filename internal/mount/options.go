package mount

import (
	"errors"
	"log/slog"
	"time"
)

// Defaults of Options.
const (
	DefaultCacheSize = 1 << 30          // bytes of file content kept in the read cache
	DefaultPoll      = 30 * time.Second // long-poll wait of each changes request
	DefaultChunkSize = 1 << 20          // bytes per ranged download and cached chunk
	DefaultReadAhead = 4                // chunks fetched ahead of a sequential reader
	MaxPoll          = 60 * time.Second // the server holds a changes request at most this long
)

// ErrUnsupported is returned by Mount on systems without FUSE support in
// this build (everything but Linux).
var ErrUnsupported = errors.New("mount: FUSE mounts are only supported on Linux")

// Options configure a mount. The zero value mounts read-write with the
// defaults above, but CacheDir must be set.
type Options struct {
	// ReadOnly mounts with files 0444 and folders 0555; every change
	// fails with EROFS.
	ReadOnly bool
	// AllowOther lets other users see the mount (FUSE allow_other; for a
	// non-root user it needs user_allow_other in /etc/fuse.conf).
	AllowOther bool
	// PurgeOnDelete purges deleted nodes instead of moving them to the
	// trash.
	PurgeOnDelete bool
	// CacheDir holds the read cache (chunks/) and the write spool
	// (spool/).
	CacheDir string
	// CacheSize bounds the read cache in bytes; 0 means DefaultCacheSize,
	// a negative value disables it.
	CacheSize int64
	// Poll is how long each changes request waits on the server for a
	// change (long poll, at most MaxPoll); on a server that answers at
	// once it is the interval between requests. 0 means DefaultPoll; a
	// negative value turns the changes feed off.
	Poll time.Duration
	// ChunkSize and ReadAhead tune reads (0: the defaults).
	ChunkSize int64
	ReadAhead int
	// Logger receives warnings (failed uploads, feed errors) and, at debug
	// level, each change applied; nil discards.
	Logger *slog.Logger
	// Debug logs every FUSE request (go-fuse's debug output) to Logger.
	Debug bool
}

func (o Options) withDefaults() Options {
	switch {
	case o.CacheSize == 0:
		o.CacheSize = DefaultCacheSize
	case o.CacheSize < 0:
		o.CacheSize = 0
	}
	if o.Poll == 0 {
		o.Poll = DefaultPoll
	}
	o.Poll = min(o.Poll, MaxPoll)
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.ReadAhead == 0 {
		o.ReadAhead = DefaultReadAhead
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
