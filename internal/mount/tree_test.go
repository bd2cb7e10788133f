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
