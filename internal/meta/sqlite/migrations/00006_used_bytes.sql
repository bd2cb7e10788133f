-- +goose Up
-- used_bytes and used_files count the user's files that are not PURGED
-- (trashed files still count), as meta.Tx.Usage sums them: the quota check
-- reads them instead of scanning the user's nodes. sqlstore keeps them in
-- the transaction of every InsertNode and UpdateNode; the backfill below
-- makes an existing database right on upgrade.
ALTER TABLE users ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN used_files INTEGER NOT NULL DEFAULT 0;
UPDATE users SET
    used_bytes = (SELECT COALESCE(SUM(size), 0) FROM nodes
                  WHERE nodes.user_id = users.id AND kind = 'FILE' AND status <> 'PURGED'),
    used_files = (SELECT COUNT(*) FROM nodes
                  WHERE nodes.user_id = users.id AND kind = 'FILE' AND status <> 'PURGED');

-- +goose Down
ALTER TABLE users DROP COLUMN used_files;
ALTER TABLE users DROP COLUMN used_bytes;
