package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
	"github.com/clouddrive/clouddrive/internal/storeconfig"
)

// TestOpenBackfillsWire: nodes written without the stored changes-feed
// JSON (as by a server from before the column) get it from the
// background backfill that Open starts.
func TestOpenBackfillsWire(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := app.Config{DataDir: dir, WebhookPoll: -1}
	plain, err := storeconfig.OpenMeta(ctx, "", dir) // no renderer
	if err != nil {
		t.Fatal(err)
	}
	svc := app.NewNodes(cfg, plain, nil)
	u, err := svc.EnsureUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	pctx := drive.NewContext(ctx, drive.Principal{UserID: u.ID, App: "test", Scopes: []string{drive.ScopeReadAll, drive.ScopeWrite}})
	for _, name := range []string{"a", "b", "c"} {
		if _, err := svc.CreateFolder(pctx, nodes.NewNode{Name: name, Parents: []string{u.RootID}}); err != nil {
			t.Fatal(err)
		}
	}
	missing := func(m meta.Store) int {
		t.Helper()
		n := 0
		err := m.View(ctx, func(tx meta.Tx) error {
			rows, err := tx.ChangedWire(ctx, u.ID, -1, 100, nil)
			if len(rows) != 4 {
				t.Errorf("ChangedWire returned %d rows, want 4", len(rows))
			}
			for _, r := range rows {
				if r.JSON == nil {
					n++
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := missing(plain); n != 4 {
		t.Fatalf("%d nodes without stored JSON before Open, want all 4", n)
	}
	if err := plain.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	deadline := time.Now().Add(10 * time.Second)
	for missing(a.Meta) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d nodes still without stored JSON 10 s after Open", missing(a.Meta))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
