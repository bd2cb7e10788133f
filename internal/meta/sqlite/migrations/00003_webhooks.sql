-- +goose Up
-- Webhooks (package webhook): subscriptions and the durable outbox. Events
-- and their deliveries are inserted by the transaction that makes the
-- change, so an event exists exactly when its change committed.

-- webhook_subscriptions: an app's subscription for one user, or, with
-- user_id NULL, for every user who granted the app (holds a live token).
-- secret is kept as is: the server signs every delivery with it.
CREATE TABLE webhook_subscriptions (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL,
    user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    events     TEXT NOT NULL DEFAULT '[]',  -- JSON array; [] means all
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_subscriptions_user ON webhook_subscriptions(user_id);
CREATE INDEX webhook_subscriptions_app ON webhook_subscriptions(app_id);

-- webhook_events: one row per event; payload is the exact body sent.
CREATE TABLE webhook_events (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_events_user ON webhook_events(user_id);

-- webhook_deliveries: one row per (event, subscription). A dispatcher
-- claims a due pending row by setting lease and lease_until; only the
-- holder of the lease may record the attempt.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,               -- pending | delivered | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         INTEGER NOT NULL,
    lease           TEXT NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_at);
CREATE INDEX webhook_deliveries_lease ON webhook_deliveries(lease);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries(subscription_id, created_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_subscriptions;
