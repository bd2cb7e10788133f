-- +goose Up
-- The webhook dispatcher prunes finished events older than the retention
-- period (webhook.Dispatcher.Retention) by creation time.
CREATE INDEX webhook_events_created ON webhook_events(created_at);

-- +goose Down
DROP INDEX webhook_events_created;
