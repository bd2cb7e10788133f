package nodes

import (
	"context"
	"slices"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Trash moves a node, and the part of its subtree reachable only through
// it, to the trash (PUT /trash/{id}). Trashing a TRASH node returns it
// unchanged.
func (s *Service) Trash(ctx context.Context, id string) (*drive.Node, error) {
	const op = "nodes.Trash"
	p, err := writer(ctx, op)
	if err != nil {
		return nil, err
	}
	var n *drive.Node
	err = s.write(ctx, p.UserID, func(m *mutation) error {
		if n, err = visible(ctx, m.tx, p.UserID, id); err != nil {
			return err
		}
		if n.IsRoot {
			return &drive.Error{Op: op, Kind: drive.Forbidden, Message: "the root folder cannot be trashed"}
		}
		if n.Status == drive.StatusTrash {
			return nil
		}
		along, _, err := orphanedBy(ctx, m.tx, p.UserID, n.ID, isAvailable)
		if err != nil {
			return err
		}
		n.Status, n.TrashRoot = drive.StatusTrash, n.ID
		if err := m.update(ctx, n, drive.EventTrashed); err != nil {
			return err
		}
		for _, cid := range along {
			c, err := m.node(ctx, cid)
			if err != nil {
				return err
			}
			c.Status, c.TrashRoot = drive.StatusTrash, n.ID
			if err := m.update(ctx, c, drive.EventTrashed); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// orphanedBy returns the descendants of rootID that counts as live and
// that are reachable only through rootID, that is, through no live parent
// outside the returned set: a fixpoint over the subtree's parent links, so
// several parents inside the subtree are handled.
func orphanedBy(ctx context.Context, tx TreeTx, userID, rootID string, live func(drive.Status) bool) ([]string, []meta.Link, error) {
	links, err := tx.Subtree(ctx, userID, rootID)
	if err != nil {
		return nil, nil, err
	}
	parents := map[string][]meta.Link{}
	var order []string
	for _, l := range links {
		if !live(l.ChildStatus) {
			continue
		}
		if _, ok := parents[l.ChildID]; !ok {
			order = append(order, l.ChildID)
		}
		parents[l.ChildID] = append(parents[l.ChildID], l)
	}
	gone := map[string]bool{rootID: true}
	for changed := true; changed; {
		changed = false
		for _, cid := range order {
			if gone[cid] {
				continue
			}
			reachable := false
			for _, l := range parents[cid] {
				if !gone[l.ParentID] && live(l.ParentStatus) {
					reachable = true
					break
				}
			}
			if !reachable {
				gone[cid] = true
				changed = true
			}
		}
	}
	var out []string
	for _, cid := range order {
		if gone[cid] {
			out = append(out, cid)
		}
	}
	return out, links, nil
}

func isAvailable(s drive.Status) bool { return s == drive.StatusAvailable }
func notPurged(s drive.Status) bool   { return s != drive.StatusPurged }

// Restore brings a TRASH node back into its parents together with the
// nodes trashed along with it (POST /trash/{id}/restore). A name taken
// meanwhile gives 409. Parents that are no longer available are dropped;
// with none left the node goes to the root.
func (s *Service) Restore(ctx context.Context, id string) (*drive.Node, error) {
	const op = "nodes.Restore"
	p, err := writer(ctx, op)
	if err != nil {
		return nil, err
	}
	var n *drive.Node
	err = s.write(ctx, p.UserID, func(m *mutation) error {
		if n, err = visible(ctx, m.tx, p.UserID, id); err != nil {
			return err
		}
		if n.Status == drive.StatusAvailable {
			return nil
		}
		var keep []string
		for _, pid := range n.Parents {
			if f, err := m.tx.Node(ctx, p.UserID, pid); err == nil && f.Status == drive.StatusAvailable {
				keep = append(keep, pid)
			}
		}
		if len(keep) == 0 {
			root, err := m.userRoot(ctx)
			if err != nil {
				return err
			}
			keep = []string{root}
		}
		n.Parents = keep
		for _, pid := range n.Parents {
			if err := checkName(ctx, m.tx, op, pid, n.Name, n.ID); err != nil {
				return err
			}
		}
		along, err := m.tx.TrashedWith(ctx, p.UserID, n.ID)
		if err != nil {
			return err
		}
		n.Status, n.TrashRoot = drive.StatusAvailable, ""
		if err := m.update(ctx, n, drive.EventRestored); err != nil {
			return err
		}
		for _, cid := range along {
			c, err := m.node(ctx, cid)
			if err != nil {
				return err
			}
			c.Status, c.TrashRoot = drive.StatusAvailable, ""
			if err := m.update(ctx, c, drive.EventRestored); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.withConflictID(ctx, err, parentsOf(n), nameOf(n))
	}
	return n, nil
}

// Purge deletes nodes for good (DELETE /nodes/{id}, bulk purge), with the
// descendants reachable only through them. Purged nodes remain as
// tombstones for the changes feed. Blobs are left to garbage collection.
func (s *Service) Purge(ctx context.Context, ids ...string) ([]*drive.Node, error) {
	const op = "nodes.Purge"
	p, err := writer(ctx, op)
	if err != nil {
		return nil, err
	}
	var out []*drive.Node
	err = s.write(ctx, p.UserID, func(m *mutation) error {
		out = out[:0]
		for _, id := range uniq(ids) {
			n, err := visible(ctx, m.tx, p.UserID, id)
			if err != nil {
				return err
			}
			if n.IsRoot {
				return &drive.Error{Op: op, Kind: drive.Forbidden, Message: "the root folder cannot be purged"}
			}
			if err := m.purge(ctx, n); err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

func (m *mutation) purge(ctx context.Context, n *drive.Node) error {
	along, links, err := orphanedBy(ctx, m.tx, m.userID, n.ID, notPurged)
	if err != nil {
		return err
	}
	gone := map[string]bool{n.ID: true}
	for _, id := range along {
		gone[id] = true
	}
	for _, id := range append([]string{n.ID}, along...) {
		x := n
		if id != n.ID {
			if x, err = m.node(ctx, id); err != nil {
				return err
			}
		}
		tombstone(x)
		if err := m.update(ctx, x, drive.EventPurged); err != nil {
			return err
		}
		if err := m.tx.DeleteProperties(ctx, x.ID); err != nil {
			return err
		}
	}
	// Nodes that stay (they have another live parent) lose their links to
	// the purged ones.
	var survivors []string
	for _, l := range links {
		if !gone[l.ChildID] && gone[l.ParentID] && notPurged(l.ChildStatus) && !slices.Contains(survivors, l.ChildID) {
			survivors = append(survivors, l.ChildID)
		}
	}
	for _, id := range survivors {
		c, err := m.node(ctx, id)
		if err != nil {
			return err
		}
		c.Parents = slices.DeleteFunc(c.Parents, func(p string) bool { return gone[p] })
		if len(c.Parents) == 0 {
			root, err := m.userRoot(ctx)
			if err != nil {
				return err
			}
			c.Parents = []string{root}
		}
		if err := m.update(ctx, c, drive.EventMetadataUpdated); err != nil {
			return err
		}
	}
	return nil
}

// tombstone strips a node down to what the changes feed reports for a
// purged node.
func tombstone(n *drive.Node) {
	n.Status = drive.StatusPurged
	n.TrashRoot = ""
	n.Labels = []string{}
	n.Parents = []string{}
	n.Description = ""
	if n.Content != nil {
		n.Content = &drive.Content{Version: n.Content.Version}
	}
}
