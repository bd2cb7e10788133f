package changes_test

import (
	"context"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/bench"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// seededStore opens the embedded metadata store (a real SQLite file, with
// the server's renderer) in a temporary directory, with a user holding
// n nodes seeded under its root (internal/bench.Seed), and returns the
// store, the user and the seeded nodes' ids. The store closes with tb.
func seededStore(tb testing.TB, n int) (meta.Store, *drive.User, []string) {
	tb.Helper()
	ctx := context.Background()
	cfg := app.Config{DataDir: tb.TempDir()}
	m, err := app.OpenMeta(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	if _, err := app.AdminToken(ctx, cfg, m, "u", 0); err != nil {
		tb.Fatal(err)
	}
	var u *drive.User
	if err := m.View(ctx, func(tx meta.Tx) error { u, err = tx.UserByName(ctx, "u"); return err }); err != nil {
		tb.Fatal(err)
	}
	ids, err := bench.Seed(ctx, m, u.ID, u.RootID, n, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return m, u, ids
}
