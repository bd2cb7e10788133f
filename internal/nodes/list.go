package nodes

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// MaxLimit is the largest page size, as on ACD.
const MaxLimit = 200

// ListOptions select a page of nodes.
type ListOptions struct {
	Filters    string
	Sort       string
	Limit      int // 0: MaxLimit
	StartToken string
	// Parent restricts the listing to the children of a node.
	Parent string
	// Trash lists the trash: nodes trashed directly.
	Trash bool
}

// Page is one page of a listing.
type Page struct {
	Nodes []*drive.Node
	// Count is the number of matches of the whole query.
	Count int64
	// NextToken continues the listing; empty on the last page.
	NextToken string
}

// List returns a page of the caller's nodes. Unless the filter names a
// status, only AVAILABLE nodes are returned (TRASH ones for the trash).
func (s *Service) List(ctx context.Context, o ListOptions) (Page, error) {
	const op = "nodes.List"
	p, err := caller(ctx, op)
	if err != nil {
		return Page{}, err
	}
	if o.Limit == 0 {
		o.Limit = MaxLimit
	}
	if o.Limit < 1 || o.Limit > MaxLimit {
		return Page{}, &drive.Error{Op: op, Kind: drive.Invalid, Param: "limit", Message: "must be between 1 and 200"}
	}
	expr, err := filter.Parse(o.Filters)
	if err != nil {
		return Page{}, err
	}
	keys, err := filter.ParseSort(o.Sort)
	if err != nil {
		return Page{}, err
	}
	q := meta.Query{UserID: p.UserID, Filter: expr, Parent: o.Parent, Sort: keys, Limit: o.Limit}
	mentions := expr != nil && filter.MentionsStatus(expr)
	switch {
	case o.Trash:
		q.TrashRootsOnly = true
		if !mentions {
			q.Statuses = []drive.Status{drive.StatusTrash}
		}
	case !mentions:
		q.Statuses = []drive.Status{drive.StatusAvailable}
	}
	if q.Parent == "" {
		// rclone lists a folder with filters=parents:<id>: answer it from
		// the folder's links like a children listing.
		if parent, rest, ok := liftParent(expr); ok {
			q.Parent, q.Filter = parent, rest
		}
	}
	qhash := queryHash(p.UserID, o)
	if o.StartToken != "" {
		c, err := decodeToken(o.StartToken, qhash)
		if err != nil {
			return Page{}, err
		}
		q.After = c
	}
	var page meta.Page
	err = s.view(ctx, func(tx Tx) error {
		if o.Parent != "" {
			if _, err := visible(ctx, tx, p.UserID, o.Parent); err != nil {
				return err
			}
		}
		page, err = tx.List(ctx, q)
		return err
	})
	if err != nil {
		return Page{}, err
	}
	out := Page{Nodes: page.Nodes, Count: page.Total}
	if page.Last != nil {
		out.NextToken = encodeToken(page.Last, qhash)
	}
	return out, nil
}

type token struct {
	V []any  `json:"v"`
	I string `json:"i"`
	H string `json:"h"`
}

func queryHash(userID string, o ListOptions) string {
	h := sha256.New()
	for _, s := range []string{userID, o.Filters, o.Sort, o.Parent, strconv.FormatBool(o.Trash)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

func encodeToken(c *meta.Cursor, qhash string) string {
	b, _ := json.Marshal(token{V: c.Values, I: c.ID, H: qhash})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s, qhash string) (*meta.Cursor, error) {
	const op = "nodes.List"
	bad := &drive.Error{Op: op, Kind: drive.Invalid, Param: "startToken", Message: "startToken is not valid for this query"}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var t token
	if err := dec.Decode(&t); err != nil || t.H != qhash || t.I == "" {
		return nil, bad
	}
	for i, v := range t.V {
		switch x := v.(type) {
		case json.Number:
			n, err := x.Int64()
			if err != nil {
				return nil, bad
			}
			t.V[i] = n
		case string:
		default:
			return nil, bad
		}
	}
	return &meta.Cursor{Values: t.V, ID: t.I}, nil
}

// liftParent splits a top-level "parents:<id>" term off e: the whole of e,
// or one operand of a top-level AND. The rest is nil when nothing remains.
func liftParent(e filter.Expr) (string, filter.Expr, bool) {
	isParent := func(x filter.Expr) (string, bool) {
		t, ok := x.(filter.Term)
		if !ok || t.Field != filter.FieldParents {
			return "", false
		}
		return t.Exact()
	}
	if id, ok := isParent(e); ok {
		return id, nil, true
	}
	and, ok := e.(filter.And)
	if !ok {
		return "", nil, false
	}
	for i, x := range and {
		id, ok := isParent(x)
		if !ok {
			continue
		}
		rest := append(append(filter.And{}, and[:i]...), and[i+1:]...)
		switch len(rest) {
		case 0:
			return id, nil, true
		case 1:
			return id, rest[0], true
		}
		return id, rest, true
	}
	return "", nil, false
}
