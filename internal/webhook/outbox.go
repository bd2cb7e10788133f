package webhook

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// Outbox records webhook events in the transaction of their change. It
// implements nodes.EventSink and is safe for concurrent use.
type Outbox struct {
	NewID drive.IDGen
	// Render converts a node to its API form (httpapi.NodeJSON).
	Render func(*drive.Node) *acd.Node

	recorded atomic.Int64
}

var _ nodes.EventSink = (*Outbox)(nil)

// Begin loads the subscriptions that take userID's events; it returns nil
// when there are none, so a change nobody listens to costs one indexed
// query per transaction. tx is the change's transaction, seen as the part
// an event sink uses (nodes.EventTx).
func (o *Outbox) Begin(ctx context.Context, tx nodes.EventTx, userID string, now time.Time) (func(ctx context.Context, c drive.Change, n *drive.Node) error, error) {
	subs, err := tx.WebhooksFor(ctx, userID, now)
	if err != nil || len(subs) == 0 {
		return nil, err
	}
	u, err := tx.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c drive.Change, n *drive.Node) error {
		for _, typ := range Types(c, n) {
			var ds []*meta.Delivery
			for _, w := range subs {
				if len(w.Events) == 0 || slices.Contains(w.Events, typ) {
					ds = append(ds, &meta.Delivery{ID: o.NewID(), WebhookID: w.ID, Status: meta.DeliveryPending,
						NextAt: c.At, CreatedAt: c.At})
				}
			}
			if len(ds) == 0 {
				continue
			}
			e := &meta.WebhookEvent{ID: o.NewID(), UserID: userID, Type: typ, CreatedAt: c.At}
			body, err := json.Marshal(acd.WebhookEvent{ID: e.ID, Type: typ, Timestamp: c.At.UTC().Format(acd.TimeFormat),
				UserID: userID, Node: o.Render(n), Checkpoint: changes.EncodeCheckpoint(u.Epoch, c.Seq)})
			if err != nil {
				return drive.Wrap("webhook.Outbox", err)
			}
			e.Payload = body
			for _, d := range ds {
				d.EventID = e.ID
			}
			if err := tx.InsertWebhookEvent(ctx, e, ds); err != nil {
				return err
			}
			o.recorded.Add(1)
		}
		return nil
	}, nil
}

// TakeRecorded reports whether events were recorded since the last call.
// Called after a commit, it tells whether a dispatcher should be woken;
// a rolled-back event makes it wake one for nothing, which is harmless.
func (o *Outbox) TakeRecorded() bool { return o.recorded.Swap(0) > 0 }

// Types returns the webhook event types of a change: one, or for a new
// file (an upload) both node.created and content.uploaded.
func Types(c drive.Change, n *drive.Node) []string {
	switch c.Event {
	case drive.EventCreated:
		if n.Kind == drive.KindFile && n.Content != nil {
			return []string{acd.EventNodeCreated, acd.EventContentUploaded}
		}
		return []string{acd.EventNodeCreated}
	case drive.EventContentUpdated:
		return []string{acd.EventContentOverwritten}
	case drive.EventMetadataUpdated:
		return []string{acd.EventNodeUpdated}
	case drive.EventTrashed:
		return []string{acd.EventNodeTrashed}
	case drive.EventRestored:
		return []string{acd.EventNodeRestored}
	case drive.EventPurged:
		return []string{acd.EventNodePurged}
	}
	return nil
}
