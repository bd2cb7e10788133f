package sqlite

import (
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/clouddrive/clouddrive/internal/meta/metatest"
	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
)

// redoMigrations takes s's schema down to version to, runs between (if
// set), and up again (metatest.RedoMigrations).
func redoMigrations(t *testing.T, s *sqlstore.Store, to int64, between func(t *testing.T)) {
	t.Helper()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.Write, sub)
	if err != nil {
		t.Fatalf("goose.NewProvider error: %v", err)
	}
	metatest.RedoMigrations(t, p, to, between)
}
