package sqlite

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
)

// Backup writes a consistent, compacted copy of s, a store that Open
// returned, to the new database file path (absolute; it must not exist)
// while servers keep running: VACUUM INTO reads one snapshot, a read
// transaction, which never blocks writers in WAL mode. The caller fsyncs
// the file.
func Backup(ctx context.Context, s *sqlstore.Store, path string) error {
	_, err := s.Write.ExecContext(ctx, `VACUUM INTO ?`, path)
	return err
}
