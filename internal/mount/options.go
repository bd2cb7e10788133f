package mount

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
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

// ParseSize reads a byte count such as 512M, 2G, 1.5GiB or 1000000:
// K, M, G and T (with or without a trailing B or iB) are powers of 1024.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]); i >= 0 {
			mult = 1 << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || f < 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("invalid size %q: want a byte count such as 512M or 2G", s)
	}
	return int64(f * float64(mult)), nil
}
