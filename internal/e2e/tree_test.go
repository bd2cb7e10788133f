package e2e_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	goacd "github.com/ncw/go-acd"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

func TestGoACDTree(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})

	t.Run("OverwriteRenameMove", func(t *testing.T) {
		c, _ := newClient(t, s, "tree")
		root, _, _ := c.Nodes.GetRoot()
		a, _, _ := root.CreateFolder("a")
		b, _, _ := root.CreateFolder("b")
		f, _, err := a.Put(strings.NewReader("version one"), "file.txt")
		if err != nil {
			t.Fatal(err)
		}
		if got := *f.ContentProperties.ContentType; got != "text/plain" {
			t.Errorf("contentType = %q, want text/plain (from the extension)", got)
		}
		nf, _, err := f.Overwrite(strings.NewReader("version two, longer"))
		if err != nil {
			t.Fatalf("Overwrite: %v", err)
		}
		if *nf.ContentProperties.Md5 != md5hex([]byte("version two, longer")) {
			t.Errorf("Overwrite md5 = %s", *nf.ContentProperties.Md5)
		}
		in, _, _ := nf.Open()
		if got := readAll(t, in); string(got) != "version two, longer" {
			t.Errorf("after overwrite read %q", got)
		}
		rn, _, err := nf.Rename("renamed.txt")
		if err != nil || *rn.Name != "renamed.txt" {
			t.Fatalf("Rename = %v, %v", rn, err)
		}
		if _, _, err := a.Put(strings.NewReader("other"), "other.txt"); err != nil {
			t.Fatal(err)
		}
		if _, resp, _ := rn.Rename("OTHER.txt"); status(resp) != http.StatusConflict {
			t.Errorf("Rename into a taken name = %d, want 409", status(resp))
		}
		if _, err := rn.ReplaceParent(*a.Id, *b.Id); err != nil {
			t.Fatalf("ReplaceParent: %v", err)
		}
		if _, _, err := a.GetFile("renamed.txt"); err == nil {
			t.Error("file still in old folder after move")
		}
		moved, _, err := b.GetFile("renamed.txt")
		if err != nil || !slices.Equal(moved.Parents, []string{*b.Id}) {
			t.Fatalf("after move: %v, %v", moved, err)
		}
		// Several parents.
		if _, err := moved.AddParent(*a.Id); err != nil {
			t.Fatalf("AddParent: %v", err)
		}
		inA, _, errA := a.GetFile("renamed.txt")
		inB, _, errB := b.GetFile("renamed.txt")
		if errA != nil || errB != nil || *inA.Id != *inB.Id || len(inA.Parents) != 2 {
			t.Fatalf("multi-parent lookups: %v %v %v", errA, errB, inA)
		}
		if _, err := inA.RemoveParent(*b.Id); err != nil {
			t.Fatalf("RemoveParent: %v", err)
		}
		if _, _, err := b.GetFile("renamed.txt"); err == nil {
			t.Error("file still in b after RemoveParent")
		}
	})

	t.Run("TrashRestore", func(t *testing.T) {
		c, tok := newClient(t, s, "trash")
		root, _, _ := c.Nodes.GetRoot()
		dir, _, _ := root.CreateFolder("dir")
		sub, _, _ := dir.CreateFolder("sub")
		f, _, _ := sub.Put(strings.NewReader("deep"), "deep.txt")
		if _, err := dir.Trash(); err != nil {
			t.Fatalf("Trash: %v", err)
		}
		if _, _, err := root.GetFolder("dir"); err == nil {
			t.Error("trashed folder still found by name")
		}
		// The subtree went along; the trash lists only the folder itself.
		a := api{t, s.URL, tok}
		var n acd.Node
		a.do("GET", "/drive/v1/nodes/"+*f.Id, nil, &n)
		if n.Status != "TRASH" {
			t.Errorf("file under trashed folder has status %s", n.Status)
		}
		var trash acd.NodeList
		a.do("GET", "/drive/v1/trash", nil, &trash)
		if trash.Count != 1 || trash.Data[0].ID != *dir.Id {
			t.Errorf("trash = %+v, want just the folder", trash)
		}
		// A trashed node never blocks a name.
		again, _, err := root.CreateFolder("dir")
		if err != nil {
			t.Fatalf("CreateFolder over trashed name: %v", err)
		}
		if _, resp, _ := dir.Restore(); status(resp) != http.StatusConflict {
			t.Errorf("Restore into a taken name = %d, want 409", status(resp))
		}
		if _, err := again.Trash(); err != nil {
			t.Fatal(err)
		}
		restored, _, err := dir.Restore()
		if err != nil || *restored.Status != "AVAILABLE" {
			t.Fatalf("Restore = %v, %v", restored, err)
		}
		got, _, err := sub.GetFile("deep.txt")
		if err != nil || *got.Status != "AVAILABLE" {
			t.Errorf("subtree not restored: %v %v", got, err)
		}
	})

	t.Run("RcloneMoveFallback", func(t *testing.T) {
		// rclone: rename gets 409, so trash, rename in the trash, add the new
		// parent, remove the old one, restore.
		c, _ := newClient(t, s, "fallback")
		root, _, _ := c.Nodes.GetRoot()
		src, _, _ := root.CreateFolder("src")
		dst, _, _ := root.CreateFolder("dst")
		f, _, _ := src.Put(strings.NewReader("payload"), "x.txt")
		if _, _, err := dst.Put(strings.NewReader("taken"), "y.txt"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Trash(); err != nil {
			t.Fatal(err)
		}
		// Renaming a trashed node to a name taken in the destination is fine.
		if _, _, err := f.Rename("y.txt"); err != nil {
			t.Fatalf("Rename in trash: %v", err)
		}
		if _, err := f.AddParent(*dst.Id); err != nil {
			t.Fatalf("AddParent in trash: %v", err)
		}
		if _, err := f.RemoveParent(*src.Id); err != nil {
			t.Fatalf("RemoveParent in trash: %v", err)
		}
		if _, resp, _ := f.Restore(); status(resp) != http.StatusConflict {
			t.Errorf("Restore with a clash = %d, want 409", status(resp))
		}
		old, _, _ := dst.GetFile("y.txt")
		if _, err := old.Trash(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.Restore(); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		got, _, err := dst.GetFile("y.txt")
		if err != nil || *got.Id != *f.Id {
			t.Fatalf("after fallback: %v, %v", got, err)
		}
	})

	t.Run("Changes", func(t *testing.T) {
		c, tok := newClient(t, s, "changes")
		root, _, _ := c.Nodes.GetRoot()
		sets, _, err := c.Changes.GetChanges(&goacd.ChangesOptions{})
		if err != nil {
			t.Fatalf("GetChanges: %v", err)
		}
		if len(sets) != 2 || !sets[0].Reset || !sets[1].End || len(sets[0].Nodes) != 1 || *sets[0].Nodes[0].Id != *root.Id {
			t.Fatalf("full sync of an empty drive = %+v, want reset + root + end", sets)
		}
		cp := sets[0].Checkpoint
		dir, _, _ := root.CreateFolder("c")
		f, _, _ := dir.Put(strings.NewReader("x"), "f.txt")
		g, _, _ := dir.Put(strings.NewReader("y"), "g.txt")
		if _, err := f.Trash(); err != nil {
			t.Fatal(err)
		}
		a := api{t, s.URL, tok}
		if code, raw := a.do("DELETE", "/drive/v1/nodes/"+*g.Id, nil, nil); code != http.StatusOK {
			t.Fatalf("purge = %d %s", code, raw)
		}
		sets, _, err = c.Changes.GetChanges(&goacd.ChangesOptions{Checkpoint: cp, IncludePurged: true})
		if err != nil {
			t.Fatal(err)
		}
		var ids, statuses []string
		for _, cs := range sets {
			if cs.End {
				continue
			}
			if cs.Reset || cs.StatusCode != 200 {
				t.Errorf("incremental set reset=%v status=%d", cs.Reset, cs.StatusCode)
			}
			for _, n := range cs.Nodes {
				ids = append(ids, *n.Id)
				statuses = append(statuses, *n.Status)
			}
		}
		// Commit order: the folder, then f (trashed last), then g (purged last).
		want := []string{*dir.Id, *f.Id, *g.Id}
		if !slices.Equal(ids, want) || !slices.Equal(statuses, []string{"AVAILABLE", "TRASH", "PURGED"}) {
			t.Errorf("changes since checkpoint = %v %v, want %v [AVAILABLE TRASH PURGED]", ids, statuses, want)
		}
		if !sets[len(sets)-1].End {
			t.Error("stream did not end with {\"end\":true}")
		}
		// Nothing new: one empty set with a checkpoint, then the end.
		last := sets[len(sets)-2].Checkpoint
		sets, _, _ = c.Changes.GetChanges(&goacd.ChangesOptions{Checkpoint: last})
		if len(sets) != 2 || len(sets[0].Nodes) != 0 || sets[0].Checkpoint != last {
			t.Errorf("no-change sync = %+v", sets)
		}
		// An unknown checkpoint resets.
		sets, _, _ = c.Changes.GetChanges(&goacd.ChangesOptions{Checkpoint: "bogus"})
		if !sets[0].Reset {
			t.Error("unknown checkpoint did not reset")
		}
		// Without includePurged, purged nodes are not sent.
		sets, _, _ = c.Changes.GetChanges(&goacd.ChangesOptions{Checkpoint: cp})
		for _, cs := range sets {
			for _, n := range cs.Nodes {
				if *n.Status == "PURGED" {
					t.Errorf("purged node %s sent without includePurged", *n.Id)
				}
			}
		}
	})

	t.Run("ErrorBodies", func(t *testing.T) {
		c, tok := newClient(t, s, "errors")
		root, _, _ := c.Nodes.GetRoot()
		first, _, _ := root.CreateFolder("taken")
		a := api{t, s.URL, tok}
		var e acd.Error
		code, _ := a.do("POST", "/drive/v1/nodes", `{"name":"TAKEN","kind":"FOLDER","parents":["`+*root.Id+`"]}`, &e)
		if code != http.StatusConflict || e.Code != "NAME_ALREADY_EXISTS" || e.Info == nil || e.Info.NodeID != *first.Id ||
			!strings.Contains(e.Message, *first.Id) || e.Logref == "" {
			t.Errorf("conflict = %d %+v", code, e)
		}
		e = acd.Error{}
		code, _ = a.do("GET", "/drive/v1/nodes?limit=500", nil, &e)
		if code != http.StatusBadRequest || !strings.Contains(e.Message, "limit") {
			t.Errorf("bad limit = %d %+v", code, e)
		}
		code, _ = a.do("GET", "/drive/v1/nodes?filters=bogus:1", nil, &e)
		if code != http.StatusBadRequest || !strings.Contains(e.Message, "filters") {
			t.Errorf("bad filter = %d %+v", code, e)
		}
		code, _ = a.do("GET", "/drive/v1/nodes/AAAAAAAAAAAAAAAAAAAAAA", nil, &e)
		if code != http.StatusNotFound {
			t.Errorf("missing node = %d", code)
		}
		code, _ = (api{t, s.URL, "wrong"}).do("GET", "/drive/v1/account/info", nil, nil)
		if code != http.StatusUnauthorized {
			t.Errorf("bad token = %d, want 401", code)
		}
	})

	t.Run("OtherUsersNodes", func(t *testing.T) {
		ca, _ := newClient(t, s, "owner")
		root, _, _ := ca.Nodes.GetRoot()
		f, _, _ := root.Put(bytes.NewReader([]byte("secret")), "secret.txt")
		_, tokB := newClient(t, s, "intruder")
		b := api{t, s.URL, tokB}
		for _, path := range []string{"/drive/v1/nodes/" + *f.Id, "/cdproxy/nodes/" + *f.Id + "/content", "/drive/v1/nodes/" + *root.Id + "/children"} {
			if code, raw := b.do("GET", path, nil, nil); code != http.StatusNotFound {
				t.Errorf("GET %s as another user = %d %s, want 404", path, code, raw)
			}
		}
		if code, _ := b.do("PUT", "/drive/v1/trash/"+*f.Id, nil, nil); code != http.StatusNotFound {
			t.Errorf("trash another user's node = %d, want 404", code)
		}
	})
}

// TestRestart checks that everything written before a restart is there
// after it.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	s := drivetest.New(t, drivetest.Options{DataDir: dir})
	c, _ := newClient(t, s, "restart")
	root, _, _ := c.Nodes.GetRoot()
	folder, _, _ := root.CreateFolder("kept")
	data := randomBytes(1<<20, 7)
	if _, _, err := folder.Put(bytes.NewReader(data), "kept.bin"); err != nil {
		t.Fatal(err)
	}
	sets, _, _ := c.Changes.GetChanges(&goacd.ChangesOptions{})
	cp := sets[len(sets)-2].Checkpoint
	s.Close()

	s2 := drivetest.New(t, drivetest.Options{DataDir: dir})
	c2, _ := newClient(t, s2, "restart")
	root2, _, err := c2.Nodes.GetRoot()
	if err != nil || *root2.Id != *root.Id {
		t.Fatalf("root after restart = %v, %v", root2, err)
	}
	f, _, err := root2.WalkNodes("kept", "kept.bin")
	if err != nil {
		t.Fatalf("WalkNodes after restart: %v", err)
	}
	in, _, err := (&goacd.File{Node: f}).Open()
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, in); !bytes.Equal(got, data) {
		t.Error("content differs after restart")
	}
	sets, _, _ = c2.Changes.GetChanges(&goacd.ChangesOptions{Checkpoint: cp})
	if sets[0].Reset || len(sets[0].Nodes) != 0 {
		t.Errorf("checkpoint after restart: reset=%v nodes=%d", sets[0].Reset, len(sets[0].Nodes))
	}
}
