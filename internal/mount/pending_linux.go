//go:build linux

package mount

import "github.com/clouddrive/clouddrive/acd"

// This file holds the pending files (created in the mount, not yet
// uploaded) beyond their entries in the tree (tree.go): their creation,
// the upload that settles them, rename, unlink, and their loss at
// unmount.

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
