-- +goose Up
-- The PostgreSQL twin of sqlite/migrations/00001_init.sql: the same tables,
-- columns and indexes, so the portable SQL of package sqlstore runs on
-- both. Differences, all deliberate:
--   * times (Unix milliseconds), sizes, quotas and counters are BIGINT,
--     as INTEGER is 32 bits here;
--   * every TEXT column is COLLATE "C", so comparisons and ORDER BY work on
--     bytes as on SQLite, whatever the database's default collation: ids,
--     name keys and keyset page tokens sort identically on both backends.
-- Booleans stay 0/1 INTEGERs, as in the SQLite schema.

CREATE TABLE users (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL UNIQUE,
    root_id     TEXT COLLATE "C" NOT NULL,
    -- change_seq is the per-user change counter; bumping it (UPDATE ...
    -- RETURNING, a row lock) inside every mutating transaction serialises
    -- one user's writes across all replicas and makes checkpoint order
    -- equal commit order.
    change_seq  BIGINT NOT NULL DEFAULT 0,
    epoch       TEXT COLLATE "C" NOT NULL,
    quota       BIGINT NOT NULL DEFAULT 0,
    disabled    INTEGER NOT NULL DEFAULT 0,
    password    TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE TABLE nodes (
    id              TEXT COLLATE "C" PRIMARY KEY,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind            TEXT COLLATE "C" NOT NULL,
    name            TEXT COLLATE "C",            -- NULL for the root
    name_key        TEXT COLLATE "C",            -- Unicode case-folded name
    status          TEXT COLLATE "C" NOT NULL,
    is_root         INTEGER NOT NULL DEFAULT 0,
    description     TEXT COLLATE "C" NOT NULL DEFAULT '',
    labels          TEXT COLLATE "C" NOT NULL DEFAULT '[]',  -- JSON array, for output
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT NOT NULL,
    created_by      TEXT COLLATE "C" NOT NULL,
    version         BIGINT NOT NULL,
    change_seq      BIGINT NOT NULL,
    trash_root      TEXT COLLATE "C",
    blob_key        TEXT COLLATE "C",
    size            BIGINT,
    md5             TEXT COLLATE "C",
    content_type    TEXT COLLATE "C",
    extension       TEXT COLLATE "C",
    content_version BIGINT,
    content_date    BIGINT,
    local_id        TEXT COLLATE "C"
);
CREATE INDEX nodes_user_change ON nodes(user_id, change_seq);
CREATE INDEX nodes_user_status ON nodes(user_id, status, kind);
CREATE INDEX nodes_user_md5 ON nodes(user_id, md5);
CREATE INDEX nodes_user_name ON nodes(user_id, name_key);
CREATE INDEX nodes_blob ON nodes(blob_key);
CREATE UNIQUE INDEX nodes_user_local_id ON nodes(user_id, local_id);

-- node_parents holds every parent link. live is 1 while the child is
-- AVAILABLE; the partial unique index is what makes names unique among the
-- available children of a folder, also under concurrent writers on several
-- replicas (an INSERT ... ON CONFLICT DO NOTHING waits for a concurrent
-- uncommitted holder of the name, then sees its commit).
CREATE TABLE node_parents (
    parent_id TEXT COLLATE "C" NOT NULL,
    child_id  TEXT COLLATE "C" NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    user_id   TEXT COLLATE "C" NOT NULL,
    name_key  TEXT COLLATE "C" NOT NULL,
    live      INTEGER NOT NULL,
    PRIMARY KEY (parent_id, child_id)
);
CREATE UNIQUE INDEX node_parents_live_name ON node_parents(parent_id, name_key) WHERE live = 1;
CREATE INDEX node_parents_child ON node_parents(child_id);

CREATE TABLE node_labels (
    node_id TEXT COLLATE "C" NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    label   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (node_id, label)
);
CREATE INDEX node_labels_label ON node_labels(label);

CREATE TABLE properties (
    node_id TEXT COLLATE "C" NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    owner   TEXT COLLATE "C" NOT NULL,
    key     TEXT COLLATE "C" NOT NULL,
    value   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (node_id, owner, key)
);

-- changes is the append-only log: one row per committed mutation.
CREATE TABLE changes (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    node_id TEXT COLLATE "C" NOT NULL,
    event   TEXT COLLATE "C" NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (user_id, seq)
);

-- tokens holds bearer access tokens, stored as SHA-256 hashes.
CREATE TABLE tokens (
    hash        TEXT COLLATE "C" PRIMARY KEY,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id   TEXT COLLATE "C" NOT NULL,
    scope       TEXT COLLATE "C" NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL,       -- access | refresh
    family      TEXT COLLATE "C" NOT NULL DEFAULT '',
    expires_at  BIGINT NOT NULL,                 -- 0: never
    revoked     INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX tokens_user ON tokens(user_id);

-- settings holds server-wide key/value settings such as the temp-link
-- signing key, so every replica shares them.
CREATE TABLE settings (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE tokens;
DROP TABLE changes;
DROP TABLE properties;
DROP TABLE node_labels;
DROP TABLE node_parents;
DROP TABLE nodes;
DROP TABLE users;
