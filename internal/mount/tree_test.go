package mount

import (
	"slices"
	"testing"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
)

func folder(id, name string, version int64, parents ...string) *acd.Node {
	return &acd.Node{ID: id, Name: name, Kind: client.KindFolder, Status: client.StatusAvailable, Version: version, Parents: parents}
}

func names(t *tree, parent string) []string {
	var out []string
	for _, e := range t.list(parent) {
		out = append(out, e.name)
	}
	return out
}

func TestTree(t *testing.T) {
	tr := newTree()
	root := &acd.Node{ID: "r", Kind: client.KindFolder, Status: client.StatusAvailable, IsRoot: true, Version: 1}
	tr.put(root, folder("a", "a", 1, "r"), folder("b", "b", 1, "r"), folder("x", "x/y", 1, "a", "b"))
	if tr.root() != "r" {
		t.Fatalf("root = %q", tr.root())
	}
	// Multi-parent: in both folders, escaped.
	if got := names(tr, "a"); !slices.Equal(got, []string{"x∕y"}) {
		t.Errorf("a holds %q", got)
	}
	if tr.child("b", "x∕y") == nil {
		t.Error("second parent lacks the child")
	}
	// A rename and a move: the old entries go, the new come, and the
	// delta names all of them.
	d := tr.put(folder("x", "z", 2, "a"))
	if got := names(tr, "b"); len(got) != 0 {
		t.Errorf("b still holds %q", got)
	}
	if tr.child("a", "z") == nil || tr.child("a", "x∕y") != nil {
		t.Errorf("a holds %q", names(tr, "a"))
	}
	want := []entry{{"a", "x∕y"}, {"b", "x∕y"}, {"a", "z"}}
	if !slices.Equal(d.entries, want) || !slices.Equal(d.nodes, []string{"x"}) {
		t.Errorf("delta = %+v, want entries %v and node x", d, want)
	}
	// An older version (a late feed entry) changes nothing.
	if d := tr.put(folder("x", "old", 1, "b")); len(d.entries) != 0 || tr.child("a", "z") == nil {
		t.Errorf("older version applied: %+v", d)
	}
	// The same state again changes nothing.
	if d := tr.put(folder("x", "z", 2, "a")); len(d.entries)+len(d.nodes) != 0 {
		t.Errorf("same state gave %+v", d)
	}
	if !tr.hasChildren("a") || tr.hasChildren("b") {
		t.Error("hasChildren wrong")
	}
	// Trashed: gone.
	gone := folder("x", "z", 3, "a")
	gone.Status = client.StatusTrash
	tr.put(gone)
	if tr.node("x") != nil || tr.hasChildren("a") {
		t.Error("trashed node still listed")
	}
	// remove (the mount's own delete) then a reset.
	tr.remove("b")
	if tr.child("r", "b") != nil {
		t.Error("removed node still listed")
	}
	d = tr.reset()
	if tr.node("a") != nil || !slices.Contains(d.entries, entry{"r", "a"}) {
		t.Errorf("reset left nodes or did not report entries: %+v", d)
	}
}

func file(id, name string, version int64, parents ...string) *acd.Node {
	return &acd.Node{ID: id, Name: name, Kind: client.KindFile, Status: client.StatusAvailable, Version: version, Parents: parents}
}

// TestTreePending: a pending file takes its name over a server node
// until it is dropped or settled; settling reconciles it with its server
// node, whether the feed brought that node before or after.
func TestTreePending(t *testing.T) {
	tr := newTree()
	root := &acd.Node{ID: "r", Kind: client.KindFolder, Status: client.StatusAvailable, IsRoot: true, Version: 1}
	tr.put(root, folder("a", "a", 1, "r"))
	tr.addPending(file("local:1", "new.txt", 1, "r"))
	if c := tr.child("r", "new.txt"); c == nil || c.ID != "local:1" || !tr.isPending("local:1") {
		t.Fatalf("pending file not listed: %+v", c)
	}

	// The feed brings the upload before its reply: it stays hidden, and
	// settling shows it under the same name, the local id an alias.
	tr.put(file("s1", "new.txt", 2, "r"))
	if c := tr.child("r", "new.txt"); c.ID != "local:1" {
		t.Errorf("the feed replaced a pending entry: %+v", c)
	}
	tr.settle("local:1", file("s1", "new.txt", 1, "r"))
	if c := tr.child("r", "new.txt"); c == nil || c.ID != "s1" || c.Version != 2 {
		t.Errorf("after settle: %+v, want s1 version 2", c)
	}
	if tr.resolve("local:1") != "s1" || tr.node("local:1").ID != "s1" || tr.isPending("local:1") {
		t.Error("the local id does not resolve to the server node")
	}
	if got := names(tr, "r"); !slices.Equal(got, []string{"a", "new.txt"}) {
		t.Errorf("r holds %q", got)
	}
	// The feed after the reply: nothing changes.
	if d := tr.put(file("s1", "new.txt", 2, "r")); len(d.entries)+len(d.nodes) != 0 {
		t.Errorf("the feed's copy of the upload changed %+v", d)
	}

	// A pending file over a server node's name hides it until dropped.
	tr.put(file("s2", "clash", 1, "r"))
	tr.addPending(file("local:2", "clash", 1, "r"))
	if c := tr.child("r", "clash"); c.ID != "local:2" {
		t.Errorf("clash is %+v, want the pending file", c)
	}
	tr.dropPending("local:2")
	if c := tr.child("r", "clash"); c == nil || c.ID != "s2" {
		t.Errorf("after the drop clash is %+v, want s2", c)
	}

	// Renamed, moved, then a feed reset: still there.
	tr.addPending(file("local:3", "draft", 1, "r"))
	tr.renamePending("local:3", "a", "final")
	if tr.child("r", "draft") != nil || tr.child("a", "final") == nil {
		t.Errorf("rename of a pending file: r %q, a %q", names(tr, "r"), names(tr, "a"))
	}
	tr.reset()
	if c := tr.child("a", "final"); c == nil || c.ID != "local:3" {
		t.Errorf("a reset lost the pending file: %+v", c)
	}
	if !tr.pendingFold("a", "FINAL") || tr.pendingFold("a", "final") {
		t.Error("pendingFold wrong")
	}
}
