-- +goose Up
-- OAuth 2.0 authorization server state (package oauth). Secrets are never
-- stored: codes by their SHA-256 hash, client secrets as a SHA-256 hash,
-- passwords (users.password, from 00001) as argon2id PHC strings.

-- apps are the registered client applications.
CREATE TABLE apps (
    client_id     TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    secret_hash   TEXT NOT NULL DEFAULT '',   -- '' for public clients
    redirect_uris TEXT NOT NULL DEFAULT '[]', -- JSON array
    is_public     INTEGER NOT NULL DEFAULT 0,
    first_party   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- auth_codes are authorization codes: single use, short lived, bound to
-- the client, the redirect URI and the PKCE challenge.
CREATE TABLE auth_codes (
    hash         TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope        TEXT NOT NULL,
    challenge    TEXT NOT NULL DEFAULT '',
    family       TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    used         INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
CREATE INDEX auth_codes_user ON auth_codes(user_id);
CREATE INDEX auth_codes_client ON auth_codes(client_id);
CREATE INDEX auth_codes_expires ON auth_codes(expires_at);

-- device_codes are device authorization requests (RFC 8628).
CREATE TABLE device_codes (
    hash           TEXT PRIMARY KEY,
    user_code_hash TEXT NOT NULL UNIQUE,
    client_id      TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    scope          TEXT NOT NULL,
    status         TEXT NOT NULL,           -- pending | approved | denied
    user_id        TEXT REFERENCES users(id) ON DELETE CASCADE,
    interval_ms    INTEGER NOT NULL,
    last_poll      INTEGER NOT NULL DEFAULT 0,
    expires_at     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
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
