package mount

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
)

// tree is the drive as the mount knows it: every AVAILABLE file and
// folder, as the changes feed and the mount's own API calls last
// described it, and each folder's children by local name. Nodes are never
// modified in place, only replaced, so a *acd.Node handed out stays
// consistent. It is safe for concurrent use.
//
// It also holds the pending files: files created in the mount and not
// uploaded yet, which exist nowhere but here (and in their spools). A
// pending file has a local id (see isLocalID) and takes its name in its
// folder over any server node of the same name, which stays known but
// hidden ("shadowed") until the pending file is uploaded or dropped. Once
// uploaded (settle), its local id is an alias of its server id, so the
// inodes made for it keep working.
type tree struct {
	mu      sync.RWMutex
	rootID  string
	nodes   map[string]*acd.Node
	kids    map[string]map[string]string // folder id → local name → child id
	pending map[string]bool              // local ids of pending files
	alias   map[string]string            // local id → server id, once uploaded
}

func newTree() *tree {
	return &tree{nodes: map[string]*acd.Node{}, kids: map[string]map[string]string{},
		pending: map[string]bool{}, alias: map[string]string{}}
}

// localPrefix starts the ids of pending files; server ids never hold a
// colon.
const localPrefix = "local:"

// isLocalID reports whether id names a file created in the mount
// (pending, or uploaded since, see tree.resolve).
func isLocalID(id string) bool { return strings.HasPrefix(id, localPrefix) }

// entry is a directory entry: a local name in a folder.
type entry struct {
	parent, name string
}

// delta is what an update changed, for the kernel's caches: directory
// entries that appeared, vanished or now name another node, and nodes
// whose attributes or content changed.
type delta struct {
	entries []entry
	nodes   []string
}

func (d *delta) add(o delta) {
	d.entries = append(d.entries, o.entries...)
	d.nodes = append(d.nodes, o.nodes...)
}

// visible reports whether the mount shows n.
func visible(n *acd.Node) bool {
	return n.Status == client.StatusAvailable && (n.Kind == client.KindFile || n.Kind == client.KindFolder) &&
		(n.IsRoot || n.Name != "")
}

// reset forgets every node but the pending files (a changes feed reset);
// the returned delta names every entry that existed.
func (t *tree) reset() delta {
	t.mu.Lock()
	defer t.mu.Unlock()
	var d delta
	for p, m := range t.kids {
		for name := range m {
			d.entries = append(d.entries, entry{p, name})
		}
	}
	var keep []*acd.Node
	for id, n := range t.nodes {
		d.nodes = append(d.nodes, id)
		if t.pending[id] {
			keep = append(keep, n)
		}
	}
	t.nodes = map[string]*acd.Node{}
	t.kids = map[string]map[string]string{}
	for _, n := range keep {
		t.putLocked(n)
	}
	return d
}

// put records nodes in their current state, from the changes feed or
// from the reply of an API call. A node older than the one known (a lower
// version) is ignored: the feed may describe a node as it was before this
// mount's own last change of it, and a reply may arrive after the feed
// brought a later change. Nodes that are no longer AVAILABLE (trashed,
// purged) are removed.
func (t *tree) put(ns ...*acd.Node) delta {
	t.mu.Lock()
	defer t.mu.Unlock()
	var d delta
	for _, n := range ns {
		d.add(t.putLocked(n))
	}
	return d
}

func (t *tree) putLocked(n *acd.Node) delta {
	var d delta
	old := t.nodes[n.ID]
	if old != nil && old.Version > n.Version {
		return d
	}
	if n.IsRoot && n.Status == client.StatusAvailable {
		t.rootID = n.ID
	}
	oldName, newName := "", ""
	var oldParents, newParents []string
	if old != nil {
		oldName, oldParents = LocalName(old.Name), old.Parents
	}
	if visible(n) {
		newName, newParents = LocalName(n.Name), n.Parents
		t.nodes[n.ID] = n
	} else {
		delete(t.nodes, n.ID)
	}
	// Entries under the old name that the new state does not keep.
	for _, p := range oldParents {
		if oldName == newName && slices.Contains(newParents, p) {
			continue
		}
		if m := t.kids[p]; m[oldName] == n.ID {
			delete(m, oldName)
		}
		d.entries = append(d.entries, entry{p, oldName})
	}
	for _, p := range newParents {
		m := t.kids[p]
		if m == nil {
			m = map[string]string{}
			t.kids[p] = m
		}
		if cur, ok := m[newName]; ok && cur != n.ID && t.pending[cur] {
			continue // shadowed by a pending file until it is uploaded or dropped
		}
		if m[newName] != n.ID {
			m[newName] = n.ID
			d.entries = append(d.entries, entry{p, newName})
		}
	}
	if old != nil && attrsDiffer(old, n) {
		d.nodes = append(d.nodes, n.ID)
	}
	return d
}

// attrsDiffer reports whether two states of a node differ in what stat
// or read shows.
func attrsDiffer(a, b *acd.Node) bool {
	if a.ModifiedDate != b.ModifiedDate || a.CreatedDate != b.CreatedDate || len(a.Parents) != len(b.Parents) ||
		visible(a) != visible(b) {
		return true
	}
	return size(a) != size(b) || contentID(a) != contentID(b)
}

// remove drops a node the mount deleted (its reply may come later
// through the feed, which then changes nothing).
func (t *tree) remove(id string) delta {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.nodes[id]
	if n == nil {
		return delta{}
	}
	gone := *n
	gone.Status = client.StatusTrash
	return t.putLocked(&gone)
}

// dropLocked forgets node id and the entries that name it.
func (t *tree) dropLocked(id string) delta {
	var d delta
	n := t.nodes[id]
	if n == nil {
		return d
	}
	delete(t.nodes, id)
	name := LocalName(n.Name)
	for _, p := range n.Parents {
		if m := t.kids[p]; m[name] == id {
			delete(m, name)
			d.entries = append(d.entries, entry{p, name})
		}
	}
	return d
}

// unshadowLocked gives the entries a pending file left (those of d) back
// to the server nodes it hid.
func (t *tree) unshadowLocked(d delta) {
	for _, e := range d.entries {
		if _, taken := t.kids[e.parent][e.name]; taken {
			continue
		}
		for id, n := range t.nodes {
			if !t.pending[id] && slices.Contains(n.Parents, e.parent) && LocalName(n.Name) == e.name {
				m := t.kids[e.parent]
				if m == nil {
					m = map[string]string{}
					t.kids[e.parent] = m
				}
				m[e.name] = id
				break
			}
		}
	}
}

// addPending records a file created in the mount, not yet uploaded: n
// has a local id, one parent, and its remote name.
func (t *tree) addPending(n *acd.Node) delta {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending[n.ID] = true
	return t.putLocked(n)
}

// pendingNode returns the pending file id, or nil if id is no pending
// file (any more).
func (t *tree) pendingNode(id string) *acd.Node {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.pending[id] {
		return nil
	}
	return t.nodes[id]
}

// pendingIDs returns the ids of every pending file.
func (t *tree) pendingIDs() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	ids := make([]string, 0, len(t.pending))
	for id := range t.pending {
		ids = append(ids, id)
	}
	return ids
}

// pendingFold reports whether folder parent holds a pending file other
// than local whose name equals local but for case (the server would
// refuse the second at upload).
func (t *tree) pendingFold(parent, local string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for id := range t.pending {
		n := t.nodes[id]
		if n != nil && slices.Contains(n.Parents, parent) {
			if name := LocalName(n.Name); name != local && strings.EqualFold(name, local) {
				return true
			}
		}
	}
	return false
}

// renamePending moves pending file id to folder parent under the remote
// name remote.
func (t *tree) renamePending(id, parent, remote string) delta {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.nodes[id]
	if n == nil || !t.pending[id] {
		return delta{}
	}
	moved := *n
	moved.Name, moved.Parents, moved.Version = remote, []string{parent}, n.Version+1
	d := t.dropLocked(id)
	d.add(t.putLocked(&moved))
	t.unshadowLocked(d)
	return d
}

// dropPending forgets pending file id (unlinked before its upload); a
// server node it hid shows again.
func (t *tree) dropPending(id string) delta {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.pending[id] {
		return delta{}
	}
	d := t.dropLocked(id)
	delete(t.pending, id)
	t.unshadowLocked(d)
	return d
}

// settle replaces pending file id by n, the node its upload created:
// id becomes an alias of n.ID. The feed may have brought n (or a later
// version of it) already, hidden by the pending entry; it shows now.
func (t *tree) settle(id string, n *acd.Node) delta {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.dropLocked(id)
	delete(t.pending, id)
	t.alias[id] = n.ID
	if old := t.nodes[n.ID]; old != nil {
		if old.Version > n.Version {
			n = old
		}
		d.add(t.dropLocked(n.ID))
	}
	d.add(t.putLocked(n))
	return d
}

// resolve returns the server id of an uploaded pending file, else id.
func (t *tree) resolve(id string) string {
	if !isLocalID(id) {
		return id
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.resolveLocked(id)
}

func (t *tree) resolveLocked(id string) string {
	if s, ok := t.alias[id]; ok {
		return s
	}
	return id
}

// isPending reports whether id is a pending file.
func (t *tree) isPending(id string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.pending[id]
}

// root returns the root folder's id.
func (t *tree) root() string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.rootID
}

// node returns a node by id.
func (t *tree) node(id string) *acd.Node {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.nodes[t.resolveLocked(id)]
}

// child returns the node called local in folder parent.
func (t *tree) child(parent, local string) *acd.Node {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if id, ok := t.kids[parent][local]; ok {
		return t.nodes[id]
	}
	return nil
}

// dirent is a child in a listing.
type dirent struct {
	name string
	node *acd.Node
}

// list returns the children of folder parent, sorted by local name.
func (t *tree) list(parent string) []dirent {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]dirent, 0, len(t.kids[parent]))
	for name, id := range t.kids[parent] {
		if n := t.nodes[id]; n != nil {
			out = append(out, dirent{name, n})
		}
	}
	slices.SortFunc(out, func(a, b dirent) int { return strings.Compare(a.name, b.name) })
	return out
}

// hasChildren reports whether folder id has any child.
func (t *tree) hasChildren(id string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, cid := range t.kids[id] {
		if t.nodes[cid] != nil {
			return true
		}
	}
	return false
}

// size returns a file's size; 0 for folders.
func size(n *acd.Node) int64 {
	if n.ContentProperties == nil {
		return 0
	}
	return n.ContentProperties.Size
}

// contentID identifies a file's bytes: its MD5, or its content version
// when the server sent no MD5.
func contentID(n *acd.Node) string {
	if cp := n.ContentProperties; cp != nil {
		if cp.MD5 != "" {
			return cp.MD5
		}
		return "v" + strconv.FormatInt(cp.Version, 10)
	}
	return "v" + strconv.FormatInt(n.Version, 10)
}

// parseTime reads an ACD date; the zero time if it does not parse.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
