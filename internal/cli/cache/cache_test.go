package cache_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/cli/cache"
)

func open(t *testing.T) *cache.Cache {
	t.Helper()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c, err := cache.Open(context.Background(), filepath.Join(t.TempDir(), "sub", "nodes.db"), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func node(id, name, kind, status string, parents ...string) *acd.Node {
	return &acd.Node{ID: id, Name: name, Kind: kind, Status: status, Parents: parents, IsRoot: id == "root"}
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	c := open(t)
	if cp, err := c.Checkpoint(ctx); err != nil || cp != "" {
		t.Fatalf("new cache checkpoint = %q, %v", cp, err)
	}
	err := c.Apply(ctx, &acd.ChangeSet{Checkpoint: "cp1", Reset: true, Nodes: []*acd.Node{
		node("root", "", "FOLDER", "AVAILABLE"),
		node("d1", "Straße", "FOLDER", "AVAILABLE", "root"),
		node("f1", "a.txt", "FILE", "AVAILABLE", "d1"),
		node("f2", "b.txt", "FILE", "TRASH", "d1"),
		node("f3", "Shared.txt", "FILE", "AVAILABLE", "d1", "root"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.Root(ctx); err != nil || r.ID != "root" {
		t.Errorf("Root = %v, %v", r, err)
	}
	if n, err := c.Child(ctx, "root", "STRASSE", "AVAILABLE"); err != nil || n.ID != "d1" {
		t.Errorf("Child(case-folded) = %v, %v", n, err)
	}
	if _, err := c.Child(ctx, "d1", "b.txt", "AVAILABLE"); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("Child(trashed, AVAILABLE) = %v, want ErrNotFound", err)
	}
	if n, err := c.Child(ctx, "d1", "B.TXT", "TRASH"); err != nil || n.ID != "f2" {
		t.Errorf("Child(trashed, TRASH) = %v, %v", n, err)
	}
	kids, err := c.Children(ctx, "d1", "AVAILABLE")
	if err != nil || len(kids) != 2 || kids[0].ID != "f1" || kids[1].ID != "f3" {
		t.Errorf("Children(d1) = %v, %v", kids, err)
	}
	if kids, _ := c.Children(ctx, "root", "AVAILABLE"); len(kids) != 2 {
		t.Errorf("Children(root) = %d nodes, want 2 (several parents)", len(kids))
	}

	// An incremental set: a rename, a move, a purge.
	err = c.Apply(ctx, &acd.ChangeSet{Checkpoint: "cp2", Nodes: []*acd.Node{
		node("f1", "renamed.txt", "FILE", "AVAILABLE", "root"),
		{ID: "f3", Status: "PURGED"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if cp, _ := c.Checkpoint(ctx); cp != "cp2" {
		t.Errorf("checkpoint = %q", cp)
	}
	if at, _ := c.SyncedAt(ctx); at.IsZero() {
		t.Errorf("SyncedAt not set")
	}
	if kids, _ := c.Children(ctx, "d1", "AVAILABLE"); len(kids) != 0 {
		t.Errorf("d1 still has %v", kids)
	}
	if n, err := c.Child(ctx, "root", "renamed.txt", "AVAILABLE"); err != nil || n.ID != "f1" {
		t.Errorf("moved node = %v, %v", n, err)
	}
	if _, err := c.Node(ctx, "f3"); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("purged node still cached: %v", err)
	}
	stats, _ := c.Stats(ctx)
	if stats["FILE/AVAILABLE"] != 1 || stats["FILE/TRASH"] != 1 || stats["FOLDER/AVAILABLE"] != 2 {
		t.Errorf("Stats = %v", stats)
	}

	// A reset replaces everything.
	if err := c.Apply(ctx, &acd.ChangeSet{Checkpoint: "cp3", Reset: true, Nodes: []*acd.Node{node("root", "", "FOLDER", "AVAILABLE")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Node(ctx, "d1"); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("reset kept d1")
	}
	if err := c.Put(ctx, node("x", "x", "FILE", "AVAILABLE", "root")); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if cp, _ := c.Checkpoint(ctx); cp != "" {
		t.Errorf("checkpoint after Reset = %q", cp)
	}
}

// TestClaim: a cache holds one account's nodes; claiming it for another
// account empties it, claiming it again for the same keeps it, and a
// reset from the feed keeps the account.
func TestClaim(t *testing.T) {
	ctx := context.Background()
	c := open(t)
	if dropped, err := c.Claim(ctx, "alice-root"); err != nil || dropped {
		t.Fatalf("first claim = %v, %v", dropped, err)
	}
	if err := c.Apply(ctx, &acd.ChangeSet{Checkpoint: "cp1", Reset: true, Nodes: []*acd.Node{
		node("root", "", "FOLDER", "AVAILABLE"), node("f1", "secret.txt", "FILE", "AVAILABLE", "root"),
	}}); err != nil {
		t.Fatal(err)
	}
	if acct, err := c.Account(ctx); err != nil || acct != "alice-root" {
		t.Fatalf("account after a reset set = %q, %v", acct, err)
	}
	if dropped, err := c.Claim(ctx, "alice-root"); err != nil || dropped {
		t.Fatalf("claim by the same account = %v, %v", dropped, err)
	}
	if _, err := c.Node(ctx, "f1"); err != nil {
		t.Fatalf("same account lost its nodes: %v", err)
	}
	if dropped, err := c.Claim(ctx, "bob-root"); err != nil || !dropped {
		t.Fatalf("claim by another account = %v, %v", dropped, err)
	}
	if _, err := c.Node(ctx, "f1"); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("another account sees alice's node: %v", err)
	}
	if cp, err := c.Checkpoint(ctx); err != nil || cp != "" {
		t.Errorf("checkpoint kept for another account: %q, %v", cp, err)
	}
	if acct, _ := c.Account(ctx); acct != "bob-root" {
		t.Errorf("account = %q", acct)
	}
}
