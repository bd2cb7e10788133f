-- +goose Up
-- The PostgreSQL twin of sqlite/migrations/00002_oauth.sql (OAuth 2.0
-- authorization server state, package oauth): times BIGINT, text
-- COLLATE "C", as explained in 00001_init.sql.

-- apps are the registered client applications.
CREATE TABLE apps (
    client_id     TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL UNIQUE,
    secret_hash   TEXT COLLATE "C" NOT NULL DEFAULT '',   -- '' for public clients
    redirect_uris TEXT COLLATE "C" NOT NULL DEFAULT '[]', -- JSON array
    is_public     INTEGER NOT NULL DEFAULT 0,
    first_party   INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

-- auth_codes are authorization codes: single use, short lived, bound to
-- the client, the redirect URI and the PKCE challenge.
CREATE TABLE auth_codes (
    hash         TEXT COLLATE "C" PRIMARY KEY,
    client_id    TEXT COLLATE "C" NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri TEXT COLLATE "C" NOT NULL,
    scope        TEXT COLLATE "C" NOT NULL,
    challenge    TEXT COLLATE "C" NOT NULL DEFAULT '',
    family       TEXT COLLATE "C" NOT NULL,
    expires_at   BIGINT NOT NULL,
    used         INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE INDEX auth_codes_user ON auth_codes(user_id);
CREATE INDEX auth_codes_client ON auth_codes(client_id);
CREATE INDEX auth_codes_expires ON auth_codes(expires_at);

-- device_codes are device authorization requests (RFC 8628).
CREATE TABLE device_codes (
    hash           TEXT COLLATE "C" PRIMARY KEY,
    user_code_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    client_id      TEXT COLLATE "C" NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    scope          TEXT COLLATE "C" NOT NULL,
    status         TEXT COLLATE "C" NOT NULL,           -- pending | approved | denied
    user_id        TEXT COLLATE "C" REFERENCES users(id) ON DELETE CASCADE,
    interval_ms    BIGINT NOT NULL,
    last_poll      BIGINT NOT NULL DEFAULT 0,
    expires_at     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX device_codes_client ON device_codes(client_id);
CREATE INDEX device_codes_user ON device_codes(user_id);
CREATE INDEX device_codes_expires ON device_codes(expires_at);

-- Revoking a refresh-token family, deleting an app's tokens and purging
-- expired tokens look tokens up by these columns.
CREATE INDEX tokens_family ON tokens(family);
CREATE INDEX tokens_client ON tokens(client_id);
CREATE INDEX tokens_expires ON tokens(expires_at);

-- +goose Down
DROP INDEX tokens_expires;
DROP INDEX tokens_client;
DROP INDEX tokens_family;
DROP TABLE device_codes;
DROP TABLE auth_codes;
DROP TABLE apps;
