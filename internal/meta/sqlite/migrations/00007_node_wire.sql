-- +goose Up
-- wire holds each node's JSON as the changes feed sends it, rendered by
-- sqlstore in the transaction that writes the row (meta.WireFunc,
-- httpapi.NodeWire); wire_seq is the change_seq it was rendered at, and
-- the feed uses wire only while the two are equal, so a row written
-- without it (an older server, a store without a renderer) falls back to
-- rendering from the columns. Existing rows start without it: SQL cannot
-- render the JSON byte for byte as Go does, so the server backfills them
-- in the background (sqlstore.Store.BackfillWire), finding them through
-- the partial index.
ALTER TABLE nodes ADD COLUMN wire TEXT;
ALTER TABLE nodes ADD COLUMN wire_seq INTEGER;
CREATE INDEX nodes_wire_stale ON nodes(id) WHERE wire_seq IS NULL OR wire_seq <> change_seq;

-- +goose Down
DROP INDEX nodes_wire_stale;
ALTER TABLE nodes DROP COLUMN wire_seq;
ALTER TABLE nodes DROP COLUMN wire;
