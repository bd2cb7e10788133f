-- +goose Up
-- Times are Unix milliseconds (INTEGER); booleans are 0/1 INTEGERs, so the
-- same SQL runs on SQLite and PostgreSQL.

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    root_id     TEXT NOT NULL,
    -- change_seq is the per-user change counter; bumping it inside every
    -- mutating transaction serialises one user's writes and makes
    -- checkpoint order equal commit order.
    change_seq  INTEGER NOT NULL DEFAULT 0,
    epoch       TEXT NOT NULL,
    quota       INTEGER NOT NULL DEFAULT 0,
    disabled    INTEGER NOT NULL DEFAULT 0,
    password    TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE nodes (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    name            TEXT,            -- NULL for the root
    name_key        TEXT,            -- Unicode case-folded name
    status          TEXT NOT NULL,
    is_root         INTEGER NOT NULL DEFAULT 0,
    description     TEXT NOT NULL DEFAULT '',
    labels          TEXT NOT NULL DEFAULT '[]',  -- JSON array, for output
    created_at      INTEGER NOT NULL,
    modified_at     INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    change_seq      INTEGER NOT NULL,
    trash_root      TEXT,
    blob_key        TEXT,
    size            INTEGER,
    md5             TEXT,
    content_type    TEXT,
    extension       TEXT,
    content_version INTEGER,
    content_date    INTEGER,
    local_id        TEXT
);
CREATE INDEX nodes_user_change ON nodes(user_id, change_seq);
CREATE INDEX nodes_user_status ON nodes(user_id, status, kind);
CREATE INDEX nodes_user_md5 ON nodes(user_id, md5);
CREATE INDEX nodes_user_name ON nodes(user_id, name_key);
CREATE INDEX nodes_blob ON nodes(blob_key);
CREATE UNIQUE INDEX nodes_user_local_id ON nodes(user_id, local_id);

-- node_parents holds every parent link. live is 1 while the child is
-- AVAILABLE; the partial unique index is what makes names unique among the
-- available children of a folder, also under concurrent writers.
CREATE TABLE node_parents (
    parent_id TEXT NOT NULL,
    child_id  TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    name_key  TEXT NOT NULL,
    live      INTEGER NOT NULL,
    PRIMARY KEY (parent_id, child_id)
);
CREATE UNIQUE INDEX node_parents_live_name ON node_parents(parent_id, name_key) WHERE live = 1;
CREATE INDEX node_parents_child ON node_parents(child_id);

CREATE TABLE node_labels (
    node_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    label   TEXT NOT NULL,
    PRIMARY KEY (node_id, label)
);
CREATE INDEX node_labels_label ON node_labels(label);

CREATE TABLE properties (
    node_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    owner   TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (node_id, owner, key)
);

-- changes is the append-only log: one row per committed mutation.
CREATE TABLE changes (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    event   TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq)
);

-- tokens holds bearer access tokens, stored as SHA-256 hashes.
CREATE TABLE tokens (
    hash        TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,
    scope       TEXT NOT NULL,
    kind        TEXT NOT NULL,       -- access | refresh
    family      TEXT NOT NULL DEFAULT '',
    expires_at  INTEGER NOT NULL,    -- 0: never
    revoked     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);
CREATE INDEX tokens_user ON tokens(user_id);

-- settings holds server-wide key/value settings such as the temp-link
-- signing key, so every replica shares them.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
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
