package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/clouddrive/clouddrive/internal/httpapi"
	"github.com/clouddrive/clouddrive/internal/meta/metatest"
)

// TestFeedMigration rolls the schema back to before node_feed (migration
// 00011_node_feed), when the renderings lived in nodes.wire, and up again
// over a filled database: the migration moves every rendering into
// node_feed and leaves nodes.wire empty.
func TestFeedMigration(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatalf("Open error: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	s.SetWire(httpapi.NodeWire)
	metatest.CheckWireMigration(t, s, httpapi.NodeWire, func(t *testing.T) {
		redoMigrations(t, s, 10, func(t *testing.T) {
			var kept int
			if err := s.Write.QueryRowContext(ctx, `SELECT COUNT(*) FROM nodes WHERE wire IS NOT NULL AND wire_seq = change_seq`).Scan(&kept); err != nil || kept == 0 {
				t.Fatalf("nodes with their rendering in nodes.wire after migrating down = %d, %v; want all", kept, err)
			}
		})
		var left int
		if err := s.Write.QueryRowContext(ctx, `SELECT COUNT(*) FROM nodes WHERE wire IS NOT NULL`).Scan(&left); err != nil || left != 0 {
			t.Errorf("nodes with nodes.wire after the migration = %d, %v; want 0", left, err)
		}
	})
}
