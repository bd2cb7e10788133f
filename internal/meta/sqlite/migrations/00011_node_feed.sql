-- +goose Up
-- node_feed holds each node's JSON as the changes feed sends it
-- (meta.WireFunc), keyed by the user and the change number it was
-- rendered at, and clustered by that key (WITHOUT ROWID): the feed reads
-- the newest changes, or a whole account, from adjacent pages in change
-- order, instead of from the scattered node rows they touched. sqlstore
-- writes a node's row here in the transaction that writes the node, and
-- deletes the row of its previous change number.
--
-- nodes.wire_seq stays the change number whose rendering is here; the
-- feed matches rows to nodes.change_seq, so a node that an older server changed
-- (a new change number, wire_seq left alone or set with its own nodes.wire)
-- finds no row and is rendered by the reader, and the partial index below
-- lets the server backfill it (sqlstore.Store.BackfillWire). nodes.wire is
-- no longer written (NULL), so a value there marks an older server's write.
CREATE TABLE node_feed (
    user_id    TEXT NOT NULL,
    change_seq INTEGER NOT NULL,
    node_id    TEXT NOT NULL,
    purged     INTEGER NOT NULL,
    wire       TEXT NOT NULL,
    PRIMARY KEY (user_id, change_seq)
) WITHOUT ROWID;
INSERT INTO node_feed (user_id, change_seq, node_id, purged, wire)
    SELECT user_id, change_seq, id, status = 'PURGED', wire FROM nodes
    WHERE wire IS NOT NULL AND wire_seq = change_seq;
UPDATE nodes SET wire = NULL WHERE wire IS NOT NULL;
DROP INDEX nodes_wire_stale;
CREATE INDEX nodes_wire_stale ON nodes(id) WHERE wire_seq IS NULL OR wire_seq <> change_seq OR wire IS NOT NULL;

-- +goose Down
UPDATE nodes SET wire = (SELECT f.wire FROM node_feed f WHERE f.user_id = nodes.user_id AND f.change_seq = nodes.wire_seq)
    WHERE wire_seq IS NOT NULL;
DROP INDEX nodes_wire_stale;
CREATE INDEX nodes_wire_stale ON nodes(id) WHERE wire_seq IS NULL OR wire_seq <> change_seq;
DROP TABLE node_feed;
