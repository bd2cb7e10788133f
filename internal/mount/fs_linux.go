//go:build linux

package mount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
)

// Linux rename(2) flags.
const (
	renameNoReplace = 1
	renameExchange  = 2
)

// blockSize is st_blksize: tools such as cp size their buffers by it, and
// large buffers mean fewer FUSE round trips.
const blockSize = 128 << 10

// mountFS is the state of one mount shared by its nodes.
type mountFS struct {
	c        *client.Client
	o        Options
	log      *slog.Logger
	tree     *tree
	cache    *chunkCache
	spoolDir string
	uid, gid uint32
	bg       context.Context // downloads, uploads of released files, the feed; ends at unmount
	prefetch chan struct{}   // bounds concurrent read-ahead downloads

	mu      sync.Mutex
	inos    map[string]uint64             // identity key → inode number
	nextIno uint64                        //
	nextID  uint64                        // last local id handed to a pending file
	live    map[string]map[*fs.Inode]bool // node id (resolved) → the kernel's inodes showing it
	spools  map[string]*spool             // node id (resolved) → spool of a file open for writing or pending
	quota   *acd.Quota                    // statfs, cached for quotaTTL
	usage   *acd.Usage                    //
	quotaAt time.Time                     //
}

const quotaTTL = 5 * time.Second

// node is a file or folder of the mount. Folders are identified by
// where they were reached (a folder with two parents is two inodes, as
// the kernel allows no hard links to directories); files by their node id
// alone, so a file with two parents is one inode with two links.
type node struct {
	fs.Inode
	m  *mountFS
	id string
}

var (
	_ fs.NodeLookuper    = (*node)(nil)
	_ fs.NodeGetattrer   = (*node)(nil)
	_ fs.NodeSetattrer   = (*node)(nil)
	_ fs.NodeReaddirer   = (*node)(nil)
	_ fs.NodeOpener      = (*node)(nil)
	_ fs.NodeCreater     = (*node)(nil)
	_ fs.NodeMkdirer     = (*node)(nil)
	_ fs.NodeUnlinker    = (*node)(nil)
	_ fs.NodeRmdirer     = (*node)(nil)
	_ fs.NodeRenamer     = (*node)(nil)
	_ fs.NodeStatfser    = (*node)(nil)
	_ fs.NodeOnAdder     = (*node)(nil)
	_ fs.NodeOnForgetter = (*node)(nil)
)

// ino returns the inode number for an identity key, allocating one on
// first use. The root is 1.
func (m *mountFS) ino(key string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, ok := m.inos[key]; ok {
		return n
	}
	m.nextIno++
	m.inos[key] = m.nextIno
	return m.nextIno
}

func (m *mountFS) inoKey(parent *fs.Inode, n *acd.Node) string {
	if n.Kind == client.KindFolder {
		return fmt.Sprintf("d%d/%s", parent.StableAttr().Ino, n.ID)
	}
	return "f" + n.ID
}

func modeOf(n *acd.Node) uint32 {
	if n.Kind == client.KindFolder {
		return syscall.S_IFDIR
	}
	return syscall.S_IFREG
}

// child returns the inode showing n in folder parent: the one the
// folder already links under that name (a folder keeps its inode across
// a rename), or the one of its identity.
func (m *mountFS) child(ctx context.Context, parent *fs.Inode, name string, n *acd.Node) *fs.Inode {
	if ch := parent.GetChild(name); ch != nil {
		if cn, ok := ch.Operations().(*node); ok && m.tree.resolve(cn.id) == n.ID && ch.StableAttr().Mode == modeOf(n) {
			return ch
		}
	}
	ch := parent.NewInode(ctx, &node{m: m, id: n.ID}, fs.StableAttr{Mode: modeOf(n), Ino: m.ino(m.inoKey(parent, n))})
	m.track(n.ID, ch)
	return ch
}

// childIno is the inode number readdir reports for n in folder parent.
func (m *mountFS) childIno(parent *fs.Inode, name string, n *acd.Node) uint64 {
	if ch := parent.GetChild(name); ch != nil {
		if cn, ok := ch.Operations().(*node); ok && m.tree.resolve(cn.id) == n.ID {
			return ch.StableAttr().Ino
		}
	}
	return m.ino(m.inoKey(parent, n))
}

// track records that in shows node id, for invalidations.
func (m *mountFS) track(id string, in *fs.Inode) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id = m.tree.resolve(id)
	s := m.live[id]
	if s == nil {
		s = map[*fs.Inode]bool{}
		m.live[id] = s
	}
	s[in] = true
}

// OnAdd registers the root.
func (n *node) OnAdd(context.Context) {
	if n.IsRoot() {
		n.m.track(n.id, &n.Inode)
	}
}

// OnForget drops a forgotten inode from the invalidation index.
func (n *node) OnForget() {
	m := n.m
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.tree.resolve(n.id)
	if s := m.live[id]; s != nil {
		delete(s, &n.Inode)
		if len(s) == 0 {
			delete(m.live, id)
		}
	}
}

// fill sets attributes from a node.
func (m *mountFS) fill(n *acd.Node, out *fuse.Attr) {
	mod, crt := parseTime(n.ModifiedDate), parseTime(n.CreatedDate)
	if mod.IsZero() {
		mod = crt
	}
	perm := uint32(0o644)
	out.Nlink = uint32(max(len(n.Parents), 1))
	if n.Kind == client.KindFolder {
		perm = 0o755
		out.Nlink = 2
	}
	if m.o.ReadOnly {
		perm &^= 0o222
	}
	out.Mode = modeOf(n) | perm
	out.Size = uint64(size(n))
	out.Blocks = (out.Size + 511) / 512
	out.Blksize = blockSize
	// A file's modification time is the one it was uploaded or touched
	// with (contentProperties.mtime) when it has one; ctime stays the
	// node's modifiedDate.
	mt := mod
	if n.ContentProperties != nil && !n.ContentProperties.ModTime.IsZero() {
		mt = n.ContentProperties.ModTime.Time
	}
	out.SetTimes(&mt, &mt, &mod)
	out.Owner = fuse.Owner{Uid: m.uid, Gid: m.gid}
}

// current returns what the tree knows of the node (nil if it is gone).
func (n *node) current() *acd.Node { return n.m.tree.node(n.id) }

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

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	c := n.m.tree.child(n.id, name)
	if c == nil {
		return nil, syscall.ENOENT
	}
	ch := n.m.child(ctx, &n.Inode, name, c)
	n.m.fill(c, &out.Attr)
	n.m.spoolAttr(c.ID, &out.Attr)
	out.Ino = ch.StableAttr().Ino
	return ch, 0
}

func (n *node) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	kids := n.m.tree.list(n.id)
	up := uint64(1)
	if _, p := n.Parent(); p != nil {
		up = p.StableAttr().Ino
	}
	out := make([]fuse.DirEntry, 0, len(kids)+2)
	out = append(out, fuse.DirEntry{Name: ".", Mode: syscall.S_IFDIR, Ino: n.StableAttr().Ino},
		fuse.DirEntry{Name: "..", Mode: syscall.S_IFDIR, Ino: up})
	for _, k := range kids {
		out = append(out, fuse.DirEntry{Name: k.name, Mode: modeOf(k.node), Ino: n.m.childIno(&n.Inode, k.name, k.node)})
	}
	return fs.NewListDirStream(out), 0
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

// remoteName converts a local name for a create or rename.
func (m *mountFS) remoteName(local string) (string, syscall.Errno) {
	if m.o.ReadOnly {
		return "", syscall.EROFS
	}
	r, ok := RemoteName(local)
	if !ok || !serverAccepts(r) {
		return "", syscall.EINVAL
	}
	return r, 0
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	remote, errno := n.m.remoteName(name)
	if errno != 0 {
		return nil, errno
	}
	if n.m.tree.child(n.id, name) != nil {
		return nil, syscall.EEXIST // a pending file the server does not know
	}
	f, err := n.m.c.CreateFolder(ctx, n.id, remote, nil)
	if err != nil {
		return nil, n.m.fail(ctx, "mkdir", name, err)
	}
	n.m.tree.put(f)
	n.m.fill(f, &out.Attr)
	return n.m.child(ctx, &n.Inode, name, f), 0
}

// Create makes a pending file: it exists in the mount only (a local id,
// its spool) until its first flush uploads it with its bytes, so nothing
// partial is ever seen on the server. A name the server already has, but
// the tree does not know yet, is EEXIST with O_EXCL and otherwise opens
// that file, as open(2) would.
func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	m := n.m
	remote, errno := m.remoteName(name)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	c := m.tree.child(n.id, name)
	if c == nil {
		sc, err := m.c.ChildByName(ctx, n.id, remote)
		switch {
		case err == nil:
			m.tree.put(sc)
			if LocalName(sc.Name) != name || !visible(sc) {
				return nil, nil, 0, syscall.EEXIST // the same name but for case, or an asset
			}
			c = sc
		case !errors.Is(err, client.ErrNotFound):
			return nil, nil, 0, m.fail(ctx, "create", name, err)
		case m.tree.pendingFold(n.id, name):
			return nil, nil, 0, syscall.EEXIST // the server compares names without case
		}
	}
	if c != nil {
		switch {
		case flags&syscall.O_EXCL != 0:
			return nil, nil, 0, syscall.EEXIST
		case c.Kind == client.KindFolder:
			return nil, nil, 0, syscall.EISDIR
		}
		ch := m.child(ctx, &n.Inode, name, c)
		h, errno := ch.Operations().(*node).open(ctx, c, flags)
		if errno != 0 {
			return nil, nil, 0, errno
		}
		m.fill(c, &out.Attr)
		m.spoolAttr(c.ID, &out.Attr)
		return ch, h, 0, 0
	}

	now := time.Now().UTC().Format(time.RFC3339Nano)
	m.mu.Lock()
	m.nextID++
	id := localPrefix + strconv.FormatUint(m.nextID, 10)
	m.mu.Unlock()
	p := &acd.Node{ID: id, Name: remote, Kind: client.KindFile, Status: client.StatusAvailable, Parents: []string{n.id},
		CreatedDate: now, ModifiedDate: now, Version: 1}
	// Two references: the pending entry's, dropped by its upload or its
	// unlink, and the handle's.
	sp, err := m.openSpool(p, true)
	if err != nil {
		return nil, nil, 0, m.fail(ctx, "create", name, err)
	}
	sp.mu.Lock()
	sp.dirty = true // even empty, it is to be uploaded
	sp.mu.Unlock()
	sp, _ = m.openSpool(p, false)
	m.tree.addPending(p)
	ch := m.child(ctx, &n.Inode, name, p)
	m.fill(p, &out.Attr)
	m.log.DebugContext(ctx, "mount: pending file created", "name", name, "id", id)
	return ch, m.writer(ctx, ch.Operations().(*node), p, sp), 0, 0
}

// remove deletes child c of this folder the way unlink and rmdir do: a
// node with other parents only leaves this one; otherwise it is trashed,
// or purged with PurgeOnDelete.
func (n *node) remove(ctx context.Context, c *acd.Node) error {
	if n.m.tree.isPending(c.ID) {
		if n.m.dropPending(c.ID) {
			return nil
		}
		if c = n.m.tree.node(c.ID); c == nil { // uploaded meanwhile
			return nil
		}
	}
	var (
		res *acd.Node
		err error
	)
	switch {
	case len(c.Parents) > 1:
		res, err = n.m.c.RemoveParent(ctx, n.id, c.ID)
	case n.m.o.PurgeOnDelete:
		res, err = n.m.c.Purge(ctx, c.ID)
	default:
		res, err = n.m.c.Trash(ctx, c.ID)
	}
	if errors.Is(err, client.ErrNotFound) {
		n.m.tree.remove(c.ID) // gone already
		return nil
	}
	if err != nil {
		return err
	}
	if res != nil && res.ID == c.ID && res.Status != "" {
		n.m.tree.put(res)
	} else {
		n.m.tree.remove(c.ID)
	}
	n.m.dropSpace()
	return nil
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	if n.m.o.ReadOnly {
		return syscall.EROFS
	}
	c := n.m.tree.child(n.id, name)
	switch {
	case c == nil:
		return syscall.ENOENT
	case c.Kind == client.KindFolder:
		return syscall.EISDIR
	}
	if err := n.remove(ctx, c); err != nil {
		return n.m.fail(ctx, "unlink", name, err)
	}
	return 0
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	if n.m.o.ReadOnly {
		return syscall.EROFS
	}
	c := n.m.tree.child(n.id, name)
	switch {
	case c == nil:
		return syscall.ENOENT
	case c.Kind != client.KindFolder:
		return syscall.ENOTDIR
	case n.m.tree.hasChildren(c.ID):
		return syscall.ENOTEMPTY
	}
	if err := n.remove(ctx, c); err != nil {
		return n.m.fail(ctx, "rmdir", name, err)
	}
	return 0
}

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	remote, errno := n.m.remoteName(newName)
	if errno != 0 {
		return errno
	}
	if flags&renameExchange != 0 {
		return syscall.EINVAL
	}
	dst, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	c := n.m.tree.child(n.id, name)
	if c == nil {
		return syscall.ENOENT
	}
	if t := n.m.tree.child(dst.id, newName); t != nil {
		switch {
		case t.ID == c.ID:
			if dst.id == n.id && name == newName {
				return 0
			}
		case flags&renameNoReplace != 0:
			return syscall.EEXIST
		case t.Kind == client.KindFolder && c.Kind != client.KindFolder:
			return syscall.EISDIR
		case t.Kind != client.KindFolder && c.Kind == client.KindFolder:
			return syscall.ENOTDIR
		case t.Kind == client.KindFolder && n.m.tree.hasChildren(t.ID):
			return syscall.ENOTEMPTY
		}
		if t.ID != c.ID {
			// rename(2) replaces the target.
			if err := dst.remove(ctx, t); err != nil {
				return n.m.fail(ctx, "rename: replace", newName, err)
			}
		}
	}
	if n.m.tree.isPending(c.ID) {
		if n.m.renamePending(c.ID, dst.id, remote) {
			return 0
		}
		if c = n.m.tree.node(c.ID); c == nil { // uploaded meanwhile
			return syscall.ENOENT
		}
	}
	res, err := n.m.move(ctx, c, n.id, dst.id, remote)
	if err != nil {
		return n.m.fail(ctx, "rename", name, err)
	}
	n.m.tree.put(res)
	return 0
}

// move gives node c the name remote in folder to, from folder from: a
// PATCH of the name, a move, or both. When both are needed and the first
// step clashes with a name on the way, the other order is tried.
func (m *mountFS) move(ctx context.Context, c *acd.Node, from, to, remote string) (*acd.Node, error) {
	rename := func() (*acd.Node, error) {
		if c.Name == remote {
			return c, nil
		}
		return m.c.Rename(ctx, c.ID, remote)
	}
	mv := func() (*acd.Node, error) {
		if from == to {
			return c, nil
		}
		return m.c.Move(ctx, c.ID, from, to)
	}
	res, err := rename()
	if err == nil {
		c = res
		return mv()
	}
	if !errors.Is(err, client.ErrConflict) || from == to {
		return nil, err
	}
	if res, err = mv(); err != nil {
		return nil, err
	}
	c = res
	return rename()
}

// fail logs an API failure at debug level (the caller sees the errno)
// and maps it.
func (m *mountFS) fail(ctx context.Context, op, name string, err error) syscall.Errno {
	errno := Errno(err)
	lvl := slog.LevelDebug
	if errno == syscall.EIO {
		lvl = slog.LevelWarn
	}
	m.log.Log(ctx, lvl, "mount: "+op+" failed", "name", name, "errno", errno.Error(), "err", err)
	return errno
}

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
	if p := m.tree.pendingNode(sp.id); p != nil {
		n, err := m.c.Upload(ctx, p.Parents[0], p.Name, r, o)
		if err != nil {
			sp.failed = true
			return err
		}
		sp.dirty, sp.failed = false, false
		m.settle(sp, p.ID, n)
		m.dropSpace()
		return nil
	}
	n, err := m.c.Overwrite(ctx, sp.id, r, o)
	if err != nil {
		sp.failed = true
		return err
	}
	sp.dirty, sp.failed = false, false
	m.tree.put(n)
	m.dropSpace()
	return nil
}

// settle records that pending file id was uploaded as n: the tree
// aliases id to n.ID, and the spool, the inode number and the kernel's
// inodes are filed under n.ID too, so the inodes made for the pending
// file are those of n. The caller holds sp.mu.
func (m *mountFS) settle(sp *spool, id string, n *acd.Node) {
	m.tree.settle(id, n)
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.spools, id)
	m.spools[n.ID] = sp
	sp.id = n.ID
	sp.refs-- // the pending entry's; a handle holds another
	if sp.refs <= 0 {
		delete(m.spools, n.ID)
		_ = sp.f.Close()
	}
	if ino, ok := m.inos["f"+id]; ok {
		if _, taken := m.inos["f"+n.ID]; !taken {
			m.inos["f"+n.ID] = ino
		}
	}
	if s := m.live[id]; s != nil {
		delete(m.live, id)
		t := m.live[n.ID]
		if t == nil {
			m.live[n.ID] = s
		} else {
			for in := range s {
				t[in] = true
			}
		}
	}
}

// dropPending forgets pending file id (unlink, or the target of a
// rename) and its bytes; false if it is no pending file (any more: it may
// have been uploaded meanwhile).
func (m *mountFS) dropPending(id string) bool {
	sp := m.spoolOf(id)
	if sp == nil {
		return false
	}
	sp.mu.Lock()
	if !m.tree.isPending(id) {
		sp.mu.Unlock()
		return false
	}
	sp.dropped = true
	m.tree.dropPending(id)
	sp.mu.Unlock()
	m.releaseSpool(sp) // the pending entry's reference
	return true
}

// renamePending moves pending file id to folder parent as remote, which
// only changes the tree; false if it is no pending file any more.
func (m *mountFS) renamePending(id, parent, remote string) bool {
	sp := m.spoolOf(id)
	if sp == nil {
		return false
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if !m.tree.isPending(id) {
		return false
	}
	m.tree.renamePending(id, parent, remote)
	return true
}

// discardPending drops every pending file at unmount, logging each: its
// bytes were never uploaded.
func (m *mountFS) discardPending() {
	for _, id := range m.tree.pendingIDs() {
		if p := m.tree.pendingNode(id); p != nil {
			m.log.Warn("mount: unmounted before a new file was uploaded; it is lost", "name", p.Name, "parent", p.Parents[0])
		}
		m.dropPending(id)
	}
}

// spoolDirOf is where spools live.
func spoolDirOf(cacheDir string) string { return filepath.Join(cacheDir, "spool") }
