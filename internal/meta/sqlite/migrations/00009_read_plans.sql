-- +goose Up
-- Listings and filter queries on large accounts.
--
-- Name and md5 lookups carry status, kind and id, so that counting the
-- matches of name:abc*, name:x or contentProperties.md5:x (the node
-- service always adds a status), and picking a page of them in id order,
-- read these indexes only; then only the page's rows are read whole.
DROP INDEX nodes_user_name;
CREATE INDEX nodes_user_name ON nodes(user_id, name_key, status, kind, id);
DROP INDEX nodes_user_md5;
CREATE INDEX nodes_user_md5 ON nodes(user_id, md5, status, kind, id);

-- Fixed planner statistics (sqlite_stat1, as ANALYZE writes them: the
-- rows of the table, then the rows per distinct prefix of the index).
-- Without any, SQLite takes an equality on two columns of an index for
-- very selective, and picked nodes_user_status (user and status, which
-- every listing constrains) over a name range or a labels lookup,
-- reading every AVAILABLE node of the user: 5 s for an OR of two
-- selective terms in an account of 1M nodes. These say what holds in
-- any database: a user has many nodes, most of them AVAILABLE; a name,
-- md5 or label matches few; a folder has few children. Fixed figures
-- keep the plans the same whatever the data; a later ANALYZE replaces
-- them with measured ones. ANALYZE of the (small) settings table creates
-- sqlite_stat1, which cannot be created otherwise.
ANALYZE settings;
DELETE FROM sqlite_stat1 WHERE tbl IN ('nodes', 'node_parents', 'node_labels');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('nodes', 'sqlite_autoindex_nodes_1', '1000000 1'),
    ('nodes', 'nodes_user_change', '1000000 100000 1'),
    ('nodes', 'nodes_user_status', '1000000 100000 60000 30000'),
    ('nodes', 'nodes_user_name', '1000000 100000 4 3 2 1'),
    ('nodes', 'nodes_user_md5', '1000000 100000 3 2 2 1'),
    ('nodes', 'nodes_blob', '1000000 2'),
    ('nodes', 'nodes_user_local_id', '1000000 100000 1'),
    ('nodes', 'nodes_wire_stale', '1000 1'),
    ('node_parents', 'sqlite_autoindex_node_parents_1', '1000000 20 1'),
    ('node_parents', 'node_parents_live_name', '1000000 20 1'),
    ('node_parents', 'node_parents_child', '1000000 1'),
    ('node_labels', 'sqlite_autoindex_node_labels_1', '100000 2 1'),
    ('node_labels', 'node_labels_label', '100000 50');
ANALYZE sqlite_schema;

-- +goose Down
DELETE FROM sqlite_stat1 WHERE tbl IN ('nodes', 'node_parents', 'node_labels');
DROP INDEX nodes_user_md5;
CREATE INDEX nodes_user_md5 ON nodes(user_id, md5);
DROP INDEX nodes_user_name;
CREATE INDEX nodes_user_name ON nodes(user_id, name_key);
