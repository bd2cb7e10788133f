-- +goose Up
-- Thumbnails (package thumbnail) and public share links (package share).

-- derived_blobs maps a source blob and a variant (e.g. a thumbnail size)
-- to the blob computed from it. A derived blob is kept while some node
-- still references its source blob (meta.DerivedTx.DerivedInUse) and is
-- collected with its rows afterwards (package gc).
CREATE TABLE derived_blobs (
    source_key  TEXT NOT NULL,
    variant     TEXT NOT NULL,
    derived_key TEXT NOT NULL,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (source_key, variant)
);
CREATE INDEX derived_blobs_derived ON derived_blobs(derived_key);

-- share_links are public links to a node. token is the secret of the
-- public URL, stored as is so that the owner can copy the link again;
-- password is an argon2id PHC string or ''. Revoking deletes the row.
CREATE TABLE share_links (
    id         TEXT PRIMARY KEY,
    token      TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    node_id    TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    password   TEXT NOT NULL DEFAULT '',
    expires_at INTEGER NOT NULL DEFAULT 0,   -- 0: never
    created_at INTEGER NOT NULL
);
CREATE INDEX share_links_user ON share_links(user_id, created_at);
CREATE INDEX share_links_node ON share_links(node_id);

-- +goose Down
DROP TABLE share_links;
DROP TABLE derived_blobs;
