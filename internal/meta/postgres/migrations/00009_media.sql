-- +goose Up
-- media holds what media extraction read from a file's bytes (package
-- media): {"image":{...}} or {"video":{...}} as JSON, NULL for other
-- files and for files stored before this column (clouddrive admin media
-- backfill fills those).
ALTER TABLE nodes ADD COLUMN media TEXT;

-- +goose Down
ALTER TABLE nodes DROP COLUMN media;
