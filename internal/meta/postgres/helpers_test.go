package postgres

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/meta/metatest"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
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

// openSchema opens a store in a new schema of the test server (the test
// is skipped without one), closed when the test ends.
func openSchema(t *testing.T) *sqlstore.Store {
	t.Helper()
	pgtest.BaseDSN(t)
	s, err := Open(t.Context(), pgtest.Schema(t))
	if err != nil {
		t.Fatalf("Open error: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
