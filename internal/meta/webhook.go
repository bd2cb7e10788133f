package meta

import (
	"context"
	"time"
)

// WebhookTx is the part of a transaction that package webhook needs:
// subscriptions, and the durable outbox of events and their deliveries.
//
// The outbox is written by the transaction that makes a change (package
// nodes reports every change to its EventSink inside that transaction), so
// an event exists exactly when its change committed. Deliveries are then
// claimed by dispatchers with a lease, which lets several replicas share
// one database: a claimed delivery is invisible to other claimers until
// its lease runs out, and only the holder of the lease can finish it.
type WebhookTx interface {
	// InsertWebhook stores a subscription. A duplicate id gives Conflict;
	// a UserID that names no user gives NotFound or an error.
	InsertWebhook(ctx context.Context, w *Webhook) error
	// Webhook returns a subscription by id, or NotFound.
	Webhook(ctx context.Context, id string) (*Webhook, error)
	// Webhooks lists subscriptions ordered by creation time, then id.
	// appID and userID restrict the list when not empty; an all-users
	// subscription (UserID "") matches userID "" only. Never nil.
	Webhooks(ctx context.Context, appID, userID string) ([]*Webhook, error)
	// DeleteWebhook removes a subscription with its deliveries. A missing
	// one gives NotFound.
	DeleteWebhook(ctx context.Context, id string) error
	// WebhooksFor returns the subscriptions that receive userID's events:
	// the user's own, and the all-users subscriptions of every app the
	// user has granted, that is, holds a token of that is not revoked and
	// not expired at now. Ordered by creation time, then id. Never nil.
	WebhooksFor(ctx context.Context, userID string, now time.Time) ([]*Webhook, error)

	// InsertWebhookEvent stores an event and its deliveries (one per
	// subscription that takes it). A duplicate id gives Conflict.
	InsertWebhookEvent(ctx context.Context, e *WebhookEvent, ds []*Delivery) error
	// ClaimDeliveries leases up to limit pending deliveries that are due
	// at now and not leased (lease expired or none), oldest NextAt first:
	// it sets their lease to token until leaseUntil and returns them with
	// the event and subscription fields filled in. A delivery is returned
	// to at most one of several concurrent claimers.
	ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, token string, limit int) ([]*Delivery, error)
	// FinishDelivery records an attempt: it writes Status, Attempts,
	// NextAt, LastAttemptAt, LastStatus and LastError of d and clears the
	// lease, provided d.Lease still holds it. A delivery that is missing
	// or whose lease another claimer (or a requeue) took gives NotFound.
	FinishDelivery(ctx context.Context, d *Delivery) error
	// RequeueDelivery makes a delivery pending again, due at next, with
	// no attempts and no lease (replay). A missing one gives NotFound.
	RequeueDelivery(ctx context.Context, id string, next time.Time) error
	// Delivery returns a delivery with its event and subscription fields,
	// or NotFound.
	Delivery(ctx context.Context, id string) (*Delivery, error)
	// Deliveries lists deliveries newest first (creation time, then id,
	// descending), with event and subscription fields. Never nil.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// PruneWebhookEvents deletes up to limit events created before before
	// none of whose deliveries is pending, with their deliveries, and
	// returns how many events it deleted.
	PruneWebhookEvents(ctx context.Context, before time.Time, limit int) (int, error)
	// CountDeliveries counts the deliveries with the given status.
	CountDeliveries(ctx context.Context, status string) (int64, error)
}

// Webhook is a subscription of an app to node events.
type Webhook struct {
	ID string
	// AppID is the OAuth client id of the subscribing app.
	AppID string
	// UserID is the user whose events are sent, or "" for every user who
	// granted AppID.
	UserID string
	// URL receives the events (http or https).
	URL string
	// Secret keys the HMAC-SHA256 signature of each delivery. It is kept
	// as is: the server must sign with it.
	Secret string
	// Events lists the event types sent; empty sends every type.
	Events    []string
	CreatedAt time.Time
}

// WebhookEvent is one event in the outbox.
type WebhookEvent struct {
	// ID is the stable event id, sent with every attempt and replay.
	ID     string
	UserID string
	Type   string
	// Payload is the exact JSON body sent to receivers.
	Payload   []byte
	CreatedAt time.Time
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// Delivery is the sending of one event to one subscription.
type Delivery struct {
	ID        string
	EventID   string
	WebhookID string
	// Status is DeliveryPending, DeliveryDelivered or DeliveryDead.
	Status string
	// Attempts counts the attempts made since the delivery was (re)queued.
	Attempts int
	// NextAt is when a pending delivery is due.
	NextAt time.Time
	// LastAttemptAt is when the last attempt ended; zero before the first.
	LastAttemptAt time.Time
	// LastStatus is the HTTP status of the last attempt, 0 when it got no
	// response.
	LastStatus int
	// LastError describes why the last attempt failed; "" on success.
	LastError string
	CreatedAt time.Time
	// Lease is the token of the claim that returned the delivery.
	Lease string

	// Filled in from the event and the subscription when read.
	EventType string
	UserID    string
	Payload   []byte
	URL       string
	Secret    string
}

// DeliveryFilter selects deliveries.
type DeliveryFilter struct {
	// Status, when not empty, keeps deliveries in that state.
	Status string
	// WebhookID, when not empty, keeps deliveries of that subscription.
	WebhookID string
	// Limit bounds the result; 0 means 100.
	Limit int
}
