//go:build linux

package mount

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/clouddrive/clouddrive/acd"
)

// This file holds open files and their read path: open, the handle, and
// reads of a file nobody writes through the chunk cache (readcache.go),
// with read-ahead for sequential readers.

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	cur := n.current()
	if cur == nil {
		return nil, 0, syscall.ENOENT
	}
	h, errno := n.open(ctx, cur, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return h, 0, 0
}

// open returns a handle of file cur (this node's state) for flags; a
// writer gets the file's spool.
func (n *node) open(ctx context.Context, cur *acd.Node, flags uint32) (*handle, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR) != 0 || flags&syscall.O_TRUNC != 0 {
		if n.m.o.ReadOnly {
			return nil, syscall.EROFS
		}
		sp, err := n.m.openSpool(cur, flags&syscall.O_TRUNC != 0)
		if err != nil {
			return nil, n.m.fail(ctx, "open", cur.Name, err)
		}
		return n.m.writer(ctx, n, cur, sp), 0
	}
	return &handle{n: n, last: cur}, 0
}

// handle is an open file. Writers share the file's spool; readers of a
// file nobody writes read ranged chunks through the read cache.
type handle struct {
	n     *node
	sp    *spool      // nil when opened read-only
	last  *acd.Node   // the node at open, for reads after a remote delete
	owner uint32      // the process that opened a writer (0: unknown)
	wrote atomic.Bool // written (or truncated) through this handle

	mu       sync.Mutex
	next     int64  // where a sequential reader reads next
	lastKey  string // the chunk read last, kept to serve the kernel's smaller reads
	lastData []byte
}

var (
	_ fs.FileReader   = (*handle)(nil)
	_ fs.FileWriter   = (*handle)(nil)
	_ fs.FileFlusher  = (*handle)(nil)
	_ fs.FileFsyncer  = (*handle)(nil)
	_ fs.FileReleaser = (*handle)(nil)
)

func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	m := h.n.m
	sp := h.sp
	if sp == nil {
		sp = m.spoolOf(h.n.id) // someone writes: read what they wrote
	}
	if sp != nil {
		n, err := sp.readAt(ctx, dest, off)
		if err != nil {
			return nil, m.fail(ctx, "read", h.n.id, err)
		}
		return fuse.ReadResultData(dest[:n]), 0
	}
	cur := h.n.current()
	if cur == nil {
		cur = h.last
	}
	n, err := h.readRemote(ctx, cur, dest, off)
	if err != nil {
		return nil, m.fail(ctx, "read", cur.Name, err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

// readRemote reads [off, off+len(dest)) of file n through the chunk
// cache, and starts read-ahead when the reads are sequential.
func (h *handle) readRemote(ctx context.Context, n *acd.Node, dest []byte, off int64) (int, error) {
	m := h.n.m
	sz := size(n)
	if off >= sz || len(dest) == 0 {
		return 0, nil
	}
	end := min(off+int64(len(dest)), sz)
	cs := m.o.ChunkSize
	done := 0
	for cur := off; cur < end; {
		idx := cur / cs
		data, err := h.chunk(ctx, n, idx)
		if err != nil {
			return 0, err
		}
		start := cur - idx*cs
		if start >= int64(len(data)) {
			break // shorter than the tree says: changed meanwhile
		}
		k := copy(dest[cur-off:end-off], data[start:])
		cur += int64(k)
		done += k
	}
	h.mu.Lock()
	sequential := off == h.next || off == 0
	h.next = end
	h.mu.Unlock()
	if sequential {
		for i := 1; i <= m.o.ReadAhead; i++ {
			idx := (end-1)/cs + int64(i)
			if idx*cs >= sz {
				break
			}
			m.readAhead(n, idx)
		}
	}
	return done, nil
}

// chunk returns chunk idx of file n: the one read last, or from the
// cache or the server.
func (h *handle) chunk(ctx context.Context, n *acd.Node, idx int64) ([]byte, error) {
	key := chunkKey(n.ID, contentID(n), idx)
	h.mu.Lock()
	if h.lastKey == key {
		b := h.lastData
		h.mu.Unlock()
		return b, nil
	}
	h.mu.Unlock()
	b, err := h.n.m.fetchChunk(ctx, n, idx, key)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.lastKey, h.lastData = key, b
	h.mu.Unlock()
	return b, nil
}

// errShort is a download that ended before the chunk's end: the file
// changed on the server. The bytes are used but not cached.
type errShort struct{ data []byte }

func (e *errShort) Error() string { return "short chunk" }

func (m *mountFS) fetchChunk(ctx context.Context, n *acd.Node, idx int64, key string) ([]byte, error) {
	cs := m.o.ChunkSize
	off := idx * cs
	want := min(cs, size(n)-off)
	b, err := m.cache.fetch(ctx, key, func() ([]byte, error) {
		rc, err := m.c.Open(m.bg, n.ID, off, want)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, want))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) < want {
			return nil, &errShort{b}
		}
		return b, nil
	})
	var short *errShort
	if errors.As(err, &short) {
		return short.data, nil
	}
	return b, err
}

// readAhead downloads a chunk in the background if it is not cached,
// there is a free read-ahead slot, and the cache keeps chunks at all.
func (m *mountFS) readAhead(n *acd.Node, idx int64) {
	key := chunkKey(n.ID, contentID(n), idx)
	if m.cache.limit == 0 || m.cache.has(key) {
		return
	}
	select {
	case m.prefetch <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-m.prefetch }()
		if _, err := m.fetchChunk(m.bg, n, idx, key); err != nil && m.bg.Err() == nil {
			m.log.Debug("mount: read-ahead failed", "node", n.ID, "chunk", idx, "err", err)
		}
	}()
}
