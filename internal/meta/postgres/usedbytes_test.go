package postgres

import (
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/clouddrive/clouddrive/internal/meta/metatest"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
)

// TestUsedBytesBackfill rolls the schema back to before the used-space
// counter (migration 00007_used_bytes) and up again over a filled
// database, so the counter comes from the migration's backfill alone.
func TestUsedBytesBackfill(t *testing.T) {
	pgtest.BaseDSN(t)
	ctx := t.Context()
	s, err := Open(ctx, pgtest.Schema(t))
	if err != nil {
		t.Fatalf("Open error: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	metatest.CheckBackfill(t, s, func(t *testing.T) {
		sub, err := fs.Sub(migrations, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		p, err := goose.NewProvider(goose.DialectPostgres, s.Write, sub, goose.WithSessionLocker(schemaLocker{}))
		if err != nil {
			t.Fatalf("goose.NewProvider error: %v", err)
		}
		if _, err := p.DownTo(ctx, 6); err != nil {
			t.Fatalf("migrate down to 6 error: %v", err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("migrate up error: %v", err)
		}
	})
}
