package share

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// Service manages share links. It is safe for concurrent use; its fields
// must not change after the first call.
type Service struct {
	Meta  meta.Store
	Nodes *nodes.Service
	Now   drive.Clock
	NewID drive.IDGen
	// Key signs password cookies (at least 32 bytes).
	Key []byte
	// Argon2 are the parameters of new password hashes; zero takes
	// auth.DefaultArgon2().
	Argon2 auth.Argon2Params
	// PasswordChecks bounds concurrent password checks (default 2).
	PasswordChecks int
	// Hasher hashes and checks link passwords within its bound on
	// concurrent hashes, shared with sign-in (default: one of its own).
	Hasher *auth.Hasher

	once     sync.Once
	sem      *semaphore.Weighted
	hasher   *auth.Hasher
	throttle auth.FailureThrottle
}

func (s *Service) init() {
	s.once.Do(func() {
		s.sem = semaphore.NewWeighted(int64(cmp.Or(max(s.PasswordChecks, 0), 2)))
		s.hasher = cmp.Or(s.Hasher, &auth.Hasher{})
	})
}

// Link is a share link with the node it points at.
type Link struct {
	*meta.ShareLink
	Node *drive.Node
}

// HasPassword reports whether the link needs a password.
func (l *Link) HasPassword() bool { return l.PasswordHash != "" }

// Limits of the public listing and of inputs.
const (
	// MaxListing is the most children a folder listing shows.
	MaxListing = 10000
	// MaxPassword is the longest link password in bytes.
	MaxPassword = 1024
	// maxDepth bounds the climb from a node to the shared folder.
	maxDepth = 256
)

// CreateOptions are the optional settings of a new link.
type CreateOptions struct {
	ExpiresAt time.Time // zero: never
	Password  string    // "": none
}

func caller(ctx context.Context, op string, write bool) (drive.Principal, error) {
	p, ok := drive.FromContext(ctx)
	if !ok || p.UserID == "" {
		return p, drive.E(op, drive.Unauthorized, "not authenticated")
	}
	if write && !p.CanWrite() {
		return p, &drive.Error{Op: op, Kind: drive.Forbidden, Message: "Insufficient permissions granted for operation: " + op}
	}
	return p, nil
}

// NewToken returns a fresh link token: 32 random bytes, base64url.
func NewToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("share: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Create makes a link to an AVAILABLE node of the caller, who needs the
// write scope. An expiry in the past is Invalid.
func (s *Service) Create(ctx context.Context, nodeID string, o CreateOptions) (*Link, error) {
	const op = "share.Create"
	p, err := caller(ctx, op, true)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	if !o.ExpiresAt.IsZero() && !o.ExpiresAt.After(now) {
		return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "expiresAt", Message: "expiresAt is in the past"}
	}
	l := &meta.ShareLink{ID: s.NewID(), UserID: p.UserID, NodeID: nodeID, Token: NewToken(),
		ExpiresAt: o.ExpiresAt.UTC().Truncate(time.Millisecond), CreatedAt: now}
	if o.Password != "" {
		if len(o.Password) > MaxPassword {
			return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "password", Message: "password is too long"}
		}
		params := s.Argon2
		if params == (auth.Argon2Params{}) {
			params = auth.DefaultArgon2()
		}
		s.init()
		if l.PasswordHash, err = s.hasher.HashWith(ctx, o.Password, params); err != nil {
			return nil, err
		}
	}
	var n *drive.Node
	err = s.update(ctx, func(tx Tx) error {
		if n, err = tx.Node(ctx, p.UserID, nodeID); err != nil {
			return err
		}
		if n.Status != drive.StatusAvailable {
			return drive.E(op, drive.NotFound, "node not found or not available")
		}
		return tx.InsertShareLink(ctx, l)
	})
	if err != nil {
		return nil, err
	}
	return &Link{ShareLink: l, Node: n}, nil
}

// List returns the caller's links, all of them or, when nodeID is not
// empty, those of one node (which must be the caller's and not purged).
// Links of purged nodes are left out: they can never work again.
func (s *Service) List(ctx context.Context, nodeID string) ([]*Link, error) {
	const op = "share.List"
	p, err := caller(ctx, op, false)
	if err != nil {
		return nil, err
	}
	out := []*Link{}
	err = s.view(ctx, func(tx Tx) error {
		if nodeID != "" {
			n, err := tx.Node(ctx, p.UserID, nodeID)
			if err != nil {
				return err
			}
			if n.Status == drive.StatusPurged {
				return drive.E(op, drive.NotFound, "node not found")
			}
		}
		ls, err := tx.ShareLinks(ctx, p.UserID, nodeID)
		if err != nil {
			return err
		}
		nodes := map[string]*drive.Node{}
		for _, l := range ls {
			n, ok := nodes[l.NodeID]
			if !ok {
				if n, err = tx.Node(ctx, p.UserID, l.NodeID); err != nil {
					return err
				}
				nodes[l.NodeID] = n
			}
			if n.Status != drive.StatusPurged {
				out = append(out, &Link{ShareLink: l, Node: n})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Revoke deletes a link of the caller, who needs the write scope. Another
// user's link is NotFound.
func (s *Service) Revoke(ctx context.Context, id string) error {
	const op = "share.Revoke"
	p, err := caller(ctx, op, true)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx) error { return tx.DeleteShareLink(ctx, p.UserID, id) })
}

func notFound(op string) error { return drive.E(op, drive.NotFound, "link not found") }

// Resolve returns the working link with the given token: NotFound for a
// missing or expired token, for a node that is not AVAILABLE and for a
// link of a disabled user.
func (s *Service) Resolve(ctx context.Context, token string) (*Link, error) {
	const op = "share.Resolve"
	if len(token) != 43 {
		return nil, notFound(op)
	}
	var out *Link
	err := s.view(ctx, func(tx Tx) error {
		l, err := tx.ShareLinkByToken(ctx, token)
		if err != nil {
			return err
		}
		if !l.ExpiresAt.IsZero() && !s.Now().Before(l.ExpiresAt) {
			return notFound(op)
		}
		if err := nodes.ActiveUser(ctx, tx, l.UserID); err != nil {
			return err
		}
		n, err := tx.Node(ctx, l.UserID, l.NodeID)
		if err != nil {
			return err
		}
		if n.Status != drive.StatusAvailable {
			return notFound(op)
		}
		out = &Link{ShareLink: l, Node: n}
		return nil
	})
	if drive.Is(drive.NotFound, err) {
		return nil, notFound(op)
	}
	return out, err
}

// CheckPassword reports whether pw is the link's password. A link without
// a password accepts anything.
func (s *Service) CheckPassword(ctx context.Context, l *Link, pw string) (bool, error) {
	if !l.HasPassword() {
		return true, nil
	}
	if pw == "" || len(pw) > MaxPassword {
		return false, nil
	}
	s.init()
	if err := s.sem.Acquire(ctx, 1); err != nil {
		return false, drive.E("share.CheckPassword", drive.Unavailable, "request cancelled", err)
	}
	defer s.sem.Release(1)
	now := s.Now()
	if wait := s.throttle.Wait(l.ID, now); wait > 0 {
		return false, &drive.Error{Op: "share.CheckPassword", Kind: drive.RateLimited, RetryAfter: wait,
			Message: "too many wrong passwords for this link; try again in " + wait.Round(time.Second).String()}
	}
	ok, err := s.hasher.Verify(ctx, l.PasswordHash, pw)
	switch {
	case err != nil:
	case ok:
		s.throttle.Succeeded(l.ID)
	default:
		s.throttle.Failed(l.ID, now)
	}
	return ok, err
}

// Cookie returns the value of the cookie that proves the password of l.
func (s *Service) Cookie(l *Link) string {
	m := hmac.New(sha256.New, s.Key)
	io.WriteString(m, "clouddrive share cookie\x00"+l.ID+"\x00"+l.PasswordHash)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCookie reports whether v is the password cookie of l.
func (s *Service) CheckCookie(l *Link, v string) bool {
	return v != "" && subtle.ConstantTimeCompare([]byte(v), []byte(s.Cookie(l))) == 1
}

// Node returns the node id of l's owner if it is inside the link: the
// linked node itself, or an AVAILABLE node with a chain of AVAILABLE
// parents up to the linked folder. Anything else is NotFound.
func (s *Service) Node(ctx context.Context, l *Link, id string) (*drive.Node, error) {
	const op = "share.Node"
	if id == l.NodeID {
		return l.Node, nil
	}
	if l.Node.Kind != drive.KindFolder {
		return nil, drive.E(op, drive.NotFound, "node not found")
	}
	var n *drive.Node
	err := s.view(ctx, func(tx Tx) error {
		var err error
		if n, err = tx.Node(ctx, l.UserID, id); err != nil {
			return err
		}
		if n.Status != drive.StatusAvailable {
			return drive.E(op, drive.NotFound, "node not found")
		}
		inside, err := below(ctx, tx, l.UserID, n, l.NodeID)
		if err != nil {
			return err
		}
		if !inside {
			return drive.E(op, drive.NotFound, "node not found")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// below reports whether top is an ancestor of n through AVAILABLE
// folders, searching n's parent chains breadth first.
func below(ctx context.Context, tx Tx, userID string, n *drive.Node, top string) (bool, error) {
	seen := map[string]bool{n.ID: true}
	level := n.Parents
	for depth := 0; depth < maxDepth && len(level) > 0; depth++ {
		var next []string
		for _, pid := range level {
			if pid == top {
				return true, nil
			}
			if seen[pid] {
				continue
			}
			seen[pid] = true
			p, err := tx.Node(ctx, userID, pid)
			if drive.Is(drive.NotFound, err) {
				continue
			}
			if err != nil {
				return false, err
			}
			if p.Status == drive.StatusAvailable {
				next = append(next, p.Parents...)
			}
		}
		level = next
	}
	return false, nil
}

// Children returns the AVAILABLE children of a folder inside l, folders
// first, then by name; at most MaxListing of them.
func (s *Service) Children(ctx context.Context, l *Link, folder *drive.Node) ([]*drive.Node, error) {
	sort, err := filter.ParseSort(`["kind DESC", "name ASC"]`)
	if err != nil {
		return nil, err
	}
	out := []*drive.Node{}
	q := meta.Query{UserID: l.UserID, Parent: folder.ID, Statuses: []drive.Status{drive.StatusAvailable}, Sort: sort, Limit: 200}
	for len(out) < MaxListing {
		var page meta.Page
		err := s.view(ctx, func(tx Tx) error {
			var err error
			page, err = tx.List(ctx, q)
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Nodes...)
		if page.Last == nil {
			break
		}
		q.After = page.Last
	}
	if len(out) > MaxListing {
		out = out[:MaxListing]
	}
	return out, nil
}

// Open reads the content of a file inside l (found with Node).
func (s *Service) Open(ctx context.Context, l *Link, n *drive.Node, off, length int64) (io.ReadCloser, error) {
	_, rc, err := s.Nodes.OpenByID(ctx, l.UserID, n.ID, off, length)
	return rc, err
}
