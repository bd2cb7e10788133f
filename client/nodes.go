package client

import (
	"context"
	"errors"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// Node kinds and statuses as they appear on the wire.
const (
	KindFile   = "FILE"
	KindFolder = "FOLDER"
	KindAsset  = "ASSET"

	StatusAvailable = "AVAILABLE"
	StatusTrash     = "TRASH"
	StatusPurged    = "PURGED"
	StatusPending   = "PENDING"
)

// ListOptions select nodes in a listing. The zero value lists everything
// the endpoint lists, 200 per page.
type ListOptions struct {
	// Filters is an ACD filter query, e.g. `kind:FILE AND name:foo*`; use
	// Quote for values. Unless it names a status, only AVAILABLE nodes
	// (TRASH ones for the trash) are listed.
	Filters string
	// Sort is e.g. `["name ASC"]`.
	Sort string
	// Limit is the page size (1-200); 0 lets the server choose.
	Limit int
	// TempLink adds a tempLink to every FILE node.
	TempLink bool
}

func (o *ListOptions) query(startToken string) url.Values {
	q := url.Values{}
	if o == nil {
		o = &ListOptions{}
	}
	if o.Filters != "" {
		q.Set("filters", o.Filters)
	}
	if o.Sort != "" {
		q.Set("sort", o.Sort)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.TempLink {
		q.Set("tempLink", "true")
	}
	if startToken != "" {
		q.Set("startToken", startToken)
	}
	return q
}

// Quote escapes a value for a filter query the way go-acd does: a
// backslash before each of + - & | ! ( ) { } [ ] ^ ' " ~ * ? : \ and
// space, and double quotes around the result.
func Quote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		if strings.ContainsRune(`+-&|!(){}[]^'"~*?:\ `, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// ListPage fetches one page of GET nodes. Pass the previous page's
// NextToken as startToken ("" for the first page); NextToken is empty on
// the last page.
func (c *Client) ListPage(ctx context.Context, o *ListOptions, startToken string) (*acd.NodeList, error) {
	return c.listPage(ctx, "client.ListPage", "nodes", o, startToken)
}

func (c *Client) listPage(ctx context.Context, op, path string, o *ListOptions, startToken string) (*acd.NodeList, error) {
	var out acd.NodeList
	err := c.call(ctx, &request{op: op, method: "GET", path: path, query: o.query(startToken), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// all pages through a listing.
func (c *Client) all(ctx context.Context, op, path string, o *ListOptions) iter.Seq2[*acd.Node, error] {
	return func(yield func(*acd.Node, error) bool) {
		token := ""
		for {
			page, err := c.listPage(ctx, op, path, o, token)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, n := range page.Data {
				if !yield(n, nil) {
					return
				}
			}
			if page.NextToken == "" || page.NextToken == token {
				return
			}
			token = page.NextToken
		}
	}
}

// List iterates over GET nodes, following nextToken. Iteration stops at
// the first error, which is yielded with a nil node.
func (c *Client) List(ctx context.Context, o *ListOptions) iter.Seq2[*acd.Node, error] {
	return c.all(ctx, "client.List", "nodes", o)
}

// Children iterates over the children of a folder (GET
// nodes/{id}/children); o.Filters applies within them.
func (c *Client) Children(ctx context.Context, parentID string, o *ListOptions) iter.Seq2[*acd.Node, error] {
	return c.all(ctx, "client.Children", "nodes/"+seg(parentID)+"/children", o)
}

// ListTrash iterates over the trash (GET trash): the nodes trashed
// directly, not those that went along with a trashed folder.
func (c *Client) ListTrash(ctx context.Context, o *ListOptions) iter.Seq2[*acd.Node, error] {
	return c.all(ctx, "client.ListTrash", "trash", o)
}

// Collect gathers an iterator's nodes into a slice, stopping at the first
// error.
func Collect(seq iter.Seq2[*acd.Node, error]) ([]*acd.Node, error) {
	var out []*acd.Node
	for n, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, n)
	}
	return out, nil
}

// Root returns the root folder.
func (c *Client) Root(ctx context.Context) (*acd.Node, error) {
	page, err := c.listPage(ctx, "client.Root", "nodes", &ListOptions{Filters: "isRoot:true", Limit: 1}, "")
	if err != nil {
		return nil, err
	}
	if len(page.Data) == 0 {
		return nil, &Error{Op: "client.Root", StatusCode: 404, Message: "no root folder"}
	}
	return page.Data[0], nil
}

// GetOptions tune Node.
type GetOptions struct {
	// TempLink asks for a temporary download link on a FILE node.
	TempLink bool
}

// Node returns one node by id (GET nodes/{id}), in any status but PURGED.
func (c *Client) Node(ctx context.Context, id string, o *GetOptions) (*acd.Node, error) {
	q := url.Values{}
	if o != nil && o.TempLink {
		q.Set("tempLink", "true")
	}
	var out acd.Node
	if err := c.call(ctx, &request{op: "client.Node", method: "GET", path: "nodes/" + seg(id), query: q, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// TempLink returns a temporary URL that downloads a file without
// authentication and honours Range.
func (c *Client) TempLink(ctx context.Context, id string) (string, error) {
	n, err := c.Node(ctx, id, &GetOptions{TempLink: true})
	if err != nil {
		return "", err
	}
	if n.TempLink == "" {
		return "", &Error{Op: "client.TempLink", StatusCode: 400, Message: "the server returned no tempLink (is it a file?)"}
	}
	return n.TempLink, nil
}

// ChildByName returns the AVAILABLE child of parentID called name,
// compared case-insensitively as the server does. It fails with
// ErrNotFound when there is none.
func (c *Client) ChildByName(ctx context.Context, parentID, name string) (*acd.Node, error) {
	return c.childByName(ctx, parentID, name, "")
}

// TrashedChildByName is ChildByName for a TRASH child of parentID.
func (c *Client) TrashedChildByName(ctx context.Context, parentID, name string) (*acd.Node, error) {
	return c.childByName(ctx, parentID, name, StatusTrash)
}

func (c *Client) childByName(ctx context.Context, parentID, name, status string) (*acd.Node, error) {
	f := "parents:" + Quote(parentID) + " AND name:" + Quote(name)
	if status != "" {
		f += " AND status:" + status
	}
	page, err := c.listPage(ctx, "client.ChildByName", "nodes", &ListOptions{Filters: f, Limit: 2}, "")
	if err != nil {
		return nil, err
	}
	if len(page.Data) == 0 {
		return nil, &Error{Op: "client.ChildByName", StatusCode: 404, Message: "no node called " + strconv.Quote(name) + " in " + parentID}
	}
	return page.Data[0], nil
}

// Lookup resolves a slash-separated path from the root ("/" or "" is the
// root) through AVAILABLE nodes, one ChildByName per element.
func (c *Client) Lookup(ctx context.Context, path string) (*acd.Node, error) {
	n, err := c.Root(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range strings.Split(path, "/") {
		if name == "" || name == "." {
			continue
		}
		if n, err = c.ChildByName(ctx, n.ID, name); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Conflict says what a create or upload does when the name is taken.
type Conflict int

const (
	// ConflictFail returns a *ConflictError (the default).
	ConflictFail Conflict = iota
	// ConflictReturnExisting returns the existing node instead, with a nil
	// error: for uploads also when the server deduplicated the content
	// against another file.
	ConflictReturnExisting
	// ConflictOverwrite replaces the existing file's content (uploads
	// only; a folder in the way is still a conflict). The reader must be
	// an io.Seeker.
	ConflictOverwrite
)

// FolderOptions tune CreateFolder.
type FolderOptions struct {
	Labels      []string
	Description string
	// Properties are set at creation: owner → key → value.
	Properties map[string]map[string]string
	// OnConflict: ConflictReturnExisting makes CreateFolder idempotent
	// (mkdir -p) when the existing node is a folder.
	OnConflict Conflict
}

// CreateFolder creates a folder in parentID (POST nodes). If the request
// fails in a way that may have reached the server, the name is looked up
// before the request is sent again, so a retry never fails on its own
// earlier success.
func (c *Client) CreateFolder(ctx context.Context, parentID, name string, o *FolderOptions) (*acd.Node, error) {
	if o == nil {
		o = &FolderOptions{}
	}
	in := acd.NewNode{Name: name, Kind: KindFolder, Parents: []string{parentID}, Labels: o.Labels,
		Description: o.Description, Properties: o.Properties}
	var out *acd.Node
	req := &request{op: "client.CreateFolder", method: "POST", path: "nodes", in: in,
		confirm: func(ctx context.Context) (bool, error) {
			n, err := c.ChildByName(ctx, parentID, name)
			if errors.Is(err, ErrNotFound) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			if n.Kind != KindFolder {
				return false, nil // someone else's file: let the retry report the conflict
			}
			out = n
			return true, nil
		}}
	var created acd.Node
	err := c.call(ctx, req, &created)
	if err == nil && out == nil {
		out = &created
	}
	var ce *ConflictError
	if errors.As(err, &ce) && o.OnConflict == ConflictReturnExisting && ce.NodeID != "" {
		n, gerr := c.Node(ctx, ce.NodeID, nil)
		if gerr == nil && n.Kind == KindFolder && n.Status == StatusAvailable {
			return n, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Patch is a partial update of a node; nil fields are left alone.
type Patch struct {
	Name        *string                      `json:"name,omitempty"`
	Description *string                      `json:"description,omitempty"`
	Labels      *[]string                    `json:"labels,omitempty"`
	Parents     *[]string                    `json:"parents,omitempty"`
	Status      *string                      `json:"status,omitempty"`
	Properties  map[string]map[string]string `json:"properties,omitempty"`
	// ModTime sets a file's modification time (contentProperties.mtime);
	// folders have none (400).
	ModTime *acd.Time `json:"mtime,omitempty"`
}

// Update applies a Patch (PATCH nodes/{id}) and returns the updated node.
// A name taken in a parent gives a *ConflictError.
func (c *Client) Update(ctx context.Context, id string, p Patch) (*acd.Node, error) {
	var out acd.Node
	// Setting fields to given values is idempotent.
	err := c.call(ctx, &request{op: "client.Update", method: "PATCH", path: "nodes/" + seg(id), in: p, idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Rename sets a node's name.
func (c *Client) Rename(ctx context.Context, id, name string) (*acd.Node, error) {
	return c.Update(ctx, id, Patch{Name: &name})
}

// SetModTime sets a file's modification time (contentProperties.mtime),
// kept by the server in UTC at millisecond precision.
func (c *Client) SetModTime(ctx context.Context, id string, t time.Time) (*acd.Node, error) {
	mt := acd.NewTime(t)
	return c.Update(ctx, id, Patch{ModTime: &mt})
}

// Move moves a node from one parent to another (POST
// nodes/{to}/children), keeping its other parents. TRASH nodes cannot be
// moved.
func (c *Client) Move(ctx context.Context, id, fromParent, toParent string) (*acd.Node, error) {
	req := &request{op: "client.Move", method: "POST", path: "nodes/" + seg(toParent) + "/children",
		in: acd.MoveRequest{FromParent: fromParent, ChildID: id}}
	return c.callConfirmNode(ctx, req, id, func(n *acd.Node) bool {
		return slices.Contains(n.Parents, toParent) && !slices.Contains(n.Parents, fromParent)
	})
}

// callConfirmNode sends req, a call that changes node id and is not
// idempotent, and returns the node it answers. When an attempt fails in a
// way that may have reached the server, the node is read back and done
// tells whether the change happened; if so, that node is the answer and
// the call is not sent again.
func (c *Client) callConfirmNode(ctx context.Context, req *request, id string, done func(n *acd.Node) bool) (*acd.Node, error) {
	var out *acd.Node
	req.confirm = func(ctx context.Context) (bool, error) {
		n, err := c.Node(ctx, id, nil)
		if err != nil {
			return false, err
		}
		if done(n) {
			out = n
			return true, nil
		}
		return false, nil
	}
	var got acd.Node
	if err := c.call(ctx, req, &got); err != nil {
		return nil, err
	}
	if out == nil {
		out = &got
	}
	return out, nil
}

// AddParent adds parentID to the parents of childID (PUT
// nodes/{parent}/children/{child}); allowed for TRASH nodes.
func (c *Client) AddParent(ctx context.Context, parentID, childID string) (*acd.Node, error) {
	var out acd.Node
	err := c.call(ctx, &request{op: "client.AddParent", method: "PUT",
		path: "nodes/" + seg(parentID) + "/children/" + seg(childID), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveParent removes parentID from the parents of childID (DELETE
// nodes/{parent}/children/{child}).
func (c *Client) RemoveParent(ctx context.Context, parentID, childID string) (*acd.Node, error) {
	req := &request{op: "client.RemoveParent", method: "DELETE", path: "nodes/" + seg(parentID) + "/children/" + seg(childID)}
	return c.callConfirmNode(ctx, req, childID, func(n *acd.Node) bool { return !slices.Contains(n.Parents, parentID) })
}

// Trash moves a node, with the part of its subtree reachable only through
// it, to the trash (PUT trash/{id}). Trashing a TRASH node is a no-op.
func (c *Client) Trash(ctx context.Context, id string) (*acd.Node, error) {
	var out acd.Node
	if err := c.call(ctx, &request{op: "client.Trash", method: "PUT", path: "trash/" + seg(id), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Restore brings a TRASH node back into its parents (POST
// trash/{id}/restore). A name taken meanwhile gives a *ConflictError.
func (c *Client) Restore(ctx context.Context, id string) (*acd.Node, error) {
	req := &request{op: "client.Restore", method: "POST", path: "trash/" + seg(id) + "/restore"}
	return c.callConfirmNode(ctx, req, id, func(n *acd.Node) bool { return n.Status == StatusAvailable })
}

// Purge deletes a node for good (DELETE nodes/{id}), with the part of its
// subtree reachable only through it. It returns the purged node
// (status PURGED).
func (c *Client) Purge(ctx context.Context, id string) (*acd.Node, error) {
	var out *acd.Node
	req := &request{op: "client.Purge", method: "DELETE", path: "nodes/" + seg(id),
		confirm: func(ctx context.Context) (bool, error) {
			n, err := c.Node(ctx, id, nil)
			if errors.Is(err, ErrNotFound) {
				out = &acd.Node{ID: id, Status: StatusPurged}
				return true, nil
			}
			if err != nil {
				return false, err
			}
			if n.Status == StatusPurged {
				out = n
				return true, nil
			}
			return false, nil
		}}
	var got acd.Node
	if err := c.call(ctx, req, &got); err != nil {
		return nil, err
	}
	if out == nil {
		out = &got
	}
	return out, nil
}

// BulkPurge purges up to 1000 nodes in one request (POST
// bulk/nodes/purge). It fails as a whole (nothing purged) if any id is
// unknown or already purged.
func (c *Client) BulkPurge(ctx context.Context, ids []string) ([]*acd.Node, error) {
	var confirmed []*acd.Node
	req := &request{op: "client.BulkPurge", method: "POST", path: "bulk/nodes/purge", in: acd.BulkPurge{NodeIDs: ids},
		confirm: func(ctx context.Context) (bool, error) {
			var gone []*acd.Node
			for _, id := range ids {
				n, err := c.Node(ctx, id, nil)
				switch {
				case errors.Is(err, ErrNotFound):
					gone = append(gone, &acd.Node{ID: id, Status: StatusPurged})
				case err != nil:
					return false, err
				case n.Status == StatusPurged:
					gone = append(gone, n)
				default:
					return false, nil
				}
			}
			confirmed = gone
			return true, nil
		}}
	var out acd.NodeList
	if err := c.call(ctx, req, &out); err != nil {
		return nil, err
	}
	if confirmed != nil {
		return confirmed, nil
	}
	return out.Data, nil
}
