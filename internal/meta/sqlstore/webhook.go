package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// ---- subscriptions ----

const webhookCols = `id, app_id, user_id, url, secret, events, created_at`

func scanWebhook(row interface{ Scan(...any) error }) (*meta.Webhook, error) {
	var w meta.Webhook
	var user sql.NullString
	var events string
	var created int64
	if err := row.Scan(&w.ID, &w.AppID, &user, &w.URL, &w.Secret, &events, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return nil, err
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	w.UserID, w.CreatedAt = user.String, fromMS(created)
	return &w, nil
}

func (t *tx) InsertWebhook(ctx context.Context, w *meta.Webhook) error {
	const op = "meta.InsertWebhook"
	events := w.Events
	if events == nil {
		events = []string{}
	}
	b, err := json.Marshal(events)
	if err != nil {
		return drive.Wrap(op, err)
	}
	if w.UserID != "" {
		if _, err := t.User(ctx, w.UserID); err != nil {
			return err
		}
	}
	res, err := t.exec(ctx, `INSERT INTO webhook_subscriptions (`+webhookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		w.ID, w.AppID, nullStr(w.UserID), w.URL, w.Secret, string(b), ms(w.CreatedAt))
	if err != nil {
		return drive.Wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return drive.Wrap(op, err)
	} else if n == 0 {
		return drive.Errorf(op, drive.Conflict, "a webhook with id %q already exists", w.ID)
	}
	return nil
}

func (t *tx) Webhook(ctx context.Context, id string) (*meta.Webhook, error) {
	const op = "meta.Webhook"
	w, err := scanWebhook(t.queryRow(ctx, `SELECT `+webhookCols+` FROM webhook_subscriptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, drive.E(op, drive.NotFound, "webhook not found")
	}
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	return w, nil
}

func (t *tx) webhooks(ctx context.Context, op, q string, args ...any) ([]*meta.Webhook, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	defer rows.Close()
	out := []*meta.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, drive.Wrap(op, err)
		}
		out = append(out, w)
	}
	return out, drive.Wrap(op, rows.Err())
}

func (t *tx) Webhooks(ctx context.Context, appID, userID string) ([]*meta.Webhook, error) {
	var where []string
	var args []any
	if appID != "" {
		where, args = append(where, `app_id = ?`), append(args, appID)
	}
	if userID != "" {
		where, args = append(where, `user_id = ?`), append(args, userID)
	}
	q := `SELECT ` + webhookCols + ` FROM webhook_subscriptions`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	return t.webhooks(ctx, "meta.Webhooks", q+` ORDER BY created_at, id`, args...)
}

func (t *tx) DeleteWebhook(ctx context.Context, id string) error {
	const op = "meta.DeleteWebhook"
	// Explicitly, as DeleteUser does, rather than relying on the cascade.
	if _, err := t.exec(ctx, `DELETE FROM webhook_deliveries WHERE subscription_id = ?`, id); err != nil {
		return drive.Wrap(op, err)
	}
	res, err := t.exec(ctx, `DELETE FROM webhook_subscriptions WHERE id = ?`, id)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "webhook not found")
}

func (t *tx) WebhooksFor(ctx context.Context, userID string, now time.Time) ([]*meta.Webhook, error) {
	// Two indexed lookups: the user's own subscriptions, and the all-users
	// ones whose app holds a live token of the user.
	return t.webhooks(ctx, "meta.WebhooksFor", `SELECT `+webhookCols+` FROM webhook_subscriptions WHERE user_id = ?
		UNION ALL
		SELECT `+webhookCols+` FROM webhook_subscriptions w WHERE w.user_id IS NULL AND EXISTS (
			SELECT 1 FROM tokens k WHERE k.user_id = ? AND k.client_id = w.app_id AND k.revoked = 0
				AND (k.expires_at = 0 OR k.expires_at > ?))
		ORDER BY created_at, id`, userID, userID, ms(now))
}

// ---- outbox ----

func (t *tx) InsertWebhookEvent(ctx context.Context, e *meta.WebhookEvent, ds []*meta.Delivery) error {
	const op = "meta.InsertWebhookEvent"
	res, err := t.exec(ctx, `INSERT INTO webhook_events (id, user_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		e.ID, e.UserID, e.Type, string(e.Payload), ms(e.CreatedAt))
	if err != nil {
		return drive.Wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return drive.Wrap(op, err)
	} else if n == 0 {
		return drive.Errorf(op, drive.Conflict, "a webhook event with id %q already exists", e.ID)
	}
	for _, d := range ds {
		status := d.Status
		if status == "" {
			status = meta.DeliveryPending
		}
		_, err := t.exec(ctx, `INSERT INTO webhook_deliveries (id, event_id, subscription_id, status, attempts, next_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, d.ID, e.ID, d.WebhookID, status, d.Attempts, ms(d.NextAt), ms(d.CreatedAt))
		if err != nil {
			if t.d.IsUniqueViolation(err) {
				return drive.Errorf(op, drive.Conflict, "a webhook delivery with id %q already exists", d.ID)
			}
			return drive.Wrap(op, err)
		}
	}
	return nil
}

const deliveryCols = `d.id, d.event_id, d.subscription_id, d.status, d.attempts, d.next_at, d.lease,
	d.last_attempt_at, d.last_status, d.last_error, d.created_at, e.type, e.user_id, e.payload, w.url, w.secret`

const deliveryFrom = ` FROM webhook_deliveries d
	JOIN webhook_events e ON e.id = d.event_id
	JOIN webhook_subscriptions w ON w.id = d.subscription_id`

func scanDelivery(row interface{ Scan(...any) error }) (*meta.Delivery, error) {
	var d meta.Delivery
	var next, last, created int64
	var payload string
	if err := row.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.Status, &d.Attempts, &next, &d.Lease,
		&last, &d.LastStatus, &d.LastError, &created, &d.EventType, &d.UserID, &payload, &d.URL, &d.Secret); err != nil {
		return nil, err
	}
	d.NextAt, d.LastAttemptAt, d.CreatedAt = fromMS(next), fromMS(last), fromMS(created)
	d.Payload = []byte(payload)
	return &d, nil
}

func (t *tx) deliveries(ctx context.Context, op, q string, args ...any) ([]*meta.Delivery, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	defer rows.Close()
	out := []*meta.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, drive.Wrap(op, err)
		}
		out = append(out, d)
	}
	return out, drive.Wrap(op, rows.Err())
}

func (t *tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, token string, limit int) ([]*meta.Delivery, error) {
	const op = "meta.ClaimDeliveries"
	if token == "" {
		return nil, drive.E(op, drive.Invalid, "empty lease token")
	}
	rows, err := t.query(ctx, `SELECT id FROM webhook_deliveries WHERE status = ? AND next_at <= ? AND lease_until <= ?
		ORDER BY next_at, id LIMIT ?`, meta.DeliveryPending, ms(now), ms(now), limit)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, drive.Wrap(op, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, drive.Wrap(op, err)
	}
	if len(ids) == 0 {
		return []*meta.Delivery{}, nil
	}
	// The conditions are checked again row by row: on PostgreSQL a
	// concurrent claimer that leased a row first makes this UPDATE (which
	// waits for it) see the new lease and skip the row.
	var claimed []any
	for _, id := range ids {
		res, err := t.exec(ctx, `UPDATE webhook_deliveries SET lease = ?, lease_until = ?
			WHERE id = ? AND status = ? AND next_at <= ? AND lease_until <= ?`,
			token, ms(leaseUntil), id, meta.DeliveryPending, ms(now), ms(now))
		if err != nil {
			return nil, drive.Wrap(op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, drive.Wrap(op, err)
		} else if n == 1 {
			claimed = append(claimed, id)
		}
	}
	if len(claimed) == 0 {
		return []*meta.Delivery{}, nil
	}
	in := strings.Repeat(", ?", len(claimed))[2:]
	return t.deliveries(ctx, op, `SELECT `+deliveryCols+deliveryFrom+` WHERE d.id IN (`+in+`) ORDER BY d.next_at, d.id`, claimed...)
}

func (t *tx) FinishDelivery(ctx context.Context, d *meta.Delivery) error {
	const op = "meta.FinishDelivery"
	if d.Lease == "" {
		return drive.E(op, drive.NotFound, "delivery not leased")
	}
	res, err := t.exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_at = ?, last_attempt_at = ?,
			last_status = ?, last_error = ?, lease = '', lease_until = 0
		WHERE id = ? AND lease = ?`,
		d.Status, d.Attempts, ms(d.NextAt), ms(d.LastAttemptAt), d.LastStatus, d.LastError, d.ID, d.Lease)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "delivery not found or its lease was lost")
}

func (t *tx) RequeueDelivery(ctx context.Context, id string, next time.Time) error {
	const op = "meta.RequeueDelivery"
	res, err := t.exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = 0, next_at = ?, lease = '', lease_until = 0
		WHERE id = ?`, meta.DeliveryPending, ms(next), id)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "delivery not found")
}

func (t *tx) Delivery(ctx context.Context, id string) (*meta.Delivery, error) {
	const op = "meta.Delivery"
	d, err := scanDelivery(t.queryRow(ctx, `SELECT `+deliveryCols+deliveryFrom+` WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, drive.E(op, drive.NotFound, "delivery not found")
	}
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	return d, nil
}

func (t *tx) Deliveries(ctx context.Context, f meta.DeliveryFilter) ([]*meta.Delivery, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, `d.status = ?`), append(args, f.Status)
	}
	if f.WebhookID != "" {
		where, args = append(where, `d.subscription_id = ?`), append(args, f.WebhookID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + deliveryCols + deliveryFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	return t.deliveries(ctx, "meta.Deliveries", q+` ORDER BY d.created_at DESC, d.id DESC LIMIT ?`, append(args, limit)...)
}

func (t *tx) CountDeliveries(ctx context.Context, status string) (int64, error) {
	var n int64
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE status = ?`, status).Scan(&n)
	return n, drive.Wrap("meta.CountDeliveries", err)
}

func (t *tx) PruneWebhookEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	const op = "meta.PruneWebhookEvents"
	// Deliveries go first, explicitly: the foreign key would cascade, but
	// not every deployment's SQLite connection enforces foreign keys.
	sel := `SELECT e.id FROM webhook_events e WHERE e.created_at < ?
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = ?)
		ORDER BY e.created_at LIMIT ?`
	rows, err := t.query(ctx, sel, ms(before), meta.DeliveryPending, limit)
	if err != nil {
		return 0, drive.Wrap(op, err)
	}
	var ids []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, drive.Wrap(op, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, drive.Wrap(op, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	if _, err := t.exec(ctx, `DELETE FROM webhook_deliveries WHERE event_id IN (`+in+`)`, ids...); err != nil {
		return 0, drive.Wrap(op, err)
	}
	if _, err := t.exec(ctx, `DELETE FROM webhook_events WHERE id IN (`+in+`)`, ids...); err != nil {
		return 0, drive.Wrap(op, err)
	}
	return len(ids), nil
}
