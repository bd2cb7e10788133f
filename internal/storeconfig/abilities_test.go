package storeconfig_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
	"github.com/clouddrive/clouddrive/internal/storeconfig"
)

// TestAbilities: the embedded store is one server's, PostgreSQL is shared
// by replicas and keeps rate-limit buckets every replica sees.
func TestAbilities(t *testing.T) {
	ctx := t.Context()
	lite, err := storeconfig.OpenMeta(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if storeconfig.Shared(lite) || storeconfig.SharedRateLimits(lite) != nil {
		t.Errorf("SQLite store reported as shared by replicas")
	}

	t.Run("Postgres", func(t *testing.T) {
		dsn := pgtest.Schema(t)
		pg, err := storeconfig.OpenMeta(ctx, dsn, filepath.Join(t.TempDir(), "unused"))
		if err != nil {
			t.Fatal(err)
		}
		defer pg.Close()
		if !storeconfig.Shared(pg) {
			t.Fatal("PostgreSQL store not reported as shared")
		}
		// Two replicas' views of the buckets: the burst of 1 is taken once.
		a, b := storeconfig.SharedRateLimits(pg), storeconfig.SharedRateLimits(pg)
		now := time.Now()
		bucket := []ratelimit.Bucket{{Key: "t:abilities", Rate: 0.001, Burst: 1}}
		if ok, _, err := a.Take(ctx, now, bucket); !ok || err != nil {
			t.Fatalf("first take: %v %v", ok, err)
		}
		if ok, wait, err := b.Take(ctx, now, bucket); ok || err != nil || wait <= 0 {
			t.Errorf("second take from the other replica: ok=%v wait=%v err=%v, want refused with a wait", ok, wait, err)
		}
	})
}
