//go:build linux

package mount

import (
	"context"
	"errors"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
)

// This file holds the node operations on folders: lookup, readdir,
// mkdir, create, unlink, rmdir and rename.

// Linux rename(2) flags.
const (
	renameNoReplace = 1
	renameExchange  = 2
)

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

	p, sp, err := m.newPending(n.id, remote)
	if err != nil {
		return nil, nil, 0, m.fail(ctx, "create", name, err)
	}
	ch := m.child(ctx, &n.Inode, name, p)
	m.fill(p, &out.Attr)
	m.log.DebugContext(ctx, "mount: pending file created", "name", name, "id", p.ID)
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
