package sqlite

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/httpapi"
	"github.com/clouddrive/clouddrive/internal/meta/metatest"
)

// TestFeedMigration rolls the schema back to before node_feed (migration
// 00011_node_feed), when the renderings lived in nodes.wire, and up again
// over a filled database: the migration moves every rendering into
// node_feed and leaves nodes.wire empty.
func TestFeedMigration(t *testing.T) {
	s := openTemp(t)
	s.SetWire(httpapi.NodeWire)
	metatest.CheckWireMigration(t, s, s.Write, httpapi.NodeWire, func(t *testing.T, between func(t *testing.T)) {
		redoMigrations(t, s, 10, between)
	})
}
