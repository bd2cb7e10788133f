-- +goose Up
-- Listings and filter queries on large accounts. name:abc* compiles to
-- name_key LIKE 'abc%'. PostgreSQL finds such a prefix in the plain
-- nodes_user_name index only when the column sorts byte by byte (the C
-- collation, as scripts/pg-test-start.sh creates its cluster); under any
-- other collation it needs an index with text_pattern_ops, made here only
-- then. (SQLite's 00009 does its own: covering indexes and planner
-- statistics.)
-- +goose StatementBegin
DO $$
BEGIN
    IF (SELECT datcollate FROM pg_database WHERE datname = current_database()) NOT IN ('C', 'POSIX') THEN
        CREATE INDEX nodes_user_name_pattern ON nodes (user_id, name_key text_pattern_ops);
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS nodes_user_name_pattern;
