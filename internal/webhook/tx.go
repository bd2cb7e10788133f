package webhook

import (
	"context"
	"time"

	"github.com/clouddrive/clouddrive/internal/meta"
)

// ServiceTx is what Service does in a metadata transaction: the part of
// meta.Tx it uses, subscriptions and the delivery log.
type ServiceTx interface {
	InsertWebhook(ctx context.Context, w *meta.Webhook) error
	Webhook(ctx context.Context, id string) (*meta.Webhook, error)
	Webhooks(ctx context.Context, appID, userID string) ([]*meta.Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
	Deliveries(ctx context.Context, f meta.DeliveryFilter) ([]*meta.Delivery, error)
	Delivery(ctx context.Context, id string) (*meta.Delivery, error)
	RequeueDelivery(ctx context.Context, id string, next time.Time) error
}

// DispatcherTx is what Dispatcher does in a metadata transaction: claim,
// finish and count deliveries, prune old events.
type DispatcherTx interface {
	ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, token string, limit int) ([]*meta.Delivery, error)
	FinishDelivery(ctx context.Context, d *meta.Delivery) error
	CountDeliveries(ctx context.Context, status string) (int64, error)
	PruneWebhookEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

var (
	_ ServiceTx    = meta.Tx(nil)
	_ DispatcherTx = meta.Tx(nil)
)

// update runs fn in a read-write transaction of s.Meta, seen as a
// ServiceTx.
func (s *Service) update(ctx context.Context, fn func(tx ServiceTx) error) error {
	return s.Meta.Update(ctx, func(tx meta.Tx) error { return fn(tx) })
}

// view runs fn in a read-only transaction of s.Meta, seen as a
// ServiceTx.
func (s *Service) view(ctx context.Context, fn func(tx ServiceTx) error) error {
	return s.Meta.View(ctx, func(tx meta.Tx) error { return fn(tx) })
}

// update runs fn in a read-write transaction of d.Meta, seen as a
// DispatcherTx.
func (d *Dispatcher) update(ctx context.Context, fn func(tx DispatcherTx) error) error {
	return d.Meta.Update(ctx, func(tx meta.Tx) error { return fn(tx) })
}

// view runs fn in a read-only transaction of d.Meta, seen as a
// DispatcherTx.
func (d *Dispatcher) view(ctx context.Context, fn func(tx DispatcherTx) error) error {
	return d.Meta.View(ctx, func(tx meta.Tx) error { return fn(tx) })
}
