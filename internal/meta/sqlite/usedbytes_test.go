package sqlite

import (
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/clouddrive/clouddrive/internal/meta/metatest"
)

// TestUsedBytesBackfill rolls the schema back to before the used-space
// counter (migration 00006_used_bytes) and up again over a filled
// database, so the counter comes from the migration's backfill alone.
func TestUsedBytesBackfill(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatalf("Open error: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	metatest.CheckBackfill(t, s, func(t *testing.T) {
		sub, err := fs.Sub(migrations, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		p, err := goose.NewProvider(goose.DialectSQLite3, s.Write, sub)
		if err != nil {
			t.Fatalf("goose.NewProvider error: %v", err)
		}
		if _, err := p.DownTo(ctx, 5); err != nil {
			t.Fatalf("migrate down to 5 error: %v", err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("migrate up error: %v", err)
		}
	})
}
