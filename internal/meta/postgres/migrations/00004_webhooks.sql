-- +goose Up
-- The PostgreSQL twin of sqlite/migrations/00003_webhooks.sql (webhook
-- subscriptions and the durable outbox): times BIGINT, text COLLATE "C",
-- as explained in 00001_init.sql.

CREATE TABLE webhook_subscriptions (
    id         TEXT COLLATE "C" PRIMARY KEY,
    app_id     TEXT COLLATE "C" NOT NULL,
    user_id    TEXT COLLATE "C" REFERENCES users(id) ON DELETE CASCADE,
    url        TEXT COLLATE "C" NOT NULL,
    secret     TEXT COLLATE "C" NOT NULL,
    events     TEXT COLLATE "C" NOT NULL DEFAULT '[]',  -- JSON array; [] means all
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_subscriptions_user ON webhook_subscriptions(user_id);
CREATE INDEX webhook_subscriptions_app ON webhook_subscriptions(app_id);

CREATE TABLE webhook_events (
    id         TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type       TEXT COLLATE "C" NOT NULL,
    payload    TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_user ON webhook_events(user_id);

CREATE TABLE webhook_deliveries (
    id              TEXT COLLATE "C" PRIMARY KEY,
    event_id        TEXT COLLATE "C" NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    subscription_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    status          TEXT COLLATE "C" NOT NULL,               -- pending | delivered | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         BIGINT NOT NULL,
    lease           TEXT COLLATE "C" NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
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
