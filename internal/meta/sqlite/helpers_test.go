package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/clouddrive/clouddrive/internal/meta/metatest"
	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
)

// redoMigrations takes s's schema down to version to, runs between (if
// set), and up again (metatest.RedoMigrations).
func redoMigrations(t *testing.T, s *sqlstore.Store, to int64, between func(t *testing.T)) {
	t.Helper()
	p, err := provider(s.Write)
	if err != nil {
		t.Fatal(err)
	}
	metatest.RedoMigrations(t, p, to, between)
}

// openTemp opens a store in a new temporary directory, closed when the
// test ends.
func openTemp(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatalf("Open error: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
