package postgres

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/meta/metatest"
)

// TestUsedBytesBackfill rolls the schema back to before the used-space
// counter (migration 00007_used_bytes) and up again over a filled
// database, so the counter comes from the migration's backfill alone.
func TestUsedBytesBackfill(t *testing.T) {
	s := openSchema(t)
	metatest.CheckBackfill(t, s, func(t *testing.T) { redoMigrations(t, s, 6, nil) })
}
