// Package drive holds the domain vocabulary of clouddrive: nodes, their
// kinds and statuses, users, changes, and the error type with kinds that the
// HTTP layer maps to status codes in one place. It has no I/O and imports
// only the standard library.
package drive

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"
)

// NodeKind is the kind of a node.
type NodeKind string

// Node kinds, as ACD spells them.
const (
	KindFile   NodeKind = "FILE"
	KindFolder NodeKind = "FOLDER"
	KindAsset  NodeKind = "ASSET"
)

// Status is the life-cycle state of a node.
type Status string

// Node statuses, as ACD spells them.
const (
	StatusAvailable Status = "AVAILABLE"
	StatusTrash     Status = "TRASH"
	StatusPurged    Status = "PURGED"
	StatusPending   Status = "PENDING"
)

// Valid reports whether s is a status ACD clients know.
func (s Status) Valid() bool {
	switch s {
	case StatusAvailable, StatusTrash, StatusPurged, StatusPending:
		return true
	}
	return false
}

// Content describes the bytes of a FILE node.
type Content struct {
	BlobKey     string // key in the blob store; never sent to clients
	Size        int64
	MD5         string // lowercase hex
	ContentType string
	Extension   string
	Version     int64
	ContentDate time.Time // zero when unknown
	// ModTime is the file's modification time as the client gave it
	// (millisecond precision, UTC); zero when none was given. It is sent
	// as contentProperties.mtime, a field ACD did not have.
	ModTime time.Time
	// Image and Video hold what media extraction read from the bytes
	// (package media); nil for other files.
	Image *ImageProps
	Video *VideoProps
}

// Node is a file or folder of one user. A node may have several parents.
type Node struct {
	ID          string
	UserID      string
	Kind        NodeKind
	Name        string // empty for the root
	Status      Status
	IsRoot      bool
	Description string
	Labels      []string
	Parents     []string
	CreatedAt   time.Time
	ModifiedAt  time.Time
	CreatedBy   string
	Version     int64
	// ChangeSeq is the per-user change number of the node's last mutation.
	ChangeSeq int64
	// TrashRoot is the id of the node whose trashing took this node to the
	// trash (itself when trashed directly); empty when not in the trash.
	TrashRoot string
	Content   *Content // FILE only
	// Properties maps owner -> key -> value.
	Properties map[string]map[string]string
}

// User is an account holder.
type User struct {
	ID        string
	Name      string
	RootID    string
	Quota     int64 // bytes; 0 means unlimited
	Disabled  bool
	CreatedAt time.Time
	// Epoch is a random string regenerated whenever the user's change
	// numbering restarts; checkpoints carry it so stale ones are detected.
	Epoch string
}

// Usage is the storage used by one user, split by ACD's categories.
type Usage struct {
	Photo, Video, Doc, Other UsageCount
}

// UsageCount is a byte and node count.
type UsageCount struct {
	Bytes int64
	Count int64
}

// Total sums all categories.
func (u Usage) Total() UsageCount {
	return UsageCount{
		Bytes: u.Photo.Bytes + u.Video.Bytes + u.Doc.Bytes + u.Other.Bytes,
		Count: u.Photo.Count + u.Video.Count + u.Doc.Count + u.Other.Count,
	}
}

// Event names what a change did to a node; webhooks use it.
type Event string

// Change events.
const (
	EventCreated         Event = "node.created"
	EventContentUpdated  Event = "node.content_updated"
	EventMetadataUpdated Event = "node.metadata_updated"
	EventTrashed         Event = "node.trashed"
	EventRestored        Event = "node.restored"
	EventPurged          Event = "node.purged"
)

// Change is one entry of a user's change log.
type Change struct {
	UserID string
	Seq    int64
	NodeID string
	Event  Event
	At     time.Time
}

// Clock returns the current time. Library code never calls time.Now
// directly; it is handed a Clock.
type Clock func() time.Time

// IDGen returns a new unique id.
type IDGen func() string

// NewID returns a random node id: 22 characters of base64url (16 random
// bytes), the shape ACD used and acd_cli validates.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("drive: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidID reports whether s has the shape of a node id.
func ValidID(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID string
	// App is the OAuth client id (the properties owner and createdBy).
	App string
	// Scopes granted to the token.
	Scopes []string
	// TokenID identifies the token for rate limiting.
	TokenID string
}

// CanWrite reports whether the principal holds the write scope.
func (p Principal) CanWrite() bool {
	for _, s := range p.Scopes {
		if s == ScopeWrite {
			return true
		}
	}
	return false
}

// OAuth scopes.
const (
	ScopeReadAll = "clouddrive:read_all"
	ScopeRead    = "clouddrive:read"
	ScopeWrite   = "clouddrive:write"
)

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal in ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
