//go:build linux

package mount

import (
	"context"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"

	"github.com/clouddrive/clouddrive/client"
)

// This file holds the tree's link to the changes feed: the whole tree
// loaded at start, the follower that applies each change set, and the
// invalidation of what the kernel cached of the nodes that changed.

// load reads the whole tree from the changes feed and returns its
// checkpoint.
func (m *mountFS) load(ctx context.Context) (string, error) {
	cp := ""
	for set, err := range m.c.Changes(ctx, client.ChangesOptions{}) {
		if err != nil {
			return "", err
		}
		if set.Reset {
			m.tree.reset()
		}
		m.tree.put(set.Nodes...)
		cp = set.Checkpoint
	}
	return cp, nil
}

// follow applies the changes feed from checkpoint cp until ctx ends,
// long-polling, and tells the kernel what changed.
func (m *mountFS) follow(ctx context.Context, cp string) {
	fails := 0
	for ctx.Err() == nil {
		start := time.Now()
		changed := false
		var ferr error
		for set, err := range m.c.Changes(ctx, client.ChangesOptions{Checkpoint: cp, IncludePurged: true, Wait: m.o.Poll}) {
			if err != nil {
				ferr = err
				break
			}
			var d delta
			if set.Reset {
				d = m.tree.reset()
			}
			d.add(m.tree.put(set.Nodes...))
			if len(set.Nodes) > 0 {
				changed = true
				m.log.Debug("mount: changes applied", "nodes", len(set.Nodes), "entries", len(d.entries), "attrs", len(d.nodes))
			}
			m.invalidate(d)
			cp = set.Checkpoint
		}
		wait := time.Duration(0)
		switch {
		case ctx.Err() != nil:
			return
		case ferr != nil:
			fails++
			wait = min(time.Duration(fails)*2*time.Second, time.Minute)
			m.log.Warn("mount: changes feed failed; retrying", "wait", wait, "err", ferr)
		case !changed && time.Since(start) < m.o.Poll/2:
			// The server answered at once (no long poll): poll at the
			// interval instead.
			fails = 0
			wait = m.o.Poll - time.Since(start)
		default:
			fails = 0
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}

// invalidate drops the kernel's cached entries and attributes (and
// pages) named by d. It must not run inside a FUSE request: the kernel
// may wait for that request to finish.
func (m *mountFS) invalidate(d delta) {
	type target struct {
		in   *fs.Inode
		name string // "" for the inode's attributes and content
	}
	var ts []target
	m.mu.Lock()
	for _, e := range d.entries {
		for in := range m.live[e.parent] {
			ts = append(ts, target{in, e.name})
		}
	}
	for _, id := range d.nodes {
		for in := range m.live[id] {
			ts = append(ts, target{in, ""})
		}
	}
	m.mu.Unlock()
	for _, t := range ts {
		if t.name == "" {
			_ = t.in.NotifyContent(0, 0)
			continue
		}
		// Forget go-fuse's link if the name now means another node (or
		// none), so the next lookup builds the right inode.
		if ch := t.in.GetChild(t.name); ch != nil {
			now := m.tree.child(t.in.Operations().(*node).id, t.name)
			if cn, ok := ch.Operations().(*node); !ok || now == nil || now.ID != m.tree.resolve(cn.id) {
				t.in.RmChild(t.name)
			}
		}
		_ = t.in.NotifyEntry(t.name)
	}
}
