package nodes

import (
	"context"
	"io"
	"time"
	"unicode/utf8"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
)

// NewNode is the metadata of a node to create.
type NewNode struct {
	Name        string
	Kind        drive.NodeKind
	Parents     []string
	Labels      []string
	Description string
	// Properties maps owner -> key -> value; only the caller's app may be
	// the owner.
	Properties map[string]map[string]string
}

// UploadOptions tune an upload.
type UploadOptions struct {
	// SuppressDedup skips the same-MD5 check (suppress=deduplication).
	SuppressDedup bool
	// LocalID is the client's idempotency key; reusing one gives 409.
	LocalID string
	// ContentType is the content part's Content-Type.
	ContentType string
	// ModTime is the client's modification time of the file; zero stores
	// none (an overwrite without one clears the old: it described other
	// bytes).
	ModTime time.Time
}

func (s *Service) prepare(ctx context.Context, op string, p drive.Principal, in *NewNode, want drive.NodeKind) error {
	if in.Kind == "" {
		in.Kind = want
	}
	if in.Kind != want {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "kind", Message: "kind must be " + string(want)}
	}
	if err := drive.ValidateName(op, in.Name); err != nil {
		return err
	}
	if err := validateLabels(op, in.Labels); err != nil {
		return err
	}
	if len(in.Description) > MaxDescription {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "description", Message: "description is too long"}
	}
	for owner, kv := range in.Properties {
		if err := checkOwner(op, p, owner); err != nil {
			return err
		}
		if len(kv) > MaxPropertiesPerOwner {
			return &drive.Error{Op: op, Kind: drive.Invalid, Param: "properties", Message: "too many properties for one owner (maximum 10)"}
		}
		for k, v := range kv {
			if err := validateProperty(op, k, v); err != nil {
				return err
			}
		}
	}
	in.Parents = uniq(in.Parents)
	return nil
}

// parentsOrRoot returns parents, or the user's root folder when there are
// none. It reads inside the caller's transaction, so that creating a node
// costs no transaction of its own for this.
func parentsOrRoot(ctx context.Context, tx UserReader, userID string, parents []string) ([]string, error) {
	if len(parents) > 0 {
		return parents, nil
	}
	u, err := tx.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	return []string{u.RootID}, nil
}

func validateLabels(op string, labels []string) error {
	if len(labels) > MaxLabels {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "labels", Message: "too many labels"}
	}
	for _, l := range labels {
		if l == "" || len(l) > MaxLabelLength || !utf8.ValidString(l) {
			return &drive.Error{Op: op, Kind: drive.Invalid, Param: "labels", Message: "labels must be 1-256 bytes of UTF-8"}
		}
	}
	return nil
}

// checkParents verifies every parent and the name in each, inside tx.
func checkParents(ctx context.Context, tx TreeTx, op, userID string, parents []string, name, self string) error {
	for _, pid := range parents {
		if _, err := folder(ctx, tx, op, userID, pid); err != nil {
			return err
		}
		if err := checkName(ctx, tx, op, pid, name, self); err != nil {
			return err
		}
	}
	return nil
}

func (m *mutation) setProperties(ctx context.Context, id string, props map[string]map[string]string) error {
	for owner, kv := range props {
		for k, v := range kv {
			if err := m.tx.SetProperty(ctx, id, owner, k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateFolder creates a folder (POST /nodes).
func (s *Service) CreateFolder(ctx context.Context, in NewNode) (*drive.Node, error) {
	const op = "nodes.CreateFolder"
	p, err := writer(ctx, op)
	if err != nil {
		return nil, err
	}
	if err := s.prepare(ctx, op, p, &in, drive.KindFolder); err != nil {
		return nil, err
	}
	n := &drive.Node{ID: s.NewID(), UserID: p.UserID, Kind: drive.KindFolder, Name: in.Name,
		Status: drive.StatusAvailable, Description: in.Description, Labels: nonNil(in.Labels), Parents: in.Parents,
		CreatedBy: p.App}
	err = s.write(ctx, p.UserID, func(m *mutation) error {
		var err error
		if n.Parents, err = parentsOrRoot(ctx, m.tx, p.UserID, in.Parents); err != nil {
			return err
		}
		if err := checkParents(ctx, m.tx, op, p.UserID, n.Parents, n.Name, ""); err != nil {
			return err
		}
		n.CreatedAt = m.now
		if err := m.insert(ctx, n); err != nil {
			return err
		}
		return m.setProperties(ctx, n.ID, in.Properties)
	})
	if err != nil {
		return nil, s.withConflictID(ctx, err, n.Parents, n.Name)
	}
	return n, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// withConflictID fills in the conflicting node id of a name conflict that
// the database reported without one (a concurrent writer won the race and
// the failed statement aborted the transaction) by looking the name up in
// a new transaction.
func (s *Service) withConflictID(ctx context.Context, err error, parents []string, name string) error {
	e := drive.AsError(err)
	if e == nil || e.Kind != drive.Conflict || e.Code != acd.CodeNameAlreadyExists || e.NodeID != "" {
		return err
	}
	_ = s.view(ctx, func(tx Tx) error {
		for _, pid := range parents {
			if id, err := tx.ChildByName(ctx, pid, drive.NameKey(name)); err == nil && id != "" {
				err := drive.NameConflict(e.Op, pid, name, id)
				e.NodeID, e.Message = id, err.Message
				return nil
			}
		}
		return nil
	})
	return e
}

// quotaReader fails with QuotaExceeded once more than left bytes are read.
type quotaReader struct {
	r    io.Reader
	left int64
}

func (q *quotaReader) Read(b []byte) (int, error) {
	n, err := q.r.Read(b)
	q.left -= int64(n)
	if q.left < 0 {
		return n, quotaExceeded("nodes.Upload")
	}
	return n, err
}

func quotaExceeded(op string) error {
	return &drive.Error{Op: op, Kind: drive.QuotaExceeded, Code: acd.CodeQuotaExceeded, Message: "Storage quota exceeded: the upload would take more space than is available"}
}

// remaining returns how many bytes the user may still store, or -1 for
// unlimited. freed is added back (the old size on overwrite).
func remaining(ctx context.Context, tx AccountTx, userID string, freed int64) (int64, error) {
	u, err := tx.User(ctx, userID)
	if err != nil {
		return 0, err
	}
	if u.Quota <= 0 {
		return -1, nil
	}
	used, err := tx.Used(ctx, userID)
	if err != nil {
		return 0, err
	}
	return max(u.Quota-used.Bytes+freed, 0), nil
}

// Upload creates a FILE node with the content read from r (POST
// {content}/nodes). It costs one read transaction and one write
// transaction. The checks that need no content (parents, name, localId,
// quota) read before a byte is read, so that a doomed upload fails early
// (409, 403) without storing anything; then the content is stored and
// made durable; then one write transaction checks everything again (the
// MD5 duplicate check too) and creates the node, its change record,
// webhook events and the used-space counter.
func (s *Service) Upload(ctx context.Context, in NewNode, r io.Reader, opt UploadOptions) (*drive.Node, error) {
	const op = "nodes.Upload"
	p, err := writer(ctx, op)
	if err != nil {
		return nil, err
	}
	if err := s.prepare(ctx, op, p, &in, drive.KindFile); err != nil {
		return nil, err
	}
	var left int64
	err = s.view(ctx, func(tx Tx) error {
		var err error
		if in.Parents, err = parentsOrRoot(ctx, tx, p.UserID, in.Parents); err != nil {
			return err
		}
		if err := checkParents(ctx, tx, op, p.UserID, in.Parents, in.Name, ""); err != nil {
			return err
		}
		if err := checkLocalID(ctx, tx, op, p.UserID, opt.LocalID); err != nil {
			return err
		}
		left, err = remaining(ctx, tx, p.UserID, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	if left >= 0 {
		r = &quotaReader{r: r, left: left}
	}
	// The MD5 duplicate check is left to the write transaction: a read of
	// its own here would cost every upload a transaction to spare the
	// rare duplicate its fsync (its blob, unreferenced, is collected).
	info, err := s.Blobs.Put(ctx, r, nil)
	if err != nil {
		return nil, err
	}
	n := &drive.Node{ID: s.NewID(), UserID: p.UserID, Kind: drive.KindFile, Name: in.Name,
		Status: drive.StatusAvailable, Description: in.Description, Labels: nonNil(in.Labels), Parents: in.Parents,
		CreatedBy: p.App, Content: &drive.Content{BlobKey: info.Key, Size: info.Size, MD5: info.MD5,
			ContentType: contentType(in.Name, opt.ContentType), Extension: extension(in.Name), Version: 1,
			ModTime: modTime(opt.ModTime)}}
	setMedia(n.Content, s.extractMedia(ctx, info, n.Content.ContentType, n.Name))
	err = s.write(ctx, p.UserID, func(m *mutation) error {
		if err := checkParents(ctx, m.tx, op, p.UserID, n.Parents, n.Name, ""); err != nil {
			return err
		}
		if !opt.SuppressDedup && info.Size > 0 {
			if err := dedup(ctx, m.tx, op, p.UserID, info.MD5); err != nil {
				return err
			}
		}
		left, err := remaining(ctx, m.tx, p.UserID, 0)
		if err != nil {
			return err
		}
		if left >= 0 && info.Size > left {
			return quotaExceeded(op)
		}
		if err := s.pinBlob(ctx, m, info.Key); err != nil {
			return err
		}
		n.CreatedAt = m.now
		if err := m.insert(ctx, n); err != nil {
			return err
		}
		if opt.LocalID != "" {
			if err := m.tx.SetLocalID(ctx, p.UserID, n.ID, opt.LocalID); err != nil {
				return err
			}
		}
		return m.setProperties(ctx, n.ID, in.Properties)
	})
	if err != nil {
		// The blob may now be unreferenced; garbage collection removes it
		// after its grace period (it may be shared with a concurrent upload
		// of the same bytes, so it is not deleted here).
		return nil, s.withConflictID(ctx, err, n.Parents, n.Name)
	}
	return n, nil
}

// modTime is t as the store keeps it: UTC at millisecond precision, the
// zero time for none.
func modTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// checkLocalID refuses a localId (the client's idempotency key) that a
// node of the user already carries; "" is no key.
func checkLocalID(ctx context.Context, tx TreeTx, op, userID, localID string) error {
	if localID == "" {
		return nil
	}
	id, err := tx.NodeByLocalID(ctx, userID, localID)
	if err != nil {
		return err
	}
	if id != "" {
		return &drive.Error{Op: op, Kind: drive.Conflict, Code: acd.CodeLocalIDAlreadyUsed, NodeID: id,
			Message: "localId already used by node " + id}
	}
	return nil
}

func dedup(ctx context.Context, tx TreeTx, op, userID, md5 string) error {
	id, err := tx.NodeByMD5(ctx, userID, md5)
	if err != nil {
		return err
	}
	if id != "" {
		return &drive.Error{Op: op, Kind: drive.Conflict, Code: acd.CodeContentAlreadyExists, NodeID: id,
			Message: "Node with the same content (md5 " + md5 + ") already exists conflicting NodeId: " + id}
	}
	return nil
}

// Overwrite replaces the content of a FILE node (PUT {content}/nodes/{id}/content).
func (s *Service) Overwrite(ctx context.Context, id string, r io.Reader, opt UploadOptions) (*drive.Node, error) {
	const op = "nodes.Overwrite"
	p, err := writer(ctx, op)
	if err != nil {
		return nil, err
	}
	var left int64
	err = s.view(ctx, func(tx Tx) error {
		n, err := visible(ctx, tx, p.UserID, id)
		if err != nil {
			return err
		}
		if err := overwritable(op, n); err != nil {
			return err
		}
		left, err = remaining(ctx, tx, p.UserID, n.Content.Size)
		return err
	})
	if err != nil {
		return nil, err
	}
	if left >= 0 {
		r = &quotaReader{r: r, left: left}
	}
	info, err := s.Blobs.Put(ctx, r, nil)
	if err != nil {
		return nil, err
	}
	media := s.extractMedia(ctx, info, opt.ContentType, "")
	var n *drive.Node
	err = s.write(ctx, p.UserID, func(m *mutation) error {
		if n, err = visible(ctx, m.tx, p.UserID, id); err != nil {
			return err
		}
		if err := overwritable(op, n); err != nil {
			return err
		}
		left, err := remaining(ctx, m.tx, p.UserID, n.Content.Size)
		if err != nil {
			return err
		}
		if left >= 0 && info.Size > left {
			return quotaExceeded(op)
		}
		if err := s.pinBlob(ctx, m, info.Key); err != nil {
			return err
		}
		c := n.Content
		c.BlobKey, c.Size, c.MD5 = info.Key, info.Size, info.MD5
		c.ContentType = contentType(n.Name, opt.ContentType)
		setMedia(c, media)
		c.ModTime = modTime(opt.ModTime)
		c.Version++
		return m.update(ctx, n, drive.EventContentUpdated)
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// pinBlob makes sure, inside the transaction that will reference key, that
// the blob still exists: the garbage collector deletes only under the same
// lock, so once this passes the blob stays until the reference commits.
func (s *Service) pinBlob(ctx context.Context, m *mutation, key string) error {
	if err := m.tx.LockBlob(ctx, key); err != nil {
		return err
	}
	if _, err := s.Blobs.Stat(ctx, key); err != nil {
		if drive.Is(drive.NotFound, err) {
			return drive.E("nodes.pinBlob", drive.Unavailable, "content was collected while uploading; retry", err)
		}
		return err
	}
	return nil
}

func overwritable(op string, n *drive.Node) error {
	if n.Kind != drive.KindFile || n.Content == nil {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "id", Message: "only files have content"}
	}
	if n.Status != drive.StatusAvailable {
		return &drive.Error{Op: op, Kind: drive.Conflict, Code: acd.CodeNodeNotAvailable, Message: "node is in the trash"}
	}
	return nil
}
