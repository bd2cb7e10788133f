//go:build linux

package mount

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
)

// This file holds writes: a writer's handle operations (write, flush at
// close, fsync, release) and the spool, the local file holding a written
// file's bytes until they are uploaded.

// writer returns a handle that writes file cur through spool sp (whose
// reference it takes over), owned by the calling process.
func (m *mountFS) writer(ctx context.Context, n *node, cur *acd.Node, sp *spool) *handle {
	m.mu.Lock()
	sp.writers++
	m.mu.Unlock()
	return &handle{n: n, last: cur, sp: sp, owner: callerProcess(ctx)}
}

// callerProcess returns the process (thread group) id of the thread that
// made a FUSE request, or 0 if unknown: the kernel sends the thread's id.
func callerProcess(ctx context.Context) uint32 {
	fc, ok := ctx.(*fuse.Context)
	if !ok || fc.Pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(fc.Pid), 10) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err != nil {
				return 0
			}
			return uint32(id)
		}
	}
	return 0
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if h.sp == nil {
		return 0, syscall.EBADF
	}
	h.wrote.Store(true)
	n, err := h.sp.writeAt(ctx, data, off)
	if err != nil {
		return uint32(n), h.n.m.fail(ctx, "write", h.n.id, err)
	}
	return uint32(n), 0
}

// Flush uploads what was written, on every close(2) of the file by the
// process that opened it, once something was written through the
// handle. A pending file's upload creates it; if that fails, it stays
// pending (a later close retries, unlink drops it).
//
// Other closes upload nothing, as the writer is not done: another process
// closing its copy of the descriptor (a child that inherited it through
// fork, often only to exec), and a close before any write (a shell's
// `> file` opens, dup2s and closes the first descriptor before the
// command writes). The release of the last writer uploads what no close
// did, such as a file created or truncated and never written.
func (h *handle) Flush(ctx context.Context) syscall.Errno {
	if h.sp == nil || !h.wrote.Load() {
		return 0
	}
	if p := callerProcess(ctx); h.owner != 0 && p != 0 && p != h.owner {
		return 0
	}
	return h.flush(ctx)
}

func (h *handle) flush(ctx context.Context) syscall.Errno {
	if err := h.sp.flush(ctx); err != nil {
		errno := Errno(err)
		h.n.m.log.WarnContext(ctx, "mount: upload at close failed", "node", h.n.id, "name", h.last.Name,
			"pending", h.n.m.tree.isPending(h.n.id), "errno", errno.Error(), "err", err)
		return errno
	}
	return 0
}

// Fsync uploads what was written, whoever asks.
func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if h.sp == nil {
		return 0
	}
	return h.flush(ctx)
}

// Release of the last writer of a file uploads what no close uploaded
// (written after the opener's close, or by a process that inherited the
// descriptor); the error reaches no one but the log.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	sp := h.sp
	if sp == nil {
		return 0
	}
	h.sp = nil
	m := h.n.m
	m.mu.Lock()
	sp.writers--
	last := sp.writers == 0
	m.mu.Unlock()
	if last {
		sp.mu.Lock()
		retry := sp.dirty && !sp.failed && !sp.dropped // written, but no close saw it fail
		sp.mu.Unlock()
		if retry {
			if err := sp.flush(m.bg); err != nil {
				m.log.Warn("mount: upload on release failed", "node", h.n.id, "name", h.last.Name,
					"pending", m.tree.isPending(h.n.id), "err", err)
			}
		}
	}
	m.releaseSpool(sp)
	return 0
}

// spool holds the bytes of a file open for writing, in a local file;
// they are uploaded (overwriting the file, or creating a pending one)
// when a writer flushes. Every handle that writes the file shares it, and
// a pending file holds a reference of its own until it is uploaded or
// unlinked.
type spool struct {
	m       *mountFS
	id      string // key in m.spools; changed (under m.mu and mu) when a pending file is uploaded
	refs    int    // guarded by m.mu
	writers int    // handles writing through it, guarded by m.mu

	mu      sync.Mutex // held across an upload: a pending file changes state under it
	f       *os.File
	filled  bool // holds the file's bytes (downloaded, or truncated to nothing)
	dirty   bool // differs from the server's bytes
	failed  bool // the last upload failed (close reported it) and nothing was written since
	dropped bool // a pending file unlinked: never to be uploaded
	size    int64
	mtime   time.Time
}

// openSpool returns the spool of file n, creating it; empty makes it
// start empty (new files, O_TRUNC) instead of with the file's bytes,
// which are downloaded on first use.
func (m *mountFS) openSpool(n *acd.Node, empty bool) (*spool, error) {
	m.mu.Lock()
	sp := m.spools[n.ID]
	if sp == nil {
		f, err := os.CreateTemp(m.spoolDir, "spool-*")
		if err != nil {
			m.mu.Unlock()
			return nil, err
		}
		_ = os.Remove(f.Name()) // unnamed: nothing to clean up after a crash
		sp = &spool{m: m, id: n.ID, f: f, mtime: time.Now()}
		m.spools[n.ID] = sp
	}
	sp.refs++
	m.mu.Unlock()
	if empty {
		sp.mu.Lock()
		if !sp.filled || sp.size != 0 {
			sp.dirty = sp.dirty || size(n) != 0 || sp.size != 0
			sp.filled, sp.size, sp.mtime = true, 0, time.Now()
			_ = sp.f.Truncate(0)
		}
		sp.mu.Unlock()
	}
	return sp, nil
}

// spoolOf returns the open spool of a node, or nil.
func (m *mountFS) spoolOf(id string) *spool {
	id = m.tree.resolve(id)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.spools[id]
}

// spoolAttr shows the size and time of a file being written.
func (m *mountFS) spoolAttr(id string, out *fuse.Attr) {
	sp := m.spoolOf(id)
	if sp == nil {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.filled {
		out.Size = uint64(sp.size)
		out.Blocks = (out.Size + 511) / 512
		if sp.dirty {
			out.SetTimes(&sp.mtime, &sp.mtime, &sp.mtime)
		}
	}
}

// writing reports whether a handle writes through sp.
func (m *mountFS) writing(sp *spool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return sp.writers > 0
}

// releaseSpool drops a reference; the last one deletes the local file
// (the last writer's release uploaded what was left).
func (m *mountFS) releaseSpool(sp *spool) {
	m.mu.Lock()
	sp.refs--
	last := sp.refs == 0
	if last && m.spools[sp.id] == sp {
		delete(m.spools, sp.id)
	}
	m.mu.Unlock()
	if !last {
		return
	}
	sp.mu.Lock()
	_ = sp.f.Close()
	sp.mu.Unlock()
}

// fillLocked downloads the file's current bytes into the spool.
func (sp *spool) fillLocked(ctx context.Context) error {
	if sp.filled {
		return nil
	}
	if err := sp.f.Truncate(0); err != nil {
		return err
	}
	n, err := sp.m.c.Download(ctx, sp.id, io.NewOffsetWriter(sp.f, 0))
	if err != nil {
		return err
	}
	sp.filled, sp.size = true, n
	return nil
}

func (sp *spool) readAt(ctx context.Context, p []byte, off int64) (int, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if err := sp.fillLocked(ctx); err != nil {
		return 0, err
	}
	if off >= sp.size {
		return 0, nil
	}
	p = p[:min(int64(len(p)), sp.size-off)]
	n, err := sp.f.ReadAt(p, off)
	if err == io.EOF {
		err = nil
	}
	return n, err
}

func (sp *spool) writeAt(ctx context.Context, p []byte, off int64) (int, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if err := sp.fillLocked(ctx); err != nil {
		return 0, err
	}
	n, err := sp.f.WriteAt(p, off)
	sp.size = max(sp.size, off+int64(n))
	sp.dirty, sp.failed, sp.mtime = true, false, time.Now()
	return n, err
}

func (sp *spool) truncate(ctx context.Context, size int64) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if size > 0 {
		if err := sp.fillLocked(ctx); err != nil {
			return err
		}
	}
	if err := sp.f.Truncate(size); err != nil {
		return err
	}
	sp.dirty = sp.dirty || !sp.filled || sp.size != size
	sp.failed = false
	sp.filled, sp.size, sp.mtime = true, size, time.Now()
	return nil
}

// setModTime gives bytes still to upload the modification time mt and
// reports whether there were any.
func (sp *spool) setModTime(mt time.Time) bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if !sp.dirty || sp.dropped {
		return false
	}
	sp.mtime = mt
	return true
}

// flush uploads the spool's bytes if they changed: a pending file is
// created in its folder (POST), any other file overwritten (PUT).
func (sp *spool) flush(ctx context.Context) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if !sp.dirty || sp.dropped {
		return nil
	}
	m := sp.m
	r, o := io.NewSectionReader(sp.f, 0, sp.size), &client.UploadOptions{Size: sp.size, ModTime: sp.mtime}
	var (
		n   *acd.Node
		err error
	)
	p := m.tree.pendingNode(sp.id)
	if p != nil {
		n, err = m.c.Upload(ctx, p.Parents[0], p.Name, r, o)
	} else {
		n, err = m.c.Overwrite(ctx, sp.id, r, o)
	}
	if err != nil {
		sp.failed = true
		return err
	}
	sp.dirty, sp.failed = false, false
	if p != nil {
		m.settle(sp, p.ID, n)
	} else {
		m.tree.put(n)
	}
	m.dropSpace()
	return nil
}

// spoolDirOf is where spools live.
func spoolDirOf(cacheDir string) string { return filepath.Join(cacheDir, "spool") }
