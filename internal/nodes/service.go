package nodes

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Service applies ACD rules to the metadata and blob stores. Its methods
// take the caller from the context (drive.FromContext) and see only that
// user's nodes. It is safe for concurrent use.
type Service struct {
	Meta   meta.Store
	Blobs  blob.Store
	Now    drive.Clock
	NewID  drive.IDGen
	Logger *slog.Logger
	// DefaultQuota is the quota of new users in bytes; 0 is unlimited.
	DefaultQuota int64
	// Committed, if set, is called after each write of a user commits.
	Committed func(userID string)
	// Events, if set, hears of every change inside the transaction that
	// makes it (the webhook outbox).
	Events EventSink
	// Media, if set, reads photo and video metadata of uploaded content
	// (contentProperties.image, video and contentDate).
	Media MediaExtractor
}

// EventSink records changes in the transaction that makes them, so that
// what it writes commits or rolls back with the change.
type EventSink interface {
	// Begin is called at the first change of a transaction of userID,
	// with that transaction (as an EventTx: what a sink may do in it). It
	// returns nil when nobody listens to the user's changes; otherwise
	// the transaction calls the returned function once per change with
	// the node as it will be stored, or, for EventPurged, as it was
	// stored before the purge.
	Begin(ctx context.Context, tx EventTx, userID string, now time.Time) (func(ctx context.Context, c drive.Change, n *drive.Node) error, error)
}

// RootCreator is the createdBy value of root folders, as on ACD.
const RootCreator = "CloudDriveFiles"

// Property limits, as on ACD.
const (
	MaxPropertiesPerOwner = 10
	MaxPropertyValue      = 500
	MaxPropertyKey        = 64
	MaxLabels             = 64
	MaxLabelLength        = 256
	MaxDescription        = 4096
)

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func caller(ctx context.Context, op string) (drive.Principal, error) {
	p, ok := drive.FromContext(ctx)
	if !ok || p.UserID == "" {
		return p, drive.E(op, drive.Unauthorized, "not authenticated")
	}
	return p, nil
}

func writer(ctx context.Context, op string) (drive.Principal, error) {
	p, err := caller(ctx, op)
	if err != nil {
		return p, err
	}
	if !p.CanWrite() {
		return p, &drive.Error{Op: op, Kind: drive.Forbidden, Message: "Insufficient permissions granted for operation: " + op}
	}
	return p, nil
}

// EnsureUser returns the user called name, creating it with a root folder
// when absent.
func (s *Service) EnsureUser(ctx context.Context, name string) (*drive.User, error) {
	const op = "nodes.EnsureUser"
	if name == "" || len(name) > 128 || strings.ContainsAny(name, " \t\r\n/") {
		return nil, drive.E(op, drive.Invalid, "user name must be 1-128 characters without spaces or '/'")
	}
	var u *drive.User
	err := s.updateTx(ctx, func(tx Tx) error {
		var err error
		u, err = tx.UserByName(ctx, name)
		if err == nil || !drive.Is(drive.NotFound, err) {
			return err
		}
		now := s.now()
		u = &drive.User{ID: s.NewID(), Name: name, RootID: s.NewID(), Quota: s.DefaultQuota, CreatedAt: now, Epoch: s.NewID()[:8]}
		root := &drive.Node{ID: u.RootID, UserID: u.ID, Kind: drive.KindFolder, Status: drive.StatusAvailable,
			IsRoot: true, Labels: []string{}, Parents: []string{}, CreatedAt: now, ModifiedAt: now,
			CreatedBy: RootCreator, Version: 1}
		return tx.CreateUser(ctx, u, root)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// write runs fn in a write transaction for userID. The user's change
// counter is bumped first, which takes the per-user write lock before any
// read, so the checks fn makes hold until commit on every database.
func (s *Service) write(ctx context.Context, userID string, fn func(w *mutation) error) error {
	err := s.updateTx(ctx, func(tx Tx) error {
		seq, err := tx.NextSeq(ctx, userID)
		if err != nil {
			return err
		}
		return fn(&mutation{tx: tx, s: s, userID: userID, first: seq, now: s.now()})
	})
	if err == nil && s.Committed != nil {
		s.Committed(userID)
	}
	return err
}

// mutation is one write transaction of one user.
type mutation struct {
	tx     Tx
	s      *Service
	userID string
	first  int64
	used   bool
	now    time.Time
	// began reports whether Events.Begin ran; record is what it returned.
	began  bool
	record func(ctx context.Context, c drive.Change, n *drive.Node) error
}

func (m *mutation) seq(ctx context.Context) (int64, error) {
	if !m.used {
		m.used = true
		return m.first, nil
	}
	return m.tx.NextSeq(ctx, m.userID)
}

// stamp records a mutation of n: version, modifiedDate, change number and
// a change-log entry.
func (m *mutation) stamp(ctx context.Context, n *drive.Node, ev drive.Event) error {
	seq, err := m.seq(ctx)
	if err != nil {
		return err
	}
	n.Version++
	n.ModifiedAt = m.now
	n.ChangeSeq = seq
	c := drive.Change{UserID: m.userID, Seq: seq, NodeID: n.ID, Event: ev, At: m.now}
	if err := m.tx.AppendChange(ctx, c); err != nil {
		return err
	}
	return m.report(ctx, c, n)
}

// report hands a change to the event sink, if any listens.
func (m *mutation) report(ctx context.Context, c drive.Change, n *drive.Node) error {
	if m.s.Events == nil {
		return nil
	}
	if !m.began {
		m.began = true
		var err error
		if m.record, err = m.s.Events.Begin(ctx, m.tx, m.userID, m.now); err != nil {
			return err
		}
	}
	if m.record == nil {
		return nil
	}
	if c.Event == drive.EventPurged {
		// stamp runs before the node is written: the stored row is still
		// the node as it was before the purge.
		before, err := m.tx.Node(ctx, m.userID, n.ID)
		if err != nil {
			return err
		}
		n = before
	}
	return m.record(ctx, c, n)
}

func (m *mutation) insert(ctx context.Context, n *drive.Node) error {
	if err := m.stamp(ctx, n, drive.EventCreated); err != nil {
		return err
	}
	return m.tx.InsertNode(ctx, n)
}

func (m *mutation) update(ctx context.Context, n *drive.Node, ev drive.Event) error {
	if err := m.stamp(ctx, n, ev); err != nil {
		return err
	}
	return m.tx.UpdateNode(ctx, n)
}

// node loads a node of the mutation's user.
func (m *mutation) node(ctx context.Context, id string) (*drive.Node, error) {
	return m.tx.Node(ctx, m.userID, id)
}

// folder loads id and checks that it is an AVAILABLE folder that can take
// children.
func folder(ctx context.Context, tx TreeTx, op, userID, id string) (*drive.Node, error) {
	if id == "" {
		return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "parents", Message: "parent id must not be empty"}
	}
	f, err := tx.Node(ctx, userID, id)
	if err != nil {
		if drive.Is(drive.NotFound, err) {
			return nil, &drive.Error{Op: op, Kind: drive.NotFound, Message: "parent node " + id + " not found"}
		}
		return nil, err
	}
	if f.Kind != drive.KindFolder {
		return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "parents", Message: "parent " + id + " is not a folder"}
	}
	if f.Status != drive.StatusAvailable {
		return nil, &drive.Error{Op: op, Kind: drive.Conflict, Code: acd.CodeParentNotAvailable, Message: "parent " + id + " is in the trash"}
	}
	return f, nil
}

// checkName returns a 409 NAME_ALREADY_EXISTS error when an AVAILABLE node
// other than self is called name in parent.
func checkName(ctx context.Context, tx TreeTx, op, parent, name, self string) error {
	id, err := tx.ChildByName(ctx, parent, drive.NameKey(name))
	if err != nil {
		return err
	}
	if id != "" && id != self {
		return drive.NameConflict(op, parent, name, id)
	}
	return nil
}

// checkNoCycle fails when making parent a parent of n would put n inside
// its own subtree.
func checkNoCycle(ctx context.Context, tx TreeTx, op, userID string, n *drive.Node, parent string) error {
	if n.Kind != drive.KindFolder {
		return nil
	}
	if parent == n.ID {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "parents", Message: "a folder cannot be its own parent"}
	}
	links, err := tx.Subtree(ctx, userID, n.ID)
	if err != nil {
		return err
	}
	for _, l := range links {
		if l.ChildID == parent {
			return &drive.Error{Op: op, Kind: drive.Invalid, Param: "parents", Message: "a folder cannot be moved into its own subtree"}
		}
	}
	return nil
}

func uniq(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// contentType picks the content type of a file from the client's value and
// the name's extension.
func contentType(name, sent string) string {
	sent = strings.TrimSpace(sent)
	if i := strings.IndexByte(sent, ';'); i >= 0 {
		sent = strings.TrimSpace(sent[:i])
	}
	if sent != "" && sent != "application/octet-stream" {
		return strings.ToLower(sent)
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		if i := strings.IndexByte(t, ';'); i >= 0 {
			t = t[:i]
		}
		return t
	}
	return "application/octet-stream"
}

func extension(name string) string {
	return strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
}

// Node returns one node of the caller.
func (s *Service) Node(ctx context.Context, id string) (*drive.Node, error) {
	const op = "nodes.Get"
	p, err := caller(ctx, op)
	if err != nil {
		return nil, err
	}
	var n *drive.Node
	err = s.view(ctx, func(tx Tx) error {
		n, err = visible(ctx, tx, p.UserID, id)
		return err
	})
	return n, err
}

// visible loads a node that has not been purged.
func visible(ctx context.Context, tx TreeTx, userID, id string) (*drive.Node, error) {
	n, err := tx.Node(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if n.Status == drive.StatusPurged {
		return nil, drive.E("nodes.Get", drive.NotFound, "node not found")
	}
	return n, nil
}

// Root returns the caller's root folder.
func (s *Service) Root(ctx context.Context) (*drive.Node, error) {
	const op = "nodes.Root"
	p, err := caller(ctx, op)
	if err != nil {
		return nil, err
	}
	var n *drive.Node
	err = s.view(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, p.UserID)
		if err != nil {
			return err
		}
		n, err = tx.Node(ctx, p.UserID, u.RootID)
		return err
	})
	return n, err
}

// Account returns the caller's user record.
func (s *Service) Account(ctx context.Context) (*drive.User, drive.Usage, error) {
	const op = "nodes.Account"
	p, err := caller(ctx, op)
	if err != nil {
		return nil, drive.Usage{}, err
	}
	var u *drive.User
	var usage drive.Usage
	err = s.view(ctx, func(tx Tx) error {
		if u, err = tx.User(ctx, p.UserID); err != nil {
			return err
		}
		usage, err = tx.Usage(ctx, p.UserID)
		return err
	})
	return u, usage, err
}

// Quota returns the caller's user record and the bytes and number of
// their files (trash included), read from the store's counter rather than
// summed: the cheap part of Account, for account/quota.
func (s *Service) Quota(ctx context.Context) (*drive.User, drive.UsageCount, error) {
	const op = "nodes.Quota"
	p, err := caller(ctx, op)
	if err != nil {
		return nil, drive.UsageCount{}, err
	}
	var u *drive.User
	var used drive.UsageCount
	err = s.view(ctx, func(tx Tx) error {
		if u, err = tx.User(ctx, p.UserID); err != nil {
			return err
		}
		used, err = tx.Used(ctx, p.UserID)
		return err
	})
	return u, used, err
}

// Open returns a FILE node of the caller and a reader of its content from
// off for length bytes (length < 0: to the end).
func (s *Service) Open(ctx context.Context, id string, off, length int64) (*drive.Node, io.ReadCloser, error) {
	n, err := s.Node(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return s.openNode(ctx, n, off, length)
}

func (s *Service) openNode(ctx context.Context, n *drive.Node, off, length int64) (*drive.Node, io.ReadCloser, error) {
	const op = "nodes.Open"
	if n.Kind != drive.KindFile || n.Content == nil {
		return nil, nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "id", Message: "node is not a file"}
	}
	if n.Content.Size == 0 {
		return n, io.NopCloser(strings.NewReader("")), nil
	}
	rc, err := s.Blobs.Open(ctx, n.Content.BlobKey, off, length)
	if err != nil {
		if drive.Is(drive.NotFound, err) {
			// A node whose blob is gone is an internal fault, not a 404.
			return nil, nil, drive.E(op, drive.Internal, "content missing", err)
		}
		return nil, nil, err
	}
	return n, rc, nil
}

// OpenByID opens a node of a given user without a principal; temp links
// and share links use it after verifying their token. A disabled (or
// deleted) user's nodes are NotFound, as their tokens are invalid.
func (s *Service) OpenByID(ctx context.Context, userID, id string, off, length int64) (*drive.Node, io.ReadCloser, error) {
	n, err := s.NodeByID(ctx, userID, id)
	if err != nil {
		return nil, nil, err
	}
	return s.openNode(ctx, n, off, length)
}

// NodeByID returns a node of a given user without a principal (temp
// links): NotFound for a purged node, or when the user is disabled or
// deleted.
func (s *Service) NodeByID(ctx context.Context, userID, id string) (*drive.Node, error) {
	var n *drive.Node
	err := s.view(ctx, func(tx Tx) error {
		if err := ActiveUser(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		n, err = visible(ctx, tx, userID, id)
		return err
	})
	return n, err
}

// UserReader is the part of meta.Tx that ActiveUser reads.
type UserReader interface {
	User(ctx context.Context, id string) (*drive.User, error)
}

// ActiveUser returns nil when the user exists and is not disabled, else
// NotFound: what serves a user's content without a bearer token (temp
// links, share links) checks it, as auth.Tokens.Authenticate does for
// tokens.
func ActiveUser(ctx context.Context, tx UserReader, userID string) error {
	u, err := tx.User(ctx, userID)
	if err != nil {
		return err
	}
	if u.Disabled {
		return drive.E("nodes.ActiveUser", drive.NotFound, "user not found")
	}
	return nil
}

// parentsOf and nameOf read a node that may be nil (a failed load).
func parentsOf(n *drive.Node) []string {
	if n == nil {
		return nil
	}
	return n.Parents
}

func nameOf(n *drive.Node) string {
	if n == nil {
		return ""
	}
	return n.Name
}
