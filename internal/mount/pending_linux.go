//go:build linux

package mount

import (
	"strconv"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
)

// This file holds the pending files (created in the mount, not yet
// uploaded) beyond their entries in the tree (tree.go): their creation,
// the upload that settles them, rename, unlink, and their loss at
// unmount.

// newPending makes a pending file called remote in folder parent: a
// local id, its entry in the tree and its spool, which holds two
// references: the pending entry's, dropped by its upload or its unlink,
// and the one returned for the creator's handle.
func (m *mountFS) newPending(parent, remote string) (*acd.Node, *spool, error) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	m.mu.Lock()
	m.nextID++
	id := localPrefix + strconv.FormatUint(m.nextID, 10)
	m.mu.Unlock()
	p := &acd.Node{ID: id, Name: remote, Kind: client.KindFile, Status: client.StatusAvailable, Parents: []string{parent},
		CreatedDate: now, ModifiedDate: now, Version: 1}
	sp, err := m.openSpool(p, true)
	if err != nil {
		return nil, nil, err
	}
	sp.mu.Lock()
	sp.dirty = true // even empty, it is to be uploaded
	sp.mu.Unlock()
	sp, _ = m.openSpool(p, false)
	m.tree.addPending(p)
	return p, sp, nil
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
	sp := m.lockPending(id)
	if sp == nil {
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
	sp := m.lockPending(id)
	if sp == nil {
		return false
	}
	defer sp.mu.Unlock()
	m.tree.renamePending(id, parent, remote)
	return true
}

// lockPending returns the spool of pending file id, locked, so that its
// upload cannot settle it meanwhile; nil if id is no pending file (any
// more).
func (m *mountFS) lockPending(id string) *spool {
	sp := m.spoolOf(id)
	if sp == nil {
		return nil
	}
	sp.mu.Lock()
	if !m.tree.isPending(id) {
		sp.mu.Unlock()
		return nil
	}
	return sp
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
