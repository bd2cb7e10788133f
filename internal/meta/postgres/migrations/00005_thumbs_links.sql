-- +goose Up
-- The PostgreSQL twin of sqlite/migrations/00004_thumbs_links.sql
-- (thumbnails and share links): times BIGINT, text COLLATE "C", as
-- explained in 00001_init.sql.

CREATE TABLE derived_blobs (
    source_key  TEXT COLLATE "C" NOT NULL,
    variant     TEXT COLLATE "C" NOT NULL,
    derived_key TEXT COLLATE "C" NOT NULL,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (source_key, variant)
);
CREATE INDEX derived_blobs_derived ON derived_blobs(derived_key);

CREATE TABLE share_links (
    id         TEXT COLLATE "C" PRIMARY KEY,
    token      TEXT COLLATE "C" NOT NULL UNIQUE,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    node_id    TEXT COLLATE "C" NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    password   TEXT COLLATE "C" NOT NULL DEFAULT '',
    expires_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX share_links_user ON share_links(user_id, created_at);
CREATE INDEX share_links_node ON share_links(node_id);

-- +goose Down
DROP TABLE share_links;
DROP TABLE derived_blobs;
