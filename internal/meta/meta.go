// Package meta defines the metadata store contract: users, the node tree
// with several parents per node, properties, the per-user change log,
// tokens and server settings. The ACD rules (what may be renamed where,
// what trash means) live in package nodes, written once over this contract;
// a store only enforces what a database must enforce under concurrency:
// unique live names per folder, the per-user change counter, and
// transactional atomicity.
//
// Every implementation runs the conformance suite in meta/metatest.
//
// Tx is the whole contract a store implements. A service declares, in its
// own package, the part of it that it uses (nodes.Tx, changes.Tx,
// share.Tx, oauth.Tx, webhook.ServiceTx and DispatcherTx, thumbnail.Tx,
// gc.Tx, auth.TokensTx, lease.Tx, retention.Tx) and runs its transactions
// through that; Tx satisfies each of them. nodes.Tx is in parts (TreeTx,
// AccountTx, PropertyTx, EventTx); the webhook outbox, which writes in
// the transaction of a node change, gets that transaction as a
// nodes.EventTx. The filter and sort fields of a Query are domain terms
// (package filter); a store translates them for its schema. Whole-table
// copies and the referenced-blob walk are the separate, smaller
// TableCopier and BlobReferencer (tables.go).
package meta

import (
	"context"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
)

// Store opens transactions. Implementations are safe for concurrent use.
type Store interface {
	// Update runs fn in a read-write transaction and commits it if fn
	// returns nil; otherwise it rolls back and returns fn's error. fn may
	// be retried on serialization failures, so it must not have side
	// effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction that sees one consistent
	// snapshot of the store.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Tx is one transaction. Methods return drive errors: NotFound for a
// missing user or node (a node of another user is missing too), Conflict
// for uniqueness violations. A Tx must not be used after its fn returns.
type Tx interface {
	OAuthTx
	DerivedTx
	ShareTx
	WebhookTx
	WireTx

	// CreateUser inserts u and its root folder node root.
	// A duplicate name gives Conflict.
	CreateUser(ctx context.Context, u *drive.User, root *drive.Node) error
	// User returns a user by id.
	User(ctx context.Context, id string) (*drive.User, error)
	// UserByName returns a user by name.
	UserByName(ctx context.Context, name string) (*drive.User, error)
	// Users lists all users ordered by name.
	Users(ctx context.Context) ([]*drive.User, error)
	// UpdateUser writes the quota and disabled flag of u.
	UpdateUser(ctx context.Context, u *drive.User) error
	// DeleteUser removes a user and all their rows. Blobs are left for
	// garbage collection.
	DeleteUser(ctx context.Context, id string) error

	// NextSeq increments the user's change counter and returns the new
	// value. Calling it serialises the user's writers: a second
	// transaction calling NextSeq for the same user waits for (or fails
	// against) the first, so change numbers are assigned in commit order.
	NextSeq(ctx context.Context, userID string) (int64, error)
	// CurrentSeq returns the user's change counter without bumping it.
	CurrentSeq(ctx context.Context, userID string) (int64, error)

	// Node returns a node of userID with its parents and labels.
	Node(ctx context.Context, userID, id string) (*drive.Node, error)
	// InsertNode inserts n with its parents and labels. If an AVAILABLE
	// node with the same case-folded name already lives in one of n's
	// parents, it returns a Conflict error whose NodeID is that node.
	InsertNode(ctx context.Context, n *drive.Node) error
	// UpdateNode writes every field of n, replacing its parents and
	// labels. The live-name rule is enforced as for InsertNode.
	UpdateNode(ctx context.Context, n *drive.Node) error
	// ChildByName returns the id of the AVAILABLE child of parentID whose
	// case-folded name is nameKey, or "" when there is none.
	ChildByName(ctx context.Context, parentID, nameKey string) (string, error)
	// NodeByMD5 returns the id of an AVAILABLE file of userID with the
	// given md5, or "" when there is none.
	NodeByMD5(ctx context.Context, userID, md5 string) (string, error)
	// SetLocalID records the client localId a node was created with. A
	// localId already used by another node of the user gives Conflict.
	SetLocalID(ctx context.Context, userID, nodeID, localID string) error
	// NodeByLocalID returns the id of the node of userID created with the
	// given client localId, or "".
	NodeByLocalID(ctx context.Context, userID, localID string) (string, error)
	// Subtree returns every node below rootID (not rootID itself) with all
	// its parent links, following parent links downwards.
	Subtree(ctx context.Context, userID, rootID string) ([]Link, error)
	// TrashedWith returns the ids of nodes whose TrashRoot is rootID,
	// rootID excluded.
	TrashedWith(ctx context.Context, userID, rootID string) ([]string, error)
	// List returns one page of nodes matching q, and the total number of
	// matches.
	List(ctx context.Context, q Query) (Page, error)
	// Changed returns up to limit nodes of userID with ChangeSeq > after,
	// ordered by ChangeSeq, PURGED tombstones included.
	Changed(ctx context.Context, userID string, after int64, limit int) ([]*drive.Node, error)
	// AppendChange records one change.
	AppendChange(ctx context.Context, c drive.Change) error
	// Usage sums the sizes of userID's files that are not PURGED.
	Usage(ctx context.Context, userID string) (drive.Usage, error)
	// Used returns the bytes and number of userID's files that are not
	// PURGED, the same as Usage(...).Total(), in O(1): InsertNode,
	// UpdateNode and DeleteUser keep a per-user counter in the
	// transaction that changes a file, so the quota check does not scan.
	// A missing user gives NotFound.
	Used(ctx context.Context, userID string) (drive.UsageCount, error)
	// BlobReferenced reports whether any node references the blob key.
	BlobReferenced(ctx context.Context, key string) (bool, error)
	// LockBlob serialises, until the transaction ends, the transactions
	// that commit a reference to key with the garbage collector deciding
	// to delete it. (SQLite serialises all writers already; PostgreSQL
	// takes a transaction-scoped advisory lock.)
	LockBlob(ctx context.Context, key string) error

	// Properties returns owner's properties of a node (empty map if none).
	Properties(ctx context.Context, nodeID, owner string) (map[string]string, error)
	// SetProperty inserts or replaces one property.
	SetProperty(ctx context.Context, nodeID, owner, key, value string) error
	// PropertyCount returns how many properties owner has on a node.
	PropertyCount(ctx context.Context, nodeID, owner string) (int, error)
	// DeleteProperties removes every property of a node.
	DeleteProperties(ctx context.Context, nodeID string) error
	// DeleteProperty removes one property; a missing one gives NotFound.
	DeleteProperty(ctx context.Context, nodeID, owner, key string) error

	// InsertToken stores a token record.
	InsertToken(ctx context.Context, t *Token) error
	// Token returns a token record by hash, or NotFound.
	Token(ctx context.Context, hash string) (*Token, error)
	// RevokeTokens marks tokens revoked: the one with hash, or when family
	// is non-empty every token of that family.
	RevokeTokens(ctx context.Context, hash, family string) error

	// Setting returns a server setting, or "" and no error when unset.
	Setting(ctx context.Context, key string) (string, error)
	// PutSettingIfAbsent stores value under key unless the key exists, and
	// returns the value now stored.
	PutSettingIfAbsent(ctx context.Context, key, value string) (string, error)
	// SwapSetting replaces the value of key with new if it is old, in one
	// statement, and reports whether it did (a compare-and-swap: of two
	// transactions swapping the same old value, one wins).
	SwapSetting(ctx context.Context, key, old, new string) (bool, error)
}

// Link is one parent link of a node inside a subtree, with the node's and
// the parent's status.
type Link struct {
	ChildID      string
	ChildStatus  drive.Status
	ParentID     string
	ParentStatus drive.Status
}

// Query selects nodes of one user.
type Query struct {
	UserID string
	// Filter is the parsed filters= expression, or nil for all nodes.
	// The store translates it for its schema (filter.Resolve gives each
	// term's comparison).
	Filter filter.Expr
	// Parent, when set, restricts the result to children of that node.
	Parent string
	// Statuses, when not empty, restricts the result to these statuses
	// (applied in addition to Filter).
	Statuses []drive.Status
	// TrashRootsOnly keeps only nodes trashed directly (TrashRoot == ID).
	TrashRootsOnly bool
	// Sort orders the result by these fields; ties are broken by id
	// ascending. Nil sorts by id. Names sort by their case-folded key
	// (drive.NameKey), byte by byte; times as Unix milliseconds; a
	// missing name sorts as "", a missing size as -1 and a missing
	// content date as 0. The store maps each field to where it keeps it.
	Sort []filter.SortKey
	// After continues a listing: the sort values and id of the last node
	// of the previous page (from Page.Last). Nil starts at the beginning.
	After *Cursor
	// Limit is the page size (1..200).
	Limit int
}

// Cursor marks a position in a sorted listing.
type Cursor struct {
	Values []any  // one per sort key, as the store returned them
	ID     string // tie breaker
}

// Page is one page of a listing.
type Page struct {
	Nodes []*drive.Node
	// Total is the number of matches of the whole query.
	Total int64
	// Last is the cursor of the last node, or nil when this page is the
	// last one.
	Last *Cursor
}

// Token is a stored OAuth token. Only the SHA-256 hash of the secret is
// kept.
type Token struct {
	Hash      string
	UserID    string
	ClientID  string
	Scope     string
	Kind      string // "access" or "refresh"
	Family    string
	ExpiresAt time.Time // zero: never
	Revoked   bool
	CreatedAt time.Time
}
