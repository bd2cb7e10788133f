package nodes_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/blob/localdir"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/meta/sqlite"
	"github.com/clouddrive/clouddrive/internal/nodes"
	"github.com/clouddrive/clouddrive/internal/testbytes"
)

// env is a node service over a real SQLite file and a real blob directory,
// and a context of one user with the write scope.
type env struct {
	t    *testing.T
	ctx  context.Context
	svc  *nodes.Service
	m    meta.Store
	user *drive.User
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	m, err := sqlite.Open(t.Context(), filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	b, err := localdir.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	var tick atomic.Int64
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	svc := &nodes.Service{Meta: m, Blobs: b, NewID: drive.NewID, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Millisecond) }}
	u, err := svc.EnsureUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	ctx := drive.NewContext(t.Context(), drive.Principal{UserID: u.ID, App: "nodes-test", Scopes: []string{drive.ScopeRead, drive.ScopeWrite}})
	return &env{t: t, ctx: ctx, svc: svc, m: m, user: u}
}

func (e *env) folder(name string, parents ...string) *drive.Node {
	e.t.Helper()
	n, err := e.svc.CreateFolder(e.ctx, nodes.NewNode{Name: name, Parents: parents})
	if err != nil {
		e.t.Fatalf("CreateFolder(%s): %v", name, err)
	}
	return n
}

func (e *env) upload(name string, data []byte, parents ...string) *drive.Node {
	e.t.Helper()
	n, err := e.svc.Upload(e.ctx, nodes.NewNode{Name: name, Parents: parents}, bytes.NewReader(data), nodes.UploadOptions{SuppressDedup: true})
	if err != nil {
		e.t.Fatalf("Upload(%s): %v", name, err)
	}
	return n
}

func (e *env) node(id string) *drive.Node {
	e.t.Helper()
	n, err := e.svc.Node(e.ctx, id)
	if err != nil {
		e.t.Fatalf("Node(%s): %v", id, err)
	}
	return n
}

// status checks the status of each node.
func (e *env) status(want drive.Status, ns ...*drive.Node) {
	e.t.Helper()
	for _, n := range ns {
		if got := e.node(n.ID); got.Status != want {
			e.t.Errorf("%s: status %s, want %s", n.Name, got.Status, want)
		}
	}
}

// parents checks the parents of a node, in any order.
func (e *env) parents(n *drive.Node, want ...string) {
	e.t.Helper()
	got := slices.Clone(e.node(n.ID).Parents)
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		e.t.Errorf("%s: parents %v, want %v", n.Name, got, want)
	}
}

// used returns the used-bytes counter of the account (the quota
// endpoint's figure) and checks it against the sum the store computes.
func (e *env) used() int64 {
	e.t.Helper()
	_, used, err := e.svc.Quota(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	_, usage, err := e.svc.Account(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if total := usage.Total(); total != used {
		e.t.Errorf("used counter %+v, but the files sum to %+v", used, total)
	}
	return used.Bytes
}

func (e *env) setQuota(q int64) {
	e.t.Helper()
	err := e.m.Update(e.ctx, func(tx meta.Tx) error {
		u, err := tx.User(e.ctx, e.user.ID)
		if err != nil {
			return err
		}
		u.Quota = q
		return tx.UpdateUser(e.ctx, u)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// wantErr checks err's kind and, when code is set, its ACD code.
func wantErr(t *testing.T, what string, err error, kind drive.Kind, code string) *drive.Error {
	t.Helper()
	de := drive.AsError(err)
	if err == nil || drive.KindOf(err) != kind || (code != "" && (de == nil || de.Code != code)) {
		t.Fatalf("%s = %v (kind %v), want kind %v code %q", what, err, drive.KindOf(err), kind, code)
	}
	return de
}

func TestMoveAddRemoveParent(t *testing.T) {
	e := newEnv(t)
	root := e.user.RootID
	a, b := e.folder("a"), e.folder("b")
	f := e.upload("f.txt", []byte("hello"), a.ID)

	n, err := e.svc.Move(e.ctx, b.ID, a.ID, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(n.Parents, []string{b.ID}) || n.Version <= f.Version {
		t.Errorf("Move: parents %v version %d, want [%s] and a new version", n.Parents, n.Version, b.ID)
	}
	e.parents(f, b.ID)

	// Moving from a folder the node is not in, or into a file.
	_, err = e.svc.Move(e.ctx, a.ID, a.ID, f.ID)
	wantErr(t, "Move from a non-parent", err, drive.NotFound, "")
	g := e.upload("g.txt", []byte("g"), a.ID)
	_, err = e.svc.Move(e.ctx, g.ID, b.ID, f.ID)
	wantErr(t, "Move into a file", err, drive.Invalid, "")

	// A name taken in the target (compared case-insensitively) is a 409
	// naming the node that holds it.
	taken := e.upload("F.TXT", []byte("other"), a.ID)
	_, err = e.svc.Move(e.ctx, a.ID, b.ID, f.ID)
	if de := wantErr(t, "Move onto a taken name", err, drive.Conflict, acd.CodeNameAlreadyExists); de.NodeID != taken.ID {
		t.Errorf("conflict names node %q, want %q", de.NodeID, taken.ID)
	}
	e.parents(f, b.ID)

	// A folder cannot go into its own subtree.
	sub := e.folder("sub", a.ID)
	subsub := e.folder("subsub", sub.ID)
	_, err = e.svc.Move(e.ctx, subsub.ID, root, a.ID)
	wantErr(t, "Move a folder into its subtree", err, drive.Invalid, "")
	_, err = e.svc.AddParent(e.ctx, a.ID, a.ID)
	wantErr(t, "AddParent of a folder to itself", err, drive.Invalid, "")

	// Add and remove a second parent.
	if _, err := e.svc.AddParent(e.ctx, sub.ID, f.ID); err != nil {
		t.Fatal(err)
	}
	e.parents(f, b.ID, sub.ID)
	if _, err := e.svc.AddParent(e.ctx, sub.ID, f.ID); err != nil {
		t.Errorf("AddParent again: %v", err)
	}
	e.parents(f, b.ID, sub.ID)
	_, err = e.svc.AddParent(e.ctx, a.ID, f.ID)
	wantErr(t, "AddParent where the name is taken", err, drive.Conflict, acd.CodeNameAlreadyExists)
	if _, err := e.svc.RemoveParent(e.ctx, b.ID, f.ID); err != nil {
		t.Fatal(err)
	}
	e.parents(f, sub.ID)
	_, err = e.svc.RemoveParent(e.ctx, b.ID, f.ID)
	wantErr(t, "RemoveParent of a non-parent", err, drive.NotFound, "")

	// Removing the last parent puts the node in the root; in the root it
	// is refused.
	if _, err := e.svc.RemoveParent(e.ctx, sub.ID, f.ID); err != nil {
		t.Fatal(err)
	}
	e.parents(f, root)
	_, err = e.svc.RemoveParent(e.ctx, root, f.ID)
	wantErr(t, "RemoveParent of the last parent, the root", err, drive.Conflict, acd.CodeLastParent)
	_, err = e.svc.Move(e.ctx, a.ID, "", f.ID)
	wantErr(t, "Move without fromParent", err, drive.Invalid, "")
	r, err := e.svc.Root(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Move(e.ctx, a.ID, root, r.ID)
	wantErr(t, "Move the root", err, drive.Forbidden, "")

	// Read-only callers cannot move.
	ro := drive.NewContext(t.Context(), drive.Principal{UserID: e.user.ID, Scopes: []string{drive.ScopeRead}})
	_, err = e.svc.Move(ro, a.ID, root, f.ID)
	wantErr(t, "Move without the write scope", err, drive.Forbidden, "")
}

func TestTrashRestoreFolder(t *testing.T) {
	e := newEnv(t)
	root := e.user.RootID
	d := e.folder("d")
	x := e.upload("x", []byte("x"), d.ID)
	sub := e.folder("sub", d.ID)
	y := e.upload("y", []byte("y"), sub.ID)
	// z is in d and in the root: trashing d leaves it reachable.
	z := e.upload("z", []byte("z"), d.ID, root)
	before := e.used()

	n, err := e.svc.Trash(e.ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != drive.StatusTrash {
		t.Errorf("Trash returned status %s", n.Status)
	}
	e.status(drive.StatusTrash, d, x, sub, y)
	e.status(drive.StatusAvailable, z)
	if got := e.used(); got != before {
		t.Errorf("used %d after trash, want %d (the trash counts)", got, before)
	}
	again, err := e.svc.Trash(e.ctx, d.ID)
	if err != nil || again.Status != drive.StatusTrash || again.Version != e.node(d.ID).Version {
		t.Errorf("Trash of a trashed node = %+v, %v; want it unchanged", again, err)
	}

	// A trashed node cannot be moved, nor be a parent of a new node.
	_, err = e.svc.Move(e.ctx, root, sub.ID, y.ID)
	wantErr(t, "Move of a trashed node", err, drive.Conflict, acd.CodeNodeNotAvailable)
	_, err = e.svc.CreateFolder(e.ctx, nodes.NewNode{Name: "new", Parents: []string{d.ID}})
	wantErr(t, "CreateFolder in a trashed folder", err, drive.Conflict, acd.CodeParentNotAvailable)
	_, err = e.svc.Trash(e.ctx, root)
	wantErr(t, "Trash of the root", err, drive.Forbidden, "")

	// Restore brings back what went with it.
	n, err = e.svc.Restore(e.ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != drive.StatusAvailable {
		t.Errorf("Restore returned status %s", n.Status)
	}
	e.status(drive.StatusAvailable, d, x, sub, y, z)
	e.parents(d, root)
	e.parents(y, sub.ID)

	// A name taken meanwhile refuses the restore; a parent trashed
	// meanwhile is dropped, and with none left the node goes to the root.
	if _, err := e.svc.Trash(e.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	dup := e.folder("D")
	_, err = e.svc.Restore(e.ctx, d.ID)
	if de := wantErr(t, "Restore onto a taken name", err, drive.Conflict, acd.CodeNameAlreadyExists); de.NodeID != dup.ID {
		t.Errorf("conflict names %q, want %q", de.NodeID, dup.ID)
	}
	e.status(drive.StatusTrash, d, x)
	if _, err := e.svc.Restore(e.ctx, y.ID); err != nil {
		t.Fatal(err)
	}
	e.status(drive.StatusAvailable, y)
	e.status(drive.StatusTrash, sub)
	e.parents(y, root)
}

func TestPurge(t *testing.T) {
	e := newEnv(t)
	root := e.user.RootID
	d := e.folder("d")
	x := e.upload("x", testbytes.Random(1000, 1), d.ID)
	z := e.upload("z", testbytes.Random(300, 2), d.ID, root)
	keep := e.upload("keep", testbytes.Random(50, 3))
	if got := e.used(); got != 1350 {
		t.Fatalf("used %d, want 1350", got)
	}
	if _, err := e.svc.Trash(e.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.Purge(e.ctx, d.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].ID != d.ID || out[0].Status != drive.StatusPurged {
		t.Errorf("Purge = %+v, want d as a tombstone once", out)
	}
	for _, n := range []*drive.Node{d, x} {
		if _, err := e.svc.Node(e.ctx, n.ID); !drive.Is(drive.NotFound, err) {
			t.Errorf("Node(%s) after purge = %v, want not found", n.Name, err)
		}
	}
	// z had another parent: it stays, without its purged one.
	e.status(drive.StatusAvailable, z, keep)
	e.parents(z, root)
	if got := e.used(); got != 350 {
		t.Errorf("used %d after purge, want 350", got)
	}
	_, err = e.svc.Purge(e.ctx, d.ID)
	wantErr(t, "Purge of a purged node", err, drive.NotFound, "")
	_, err = e.svc.Purge(e.ctx, root)
	wantErr(t, "Purge of the root", err, drive.Forbidden, "")
	// A purge of several nodes is one transaction: a bad id keeps all.
	_, err = e.svc.Purge(e.ctx, keep.ID, "no-such-node")
	wantErr(t, "Purge with a missing id", err, drive.NotFound, "")
	e.status(drive.StatusAvailable, keep)
	// An AVAILABLE node may be purged directly.
	if _, err := e.svc.Purge(e.ctx, keep.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.used(); got != 300 {
		t.Errorf("used %d, want 300", got)
	}
}

func TestQuota(t *testing.T) {
	e := newEnv(t)
	e.setQuota(1000)
	f := e.upload("f", testbytes.Random(600, 1))
	if got := e.used(); got != 600 {
		t.Fatalf("used %d, want 600", got)
	}

	// An upload beyond what is left stores nothing.
	_, err := e.svc.Upload(e.ctx, nodes.NewNode{Name: "big"}, bytes.NewReader(testbytes.Random(401, 2)), nodes.UploadOptions{})
	wantErr(t, "Upload beyond the quota", err, drive.QuotaExceeded, acd.CodeQuotaExceeded)
	if got := e.used(); got != 600 {
		t.Errorf("used %d after a refused upload, want 600", got)
	}
	page, err := e.svc.List(e.ctx, nodes.ListOptions{Filters: "name:big"})
	if err != nil || len(page.Nodes) != 0 {
		t.Errorf("List(name:big) = %+v, %v; want nothing", page, err)
	}
	// Exactly what is left fits.
	g := e.upload("g", testbytes.Random(400, 3))
	if got := e.used(); got != 1000 {
		t.Errorf("used %d, want 1000", got)
	}
	_, err = e.svc.CreateFolder(e.ctx, nodes.NewNode{Name: "folders cost nothing"})
	if err != nil {
		t.Errorf("CreateFolder at a full quota: %v", err)
	}

	// An overwrite gets back the old size: 600 -> 550 fits, 550 -> 601
	// does not, and a refused one keeps the old content.
	if _, err := e.svc.Overwrite(e.ctx, f.ID, bytes.NewReader(testbytes.Random(550, 4)), nodes.UploadOptions{}); err != nil {
		t.Fatalf("Overwrite within the quota: %v", err)
	}
	if got := e.used(); got != 950 {
		t.Errorf("used %d after overwrite, want 950", got)
	}
	_, err = e.svc.Overwrite(e.ctx, f.ID, bytes.NewReader(testbytes.Random(601, 5)), nodes.UploadOptions{})
	wantErr(t, "Overwrite beyond the quota", err, drive.QuotaExceeded, acd.CodeQuotaExceeded)
	n := e.node(f.ID)
	if n.Content.Size != 550 || n.Content.MD5 != testbytes.MD5(testbytes.Random(550, 4)) {
		t.Errorf("content after a refused overwrite: %+v, want the 550 bytes", n.Content)
	}
	_, rc, err := e.svc.Open(e.ctx, f.ID, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, testbytes.Random(550, 4)) {
		t.Errorf("read %d bytes after a refused overwrite, want the 550 stored", len(got))
	}

	// The trash counts; a purge frees. A quota below the usage blocks
	// uploads but deletes nothing.
	if _, err := e.svc.Trash(e.ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Upload(e.ctx, nodes.NewNode{Name: "h"}, bytes.NewReader(testbytes.Random(51, 6)), nodes.UploadOptions{})
	wantErr(t, "Upload while the trash fills the quota", err, drive.QuotaExceeded, acd.CodeQuotaExceeded)
	if _, err := e.svc.Purge(e.ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	e.upload("h", testbytes.Random(51, 6))
	e.setQuota(100)
	_, err = e.svc.Upload(e.ctx, nodes.NewNode{Name: "tiny"}, bytes.NewReader([]byte("1")), nodes.UploadOptions{})
	wantErr(t, "Upload over a lowered quota", err, drive.QuotaExceeded, acd.CodeQuotaExceeded)
	e.status(drive.StatusAvailable, f)
	if got := e.used(); got != 601 {
		t.Errorf("used %d, want 601", got)
	}
	// 0 is unlimited.
	e.setQuota(0)
	e.upload("large", testbytes.Random(5000, 7))
	if got := e.used(); got != 5601 {
		t.Errorf("used %d, want 5601", got)
	}
}

// TestUsedCounter follows the used-bytes counter through every write that
// changes it, checking it against the store's sum each time (env.used).
func TestUsedCounter(t *testing.T) {
	e := newEnv(t)
	want := int64(0)
	check := func(step string) {
		t.Helper()
		if got := e.used(); got != want {
			t.Errorf("%s: used %d, want %d", step, got, want)
		}
	}
	check("empty account")
	d := e.folder("d")
	a := e.upload("a", testbytes.Random(1<<10, 1), d.ID)
	want += 1 << 10
	check("upload")
	b := e.upload("b", nil, d.ID)
	check("empty file")
	// Deduplicated content is refused, and counts nothing.
	_, err := e.svc.Upload(e.ctx, nodes.NewNode{Name: "a2"}, bytes.NewReader(testbytes.Random(1<<10, 1)), nodes.UploadOptions{})
	wantErr(t, "Upload of the same content", err, drive.Conflict, acd.CodeContentAlreadyExists)
	check("refused duplicate")
	if _, err := e.svc.Overwrite(e.ctx, b.ID, bytes.NewReader(testbytes.Random(3000, 2)), nodes.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	want += 3000
	check("overwrite of the empty file")
	if _, err := e.svc.Overwrite(e.ctx, a.ID, bytes.NewReader(testbytes.Random(10, 3)), nodes.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	want += 10 - 1<<10
	check("overwrite with less")
	if _, err := e.svc.Move(e.ctx, e.user.RootID, d.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	check("move")
	if _, err := e.svc.Trash(e.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	check("trash")
	if _, err := e.svc.Restore(e.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	check("restore")
	if _, err := e.svc.Purge(e.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	want -= 3000
	check("purge of the folder")
	_, used, err := e.svc.Quota(e.ctx)
	if err != nil || used.Count != 1 {
		t.Errorf("file count %d, %v; want 1", used.Count, err)
	}
}
