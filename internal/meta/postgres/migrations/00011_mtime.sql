-- +goose Up
-- mtime is a file's modification time as the client gave it
-- (contentProperties.mtime), in milliseconds since the Unix epoch, UTC;
-- NULL when none was given, for folders, and for files stored before
-- this column.
ALTER TABLE nodes ADD COLUMN mtime BIGINT;

-- +goose Down
ALTER TABLE nodes DROP COLUMN mtime;
