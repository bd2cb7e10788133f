package storeconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/meta/sqlite"
)

// ErrUsePGDump is returned by Backup and Restore for PostgreSQL, whose
// own tools do the job better: pg_dump takes a consistent online
// snapshot, pg_restore loads it (see the README).
var ErrUsePGDump = errors.New("back up and restore PostgreSQL with pg_dump and pg_restore " +
	"(pg_dump --format=custom --file=FILE DSN; pg_restore --no-owner --dbname=DSN FILE into an empty database)")

// Backup writes a consistent copy of the metadata store to path, which
// must not exist, while servers keep running: for SQLite, sqlite.Backup
// reads one snapshot (a read transaction, which never blocks writers in
// WAL mode) into a new, compacted database file, which is then fsynced.
func Backup(ctx context.Context, db DB, path string) error {
	if db.Driver != SQLite {
		return ErrUsePGDump
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("backup: %s already exists", path)
	}
	if _, err := os.Stat(db.Path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	s, err := sqlite.Open(ctx, db.Path)
	if err != nil {
		return err
	}
	defer s.Close()
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if err := sqlite.Backup(ctx, s, abs); err != nil {
		_ = os.Remove(abs)
		return fmt.Errorf("backup: %w", err)
	}
	return syncFile(abs)
}

// Restore replaces the SQLite database of db with the backup at path.
// The backup is copied next to the database and opened there first, which
// checks it and applies any migrations newer than the backup; only then
// does a rename put it in place, so a failed restore leaves the old
// database untouched. Servers using the database must be stopped. An
// existing database is replaced only when force is set.
func Restore(ctx context.Context, db DB, path string, force bool) error {
	if db.Driver != SQLite {
		return ErrUsePGDump
	}
	if _, err := os.Stat(db.Path); err == nil && !force {
		return fmt.Errorf("restore: %s exists; stop every server using it and pass --force to replace it", db.Path)
	}
	if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
		return err
	}
	tmp := db.Path + ".restore"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		_ = os.Remove(p)
	}
	if err := copyFile(tmp, path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	s, err := sqlite.Open(ctx, tmp)
	if err == nil {
		err = s.View(ctx, func(tx meta.Tx) error {
			_, err := tx.Users(ctx)
			return err
		})
		err = errors.Join(err, s.Close())
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restore: %s is not a clouddrive metadata backup: %w", path, err)
	}
	// Close checkpointed the WAL into tmp; stale WAL files of the old
	// database must not be applied to the new one.
	for _, p := range []string{db.Path + "-wal", db.Path + "-shm", tmp + "-wal", tmp + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp, db.Path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return syncDir(filepath.Dir(db.Path))
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
