//go:build linux

package mount

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
)

// This file holds the node operations on attributes: getattr, setattr
// (truncate, modification times; modes and owners are ignored) and
// statfs, with the quota it caches.

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	cur := n.current()
	if cur == nil {
		if h, ok := f.(*handle); ok && h.last != nil {
			cur = h.last // deleted while open: what it was
		} else {
			return syscall.ENOENT
		}
	}
	n.m.fill(cur, &out.Attr)
	n.m.spoolAttr(n.id, &out.Attr)
	out.Ino = n.StableAttr().Ino
	return 0
}

func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	sz, sized := in.GetSize()
	if sized {
		if n.m.o.ReadOnly {
			return syscall.EROFS
		}
		cur := n.current()
		if cur == nil {
			return syscall.ENOENT
		}
		if cur.Kind == client.KindFolder {
			return syscall.EISDIR
		}
		// A file open for writing (or pending) is truncated in its
		// spool, uploaded at the writer's close: open(O_TRUNC) comes as
		// an open and then a truncate without the handle (go-fuse does
		// not ask for atomic O_TRUNC), which must not upload by itself.
		var sp *spool
		if h, _ := f.(*handle); h != nil && h.sp != nil {
			sp = h.sp
			h.wrote.Store(true)
		} else if s := n.m.spoolOf(n.id); s != nil && (n.m.tree.isPending(n.id) || n.m.writing(s)) {
			sp = s
		}
		if sp != nil {
			// Into the spool: uploaded at close (a pending file has no
			// bytes on the server to change).
			if err := sp.truncate(ctx, int64(sz)); err != nil {
				return n.m.fail(ctx, "truncate", cur.Name, err)
			}
		} else if int64(sz) != size(cur) || n.m.spoolOf(n.id) != nil {
			// truncate(2) on a path: through a spool of its own,
			// uploaded at once.
			sp, err := n.m.openSpool(cur, sz == 0)
			if err == nil {
				err = sp.truncate(ctx, int64(sz))
			}
			if err == nil {
				err = sp.flush(ctx)
			}
			if sp != nil {
				n.m.releaseSpool(sp)
			}
			if err != nil {
				return n.m.fail(ctx, "truncate", cur.Name, err)
			}
		}
	}
	// A file's modification time is stored (touch, cp -p, utimensat);
	// with a truncate it is the truncate's own, which the upload carries.
	if mt, ok := in.GetMTime(); ok && !sized && !n.m.o.ReadOnly {
		if errno := n.setModTime(ctx, f, mt); errno != 0 {
			return errno
		}
	}
	// Modes, owners, access times and folders' times cannot be stored:
	// they are accepted and ignored, so cp -p and touch work.
	return n.Getattr(ctx, f, out)
}

// setModTime sets the modification time of a file: a file with bytes
// still to upload takes it with them, any other is updated on the
// server (PATCH mtime).
func (n *node) setModTime(ctx context.Context, f fs.FileHandle, mt time.Time) syscall.Errno {
	cur := n.current()
	if cur == nil {
		return syscall.ENOENT
	}
	if cur.Kind != client.KindFile {
		return 0
	}
	sp := n.m.spoolOf(n.id)
	if h, _ := f.(*handle); h != nil && h.sp != nil {
		sp = h.sp
	}
	if sp != nil && sp.setModTime(mt) {
		return 0
	}
	if n.m.tree.isPending(n.id) {
		return 0 // not on the server yet, and nothing to upload it with
	}
	updated, err := n.m.c.SetModTime(ctx, cur.ID, mt)
	if err != nil {
		return n.m.fail(ctx, "touch", cur.Name, err)
	}
	n.m.tree.put(updated)
	return 0
}

func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	q, u, err := n.m.space(ctx)
	if err != nil {
		n.m.log.WarnContext(ctx, "statfs: quota unavailable", "err", err)
		return Errno(err)
	}
	var used int64
	for _, c := range []acd.CategoryUsage{u.Doc, u.Photo, u.Video, u.Other} {
		used += c.Total.Bytes
	}
	total, free := q.Quota, q.Available
	if total <= 0 { // no quota: show what is used plus 1 PiB
		free = 1 << 50
		total = used + free
	}
	const bs = 4096
	out.Bsize, out.Frsize = bs, bs
	out.Blocks = uint64(total / bs)
	out.Bfree = uint64(max(free, 0) / bs)
	out.Bavail = out.Bfree
	n.m.tree.mu.RLock()
	out.Files = uint64(len(n.m.tree.nodes))
	n.m.tree.mu.RUnlock()
	out.Ffree = 1 << 32
	out.NameLen = 1024
	return 0
}

// quotaTTL is how long statfs shows the same quota and usage.
const quotaTTL = 5 * time.Second

// space returns the quota and usage, cached for quotaTTL.
func (m *mountFS) space(ctx context.Context) (*acd.Quota, *acd.Usage, error) {
	m.mu.Lock()
	if m.quota != nil && time.Since(m.quotaAt) < quotaTTL {
		q, u := m.quota, m.usage
		m.mu.Unlock()
		return q, u, nil
	}
	m.mu.Unlock()
	q, err := m.c.Quota(ctx)
	if err != nil {
		return nil, nil, err
	}
	u, err := m.c.Usage(ctx)
	if err != nil {
		return nil, nil, err
	}
	m.mu.Lock()
	m.quota, m.usage, m.quotaAt = q, u, time.Now()
	m.mu.Unlock()
	return q, u, nil
}

// dropSpace forgets the cached quota after a write.
func (m *mountFS) dropSpace() {
	m.mu.Lock()
	m.quota = nil
	m.mu.Unlock()
}
