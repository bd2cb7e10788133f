//go:build linux

package mount

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
)

// This file holds the state one mount shares (mountFS) and its inodes
// (node): inode numbers, the index of the kernel's inodes by node id that
// invalidations use, a node's attributes, and the errno of a failed call.
// The package doc (doc.go, "Code") says where the rest is.

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
	if ch := m.linked(parent, name, n); ch != nil {
		return ch
	}
	ch := parent.NewInode(ctx, &node{m: m, id: n.ID}, fs.StableAttr{Mode: modeOf(n), Ino: m.ino(m.inoKey(parent, n))})
	m.track(n.ID, ch)
	return ch
}

// childIno is the inode number readdir reports for n in folder parent.
func (m *mountFS) childIno(parent *fs.Inode, name string, n *acd.Node) uint64 {
	if ch := m.linked(parent, name, n); ch != nil {
		return ch.StableAttr().Ino
	}
	return m.ino(m.inoKey(parent, n))
}

// linked returns the inode folder parent links under name if it shows
// n, else nil.
func (m *mountFS) linked(parent *fs.Inode, name string, n *acd.Node) *fs.Inode {
	ch := parent.GetChild(name)
	if ch == nil {
		return nil
	}
	if cn, ok := ch.Operations().(*node); ok && m.tree.resolve(cn.id) == n.ID && ch.StableAttr().Mode == modeOf(n) {
		return ch
	}
	return nil
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
