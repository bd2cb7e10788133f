package storeconfig_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/storeconfig"
)

// TestBackupRestore backs up a store that another connection keeps
// writing to, restores the backup over a changed database, and finds the
// state of the backup.
func TestBackupRestore(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	populate(t, dir)
	db, err := storeconfig.ParseDB("", dir)
	if err != nil {
		t.Fatal(err)
	}
	live := openStore(t, "", dir) // a "server" keeps the database open
	want := dump(t, live)

	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := storeconfig.Backup(ctx, db, backup); err != nil {
		t.Fatalf("Backup error: %v", err)
	}
	if err := storeconfig.Backup(ctx, db, backup); err == nil {
		t.Error("Backup over an existing file succeeded")
	}
	// Changes after the backup are not in it.
	err = live.Update(ctx, func(tx meta.Tx) error {
		_, err := tx.PutSettingIfAbsent(ctx, "after-backup", "x")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}

	if err := storeconfig.Restore(ctx, db, backup, false); err == nil {
		t.Error("Restore over an existing database without force succeeded")
	}
	if err := storeconfig.Restore(ctx, db, filepath.Join(dir, "blobs", "tmp"), true); err == nil {
		t.Error("Restore of a directory succeeded")
	}
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := storeconfig.Restore(ctx, db, junk, true); err == nil {
		t.Error("Restore of a non-database succeeded")
	}
	if err := storeconfig.Restore(ctx, db, backup, true); err != nil {
		t.Fatalf("Restore error: %v", err)
	}
	if diff := gocmp.Diff(want, dump(t, openStore(t, "", dir))); diff != "" {
		t.Errorf("restored store differs from the backed-up one (-want +got):\n%s", diff)
	}
}

func TestBackupPostgresPointsToPGDump(t *testing.T) {
	db, err := storeconfig.ParseDB("postgres://h/db", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := storeconfig.Backup(t.Context(), db, filepath.Join(t.TempDir(), "x")); !errors.Is(err, storeconfig.ErrUsePGDump) {
		t.Errorf("Backup(postgres) error = %v, want ErrUsePGDump", err)
	}
	if err := storeconfig.Restore(t.Context(), db, "x", true); !errors.Is(err, storeconfig.ErrUsePGDump) {
		t.Errorf("Restore(postgres) error = %v, want ErrUsePGDump", err)
	}
}
