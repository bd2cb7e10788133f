package nodes

import (
	"context"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Tx is what the node service does in a metadata transaction: the part of
// meta.Tx it uses, in parts by what they touch. Every transaction of the
// service runs through update, view or write, which hand it a Tx; the
// helpers take the smallest part they need.
type Tx interface {
	TreeTx
	AccountTx
	PropertyTx
	// EventTx: a write hands its transaction to the Events hook.
	EventTx
}

// TreeTx reads and writes the node tree: nodes with their parents and
// labels, the lookups the ACD rules check (a name in a folder, an md5, a
// localId, a subtree, what was trashed along), listings, the user's
// change counter and log, and the lock that pins a blob new content
// references.
type TreeTx interface {
	NextSeq(ctx context.Context, userID string) (int64, error)
	AppendChange(ctx context.Context, c drive.Change) error
	Node(ctx context.Context, userID, id string) (*drive.Node, error)
	InsertNode(ctx context.Context, n *drive.Node) error
	UpdateNode(ctx context.Context, n *drive.Node) error
	ChildByName(ctx context.Context, parentID, nameKey string) (string, error)
	NodeByMD5(ctx context.Context, userID, md5 string) (string, error)
	SetLocalID(ctx context.Context, userID, nodeID, localID string) error
	NodeByLocalID(ctx context.Context, userID, localID string) (string, error)
	Subtree(ctx context.Context, userID, rootID string) ([]meta.Link, error)
	TrashedWith(ctx context.Context, userID, rootID string) ([]string, error)
	List(ctx context.Context, q meta.Query) (meta.Page, error)
	LockBlob(ctx context.Context, key string) error
}

// AccountTx reads and creates users and reads the space their files
// take: the root folder, the account and the quota checks.
type AccountTx interface {
	UserReader
	UserByName(ctx context.Context, name string) (*drive.User, error)
	CreateUser(ctx context.Context, u *drive.User, root *drive.Node) error
	Usage(ctx context.Context, userID string) (drive.Usage, error)
	Used(ctx context.Context, userID string) (drive.UsageCount, error)
}

// PropertyTx reads and writes the app properties of nodes.
type PropertyTx interface {
	Properties(ctx context.Context, nodeID, owner string) (map[string]string, error)
	SetProperty(ctx context.Context, nodeID, owner, key, value string) error
	DeleteProperties(ctx context.Context, nodeID string) error
	DeleteProperty(ctx context.Context, nodeID, owner, key string) error
}

// EventTx is what an EventSink does in the transaction of the changes it
// hears of: read their user, find the subscriptions that take the user's
// events, and record an event with its deliveries (the webhook outbox),
// so that the event commits or rolls back with its change.
type EventTx interface {
	UserReader
	WebhooksFor(ctx context.Context, userID string, now time.Time) ([]*meta.Webhook, error)
	InsertWebhookEvent(ctx context.Context, e *meta.WebhookEvent, ds []*meta.Delivery) error
}

var _ Tx = meta.Tx(nil)

// updateTx runs fn in a read-write transaction of s.Meta, seen as a Tx.
// A write of a user's nodes goes through write instead, which takes the
// user's change counter first.
func (s *Service) updateTx(ctx context.Context, fn func(tx Tx) error) error {
	return s.Meta.Update(ctx, func(tx meta.Tx) error { return fn(tx) })
}

// view runs fn in a read-only transaction of s.Meta, seen as a Tx.
func (s *Service) view(ctx context.Context, fn func(tx Tx) error) error {
	return s.Meta.View(ctx, func(tx meta.Tx) error { return fn(tx) })
}
