package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
)

// TestStoreFlagsEverywhere checks that every command with --data also
// takes --db, --blobs and --config, and reads them from the environment.
func TestStoreFlagsEverywhere(t *testing.T) {
	t.Setenv("CLOUDDRIVE_DB", "postgres://from-env/db")
	t.Setenv("CLOUDDRIVE_BLOBS", "s3://from-env")
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("data") != nil {
			seen++
			if c.Flags().Lookup("config") == nil {
				t.Errorf("%s has --data but no --config", c.CommandPath())
			}
			if _, err := applySettings(c, os.Getenv); err != nil {
				t.Errorf("%s: %v", c.CommandPath(), err)
			}
			for flag, env := range map[string]string{"db": "postgres://from-env/db", "blobs": "s3://from-env"} {
				f := c.Flags().Lookup(flag)
				if f == nil {
					t.Errorf("%s has --data but no --%s", c.CommandPath(), flag)
				} else if f.Value.String() != env {
					t.Errorf("%s --%s = %q, want %q from the environment", c.CommandPath(), flag, f.Value.String(), env)
				}
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRoot(&bytes.Buffer{}, &bytes.Buffer{}))
	if seen < 5 {
		t.Errorf("only %d commands take --data", seen)
	}
}

// TestAdminGCBackupRestore runs admin gc, backup and restore on the
// embedded stores.
func TestAdminGCBackupRestore(t *testing.T) {
	data := t.TempDir()
	tok := strings.TrimSpace(mustRun(t, "", "admin", "token", "--data", data, "alice"))
	if tok == "" {
		t.Fatal("no token")
	}
	// An unreferenced blob, old enough for --grace 0s.
	b, err := app.OpenBlobs(t.Context(), app.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(t.Context(), strings.NewReader("orphan"), nil); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "", "admin", "gc", "--data", data, "--grace", "0s")
	if !strings.Contains(out, "deleted 1 (6 bytes)") {
		t.Errorf("admin gc = %q, want one 6-byte blob deleted", out)
	}

	backup := filepath.Join(t.TempDir(), "b.db")
	mustRun(t, "", "admin", "backup", "--data", data, backup)
	mustRun(t, "", "admin", "token", "--data", data, "bob") // after the backup
	if _, _, err := run(t, "", "admin", "restore", "--data", data, backup); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("restore over a database without --force: %v", err)
	}
	mustRun(t, "", "admin", "restore", "--data", data, "--force", backup)
	users := mustRun(t, "", "admin", "user", "list", "--data", data)
	if !strings.Contains(users, "alice") || strings.Contains(users, "bob") {
		t.Errorf("users after restore = %q, want alice only", users)
	}
	if _, _, err := run(t, "", "admin", "backup", "--data", data, "--db", "postgres://h/db", filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup of PostgreSQL: %v, want a pointer to pg_dump", err)
	}
}

// TestAdminMigrateToDB moves the embedded metadata to PostgreSQL and
// checks that admin commands then work on it through --db.
func TestAdminMigrateToDB(t *testing.T) {
	dsn := pgtest.Schema(t)
	data := t.TempDir()
	mustRun(t, "", "admin", "token", "--data", data, "carol")
	if _, _, err := run(t, "", "admin", "migrate", "--data", data); err == nil {
		t.Error("migrate without a destination succeeded")
	}
	out := mustRun(t, "", "admin", "migrate", "--data", data, "--to-db", dsn)
	if !strings.Contains(out, "users 1") || !strings.Contains(out, "verified") {
		t.Errorf("migrate = %q", out)
	}
	t.Setenv("CLOUDDRIVE_DB", dsn)
	users := mustRun(t, "", "admin", "user", "list", "--data", t.TempDir())
	if !strings.Contains(users, "carol") {
		t.Errorf("admin user list on the migrated database (CLOUDDRIVE_DB) = %q", users)
	}
	if _, err := os.Stat(filepath.Join(data, "meta.db")); err != nil {
		t.Errorf("the source database is gone: %v", err)
	}
}
