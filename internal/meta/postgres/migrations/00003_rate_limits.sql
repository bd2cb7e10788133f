-- +goose Up
-- PostgreSQL only (no SQLite twin: a SQLite store has one server process,
-- whose in-memory buckets are exact). Rate-limit buckets shared by every
-- replica, as GCRA "theoretical arrival times": a request to bucket key
-- at time now (microseconds) is allowed when
--     greatest(tat, now) + interval - now <= burst * interval
-- and then sets tat = greatest(tat, now) + interval, where interval is
-- 1/rate. UNLOGGED: the buckets are soft state, not worth WAL traffic,
-- and a crash merely resets them.
CREATE UNLOGGED TABLE rate_limits (
    key TEXT COLLATE "C" PRIMARY KEY,
    tat BIGINT NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits(tat);

-- rate_take takes one request from every bucket keys[i] (interval_us[i]
-- per request, burst_us[i] = burst * interval) or from none, atomically,
-- in one round trip. It returns 0 when the request is allowed, else the
-- microseconds to wait. Rows are locked in key order, so concurrent calls
-- over the same keys cannot deadlock.
-- +goose StatementBegin
CREATE FUNCTION rate_take(keys TEXT[], interval_us BIGINT[], burst_us BIGINT[], now_us BIGINT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    i INT;
    t BIGINT;
    tats BIGINT[] := '{}';
    wait BIGINT := 0;
BEGIN
    INSERT INTO rate_limits (key, tat)
        SELECT k, now_us FROM unnest(keys) AS k ORDER BY k
        ON CONFLICT (key) DO NOTHING;
    PERFORM 1 FROM rate_limits WHERE key = ANY(keys) ORDER BY key FOR UPDATE;
    FOR i IN 1 .. array_length(keys, 1) LOOP
        SELECT greatest(tat, now_us) INTO t FROM rate_limits WHERE key = keys[i];
        tats := tats || t;
        wait := greatest(wait, t + interval_us[i] - now_us - burst_us[i]);
    END LOOP;
    IF wait > 0 THEN
        RETURN wait;
    END IF;
    FOR i IN 1 .. array_length(keys, 1) LOOP
        UPDATE rate_limits SET tat = tats[i] + interval_us[i] WHERE key = keys[i];
    END LOOP;
    RETURN 0;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION rate_take(TEXT[], BIGINT[], BIGINT[], BIGINT);
DROP TABLE rate_limits;
