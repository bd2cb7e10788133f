package crashtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// owner is the properties owner of tokens minted by `clouddrive admin
// token` (auth.AdminClientID).
const owner = "clouddrive-admin"

// entry is the expected state of one file.
type entry struct {
	ID      string
	Name    string
	Parents []string // sorted, as the API lists them
	Status  string   // AVAILABLE or TRASH
	MD5     string
	Size    int64
	Props   map[string]string
	// TrashRoot is the node whose trashing took this one to the trash
	// (the model's own bookkeeping; the API does not show it).
	TrashRoot string
}

func (e *entry) clone() *entry {
	c := *e
	c.Props = maps.Clone(e.Props)
	c.Parents = slices.Clone(e.Parents)
	return &c
}

func (e *entry) hasParent(id string) bool { return slices.Contains(e.Parents, id) }

func (e *entry) setParents(ps ...string) {
	e.Parents = slices.Clone(ps)
	slices.Sort(e.Parents)
	e.Parents = slices.Compact(e.Parents)
}

// opKind names a client operation.
type opKind string

const (
	opUpload        opKind = "upload"
	opOverwrite     opKind = "overwrite"
	opMove          opKind = "move"
	opRename        opKind = "rename"
	opTrash         opKind = "trash"
	opRestore       opKind = "restore"
	opPurge         opKind = "purge"
	opProperty      opKind = "property"
	opAddParent     opKind = "add parent"
	opRemoveParent  opKind = "remove parent"
	opTrashFolder   opKind = "trash folder"
	opRestoreFolder opKind = "restore folder"
)

// change is what a write does to the model: the new state of the files
// it touches (nil: purged) and of one of the client's folders.
type change struct {
	files  map[string]*entry
	folder int    // index into client.folders, or -1
	status string // the folder's new status
}

func fileChange(e *entry) change { return change{files: map[string]*entry{e.ID: e}, folder: -1} }

// pending is a request whose outcome is unknown: the server died (or the
// connection broke) before its response arrived. Its change must have
// happened entirely or not at all.
type pending struct {
	kind opKind
	// name and parent identify an upload's node, whose id is unknown.
	name, parent string
	upload       *entry
	ch           change
}

// client is one HTTP client with its own folders and model.
type client struct {
	name  string
	user  string
	token string
	base  string
	hc    *http.Client
	rng   *rand.Rand
	seed  uint64

	root    string    // the user's root (restored files may land there)
	folders [2]string // the two folders the client works in
	fstatus [2]string // their statuses
	nodes   map[string]*entry
	purged  map[string]bool
	pending *pending
	counter int

	// stats
	acked, failed int
	byKind        map[opKind]int
	// unexpected records non-2xx answers to requests the model says must
	// succeed.
	unexpected []string
}

func newClient(name, user, token, base string, hc *http.Client, seed uint64) *client {
	return &client{name: name, user: user, token: token, base: base, hc: hc, seed: seed,
		rng:   rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d)),
		nodes: map[string]*entry{}, purged: map[string]bool{}, byKind: map[opKind]int{}}
}

// errTransport marks a request whose outcome is unknown.
var errTransport = errors.New("transport error")

// do sends a request and decodes a JSON answer into out. It returns
// errTransport (wrapped) when no complete response arrived.
func (c *client) do(ctx context.Context, method, path string, body io.Reader, ctype string, out any) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %v", errTransport, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: reading body: %v", errTransport, err)
	}
	if out != nil && resp.StatusCode/100 == 2 && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, raw, fmt.Errorf("decode %s %s: %v: %q", method, path, err, raw)
		}
	}
	return resp.StatusCode, raw, nil
}

func (c *client) jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// content returns the deterministic bytes of the client's n-th content.
func (c *client) content(n int, size int64) []byte {
	r := rand.New(rand.NewPCG(c.seed, uint64(n)))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// randomSize picks a content size: mostly small, sometimes several MiB so
// that kills land in the middle of uploads.
func (c *client) randomSize() int64 {
	switch p := c.rng.IntN(100); {
	case p < 5:
		return 0
	case p < 75:
		return 1 + c.rng.Int64N(64<<10)
	case p < 93:
		return 64<<10 + c.rng.Int64N(1<<20)
	default:
		return 1<<20 + c.rng.Int64N(7<<20)
	}
}

// slowReader delivers a body at about 32 MiB/s, widening the window in
// which a kill interrupts an upload.
type slowReader struct {
	ctx context.Context
	r   io.Reader
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := s.r.Read(p)
	select {
	case <-s.ctx.Done():
		return n, s.ctx.Err()
	case <-time.After(2 * time.Millisecond):
	}
	return n, err
}

const boundary = "crashtestBoundary7MA4YWxkTrZu0gW"

// multipart builds an upload body: an optional metadata part, then the
// content part.
func multipartBody(ctx context.Context, metadata any, content []byte) io.Reader {
	var head bytes.Buffer
	if metadata != nil {
		m, _ := json.Marshal(metadata)
		fmt.Fprintf(&head, "--%s\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n%s\r\n", boundary, m)
	}
	fmt.Fprintf(&head, "--%s\r\nContent-Disposition: form-data; name=\"content\"; filename=\"blob\"\r\nContent-Type: application/octet-stream\r\n\r\n", boundary)
	var body io.Reader = bytes.NewReader(content)
	if len(content) > 1<<20 {
		body = &slowReader{ctx: ctx, r: body}
	}
	return io.MultiReader(&head, body, bytes.NewReader([]byte("\r\n--"+boundary+"--\r\n")))
}

const multipartType = "multipart/form-data; boundary=" + boundary

// setup creates the client's folders. It runs while no kill is planned.
func (c *client) setup(ctx context.Context, root string) error {
	c.root = root
	top, err := c.mkdir(ctx, c.name, root)
	if err != nil {
		return err
	}
	for i := range c.folders {
		if c.folders[i], err = c.mkdir(ctx, "dir"+strconv.Itoa(i), top); err != nil {
			return err
		}
		c.fstatus[i] = "AVAILABLE"
	}
	return nil
}

// liveFolder returns a random AVAILABLE folder of the client, or -1.
func (c *client) liveFolder() int {
	i := c.rng.IntN(2)
	if c.fstatus[i] == "AVAILABLE" {
		return i
	}
	if c.fstatus[1-i] == "AVAILABLE" {
		return 1 - i
	}
	return -1
}

func (c *client) mkdir(ctx context.Context, name, parent string) (string, error) {
	var n acd.Node
	st, raw, err := c.do(ctx, "POST", "/drive/v1/nodes", c.jsonBody(acd.NewNode{Name: name, Kind: "FOLDER", Parents: []string{parent}}), "", &n)
	if err != nil {
		return "", err
	}
	if st != http.StatusCreated {
		return "", fmt.Errorf("create folder %s: %d %s", name, st, raw)
	}
	return n.ID, nil
}

// pick returns a random node of the model whose status is one of
// statuses, or nil.
func (c *client) pick(statuses ...string) *entry {
	var cands []*entry
	for _, e := range c.nodes {
		for _, s := range statuses {
			if e.Status == s {
				cands = append(cands, e)
				break
			}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	// Map order is random but not seeded; sort for reproducibility.
	sortEntries(cands)
	return cands[c.rng.IntN(len(cands))]
}

// run performs random operations until ctx ends or a request's outcome is
// unknown.
func (c *client) run(ctx context.Context) {
	for ctx.Err() == nil && c.pending == nil {
		if err := c.step(ctx); err != nil {
			if errors.Is(err, errTransport) {
				return // c.pending was set
			}
			c.unexpected = append(c.unexpected, err.Error())
			return
		}
	}
}

// step performs one random operation.
func (c *client) step(ctx context.Context) error {
	kinds := []opKind{opUpload, opUpload, opUpload}
	if len(c.nodes) > 0 {
		kinds = append(kinds, opOverwrite, opOverwrite, opMove, opRename, opTrash, opRestore, opPurge, opProperty, opProperty,
			opAddParent, opRemoveParent, opTrashFolder, opRestoreFolder)
	}
	if len(c.nodes) > 40 {
		kinds = append(kinds, opPurge, opPurge, opPurge)
	}
	switch k := kinds[c.rng.IntN(len(kinds))]; k {
	case opUpload:
		if f := c.liveFolder(); f >= 0 {
			return c.upload(ctx, c.folders[f])
		}
	case opOverwrite:
		if e := c.pick("AVAILABLE"); e != nil {
			return c.overwrite(ctx, e)
		}
	case opMove:
		if e := c.pick("AVAILABLE"); e != nil {
			return c.move(ctx, e)
		}
	case opRename:
		if e := c.pick("AVAILABLE"); e != nil {
			return c.rename(ctx, e)
		}
	case opTrash:
		if e := c.pick("AVAILABLE"); e != nil {
			return c.trash(ctx, e)
		}
	case opRestore:
		if e := c.pick("TRASH"); e != nil {
			return c.restore(ctx, e)
		}
	case opPurge:
		if e := c.pick("AVAILABLE", "TRASH"); e != nil {
			return c.purge(ctx, e)
		}
	case opProperty:
		if e := c.pick("AVAILABLE"); e != nil {
			return c.property(ctx, e)
		}
	case opAddParent:
		if e := c.pick("AVAILABLE", "TRASH"); e != nil {
			return c.addParent(ctx, e)
		}
	case opRemoveParent:
		if e := c.pick("AVAILABLE", "TRASH"); e != nil && len(e.Parents) > 1 {
			return c.removeParent(ctx, e)
		}
	case opTrashFolder:
		// At most one folder is in the trash at a time.
		if i := c.rng.IntN(2); c.fstatus[0] == "AVAILABLE" && c.fstatus[1] == "AVAILABLE" {
			return c.trashFolder(ctx, i)
		}
	case opRestoreFolder:
		for i, st := range c.fstatus {
			if st == "TRASH" {
				return c.restoreFolder(ctx, i)
			}
		}
	}
	return nil
}

// outcome books the answer to a write: 2xx applies its change to the
// model, a transport error makes it pending, anything else is unexpected.
func (c *client) outcome(k opKind, p *pending, st int, raw []byte, err error) error {
	if err != nil {
		if errors.Is(err, errTransport) {
			c.pending = p
			c.failed++
			return err
		}
		return err
	}
	if st/100 != 2 {
		return fmt.Errorf("%s %s: unexpected status %d: %s", c.name, k, st, raw)
	}
	c.apply(p.ch)
	c.acked++
	c.byKind[k]++
	return nil
}

// apply makes a change part of the model.
func (c *client) apply(ch change) {
	for id, e := range ch.files {
		if e == nil {
			delete(c.nodes, id)
			c.purged[id] = true
		} else {
			c.nodes[id] = e
		}
	}
	if ch.folder >= 0 {
		c.fstatus[ch.folder] = ch.status
	}
}

func (c *client) upload(ctx context.Context, parent string) error {
	c.counter++
	name := fmt.Sprintf("%s-f%05d.bin", c.name, c.counter)
	size := c.randomSize()
	data := c.content(c.counter, size)
	sum := md5hex(data)
	after := &entry{Name: name, Status: "AVAILABLE", MD5: sum, Size: size, Props: map[string]string{}}
	after.setParents(parent)
	var n acd.Node
	meta := acd.NewNode{Name: name, Kind: "FILE", Parents: []string{parent}}
	st, raw, err := c.do(ctx, "POST", "/cdproxy/nodes?suppress=deduplication", multipartBody(ctx, meta, data), multipartType, &n)
	p := &pending{kind: opUpload, name: name, parent: parent, upload: after, ch: change{folder: -1}}
	if err == nil && st == http.StatusCreated {
		after.ID = n.ID
		p.ch = fileChange(after)
		if n.ContentProperties == nil || n.ContentProperties.MD5 != sum || n.ContentProperties.Size != size {
			c.unexpected = append(c.unexpected, fmt.Sprintf("%s upload %s: response content %+v, want md5 %s size %d", c.name, n.ID, n.ContentProperties, sum, size))
		}
	}
	return c.outcome(opUpload, p, st, raw, err)
}

func (c *client) overwrite(ctx context.Context, e *entry) error {
	c.counter++
	size := c.randomSize()
	data := c.content(c.counter, size)
	after := e.clone()
	after.MD5, after.Size = md5hex(data), size
	st, raw, err := c.do(ctx, "PUT", "/cdproxy/nodes/"+e.ID+"/content", multipartBody(ctx, nil, data), multipartType, nil)
	return c.outcome(opOverwrite, &pending{kind: opOverwrite, ch: fileChange(after)}, st, raw, err)
}

// move moves a file from one of its parents to the other folder.
func (c *client) move(ctx context.Context, e *entry) error {
	from := e.Parents[c.rng.IntN(len(e.Parents))]
	to := c.folders[0]
	if from == to {
		to = c.folders[1]
	}
	if c.fstatus[slices.Index(c.folders[:], to)] != "AVAILABLE" {
		return nil
	}
	after := e.clone()
	ps := slices.DeleteFunc(slices.Clone(e.Parents), func(p string) bool { return p == from })
	after.setParents(append(ps, to)...)
	st, raw, err := c.do(ctx, "POST", "/drive/v1/nodes/"+to+"/children", c.jsonBody(acd.MoveRequest{FromParent: from, ChildID: e.ID}), "", nil)
	return c.outcome(opMove, &pending{kind: opMove, ch: fileChange(after)}, st, raw, err)
}

func (c *client) rename(ctx context.Context, e *entry) error {
	c.counter++
	after := e.clone()
	after.Name = fmt.Sprintf("%s-r%05d.bin", c.name, c.counter)
	st, raw, err := c.do(ctx, "PATCH", "/drive/v1/nodes/"+e.ID, c.jsonBody(map[string]string{"name": after.Name}), "", nil)
	return c.outcome(opRename, &pending{kind: opRename, ch: fileChange(after)}, st, raw, err)
}

func (c *client) trash(ctx context.Context, e *entry) error {
	after := e.clone()
	after.Status, after.TrashRoot = "TRASH", e.ID
	st, raw, err := c.do(ctx, "PUT", "/drive/v1/trash/"+e.ID, nil, "", nil)
	return c.outcome(opTrash, &pending{kind: opTrash, ch: fileChange(after)}, st, raw, err)
}

// restore brings a file back into its parents that are available, or
// into the root when none is.
func (c *client) restore(ctx context.Context, e *entry) error {
	after := e.clone()
	after.Status, after.TrashRoot = "AVAILABLE", ""
	var keep []string
	for _, p := range e.Parents {
		if i := slices.Index(c.folders[:], p); i < 0 || c.fstatus[i] == "AVAILABLE" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		keep = []string{c.root}
	}
	after.setParents(keep...)
	st, raw, err := c.do(ctx, "POST", "/drive/v1/trash/"+e.ID+"/restore", nil, "", nil)
	return c.outcome(opRestore, &pending{kind: opRestore, ch: fileChange(after)}, st, raw, err)
}

func (c *client) purge(ctx context.Context, e *entry) error {
	st, raw, err := c.do(ctx, "DELETE", "/drive/v1/nodes/"+e.ID, nil, "", nil)
	return c.outcome(opPurge, &pending{kind: opPurge, ch: change{files: map[string]*entry{e.ID: nil}, folder: -1}}, st, raw, err)
}

func (c *client) property(ctx context.Context, e *entry) error {
	key := "k" + strconv.Itoa(c.rng.IntN(4))
	value := strconv.FormatUint(c.rng.Uint64(), 36)
	after := e.clone()
	after.Props[key] = value
	path := "/drive/v1/nodes/" + e.ID + "/properties/" + owner + "/" + url.PathEscape(key)
	st, raw, err := c.do(ctx, "PUT", path, c.jsonBody(acd.PropertyValue{Value: value}), "", nil)
	return c.outcome(opProperty, &pending{kind: opProperty, ch: fileChange(after)}, st, raw, err)
}

// addParent gives a file (available or in the trash) a second parent:
// the client's other folder, when that is available.
func (c *client) addParent(ctx context.Context, e *entry) error {
	i := c.rng.IntN(2)
	if e.hasParent(c.folders[i]) {
		i = 1 - i
	}
	if e.hasParent(c.folders[i]) || c.fstatus[i] != "AVAILABLE" {
		return nil
	}
	after := e.clone()
	after.setParents(append(after.Parents, c.folders[i])...)
	st, raw, err := c.do(ctx, "PUT", "/drive/v1/nodes/"+c.folders[i]+"/children/"+e.ID, nil, "", nil)
	return c.outcome(opAddParent, &pending{kind: opAddParent, ch: fileChange(after)}, st, raw, err)
}

// removeParent removes one of the two parents of a file.
func (c *client) removeParent(ctx context.Context, e *entry) error {
	p := e.Parents[c.rng.IntN(len(e.Parents))]
	after := e.clone()
	after.setParents(slices.DeleteFunc(slices.Clone(e.Parents), func(x string) bool { return x == p })...)
	st, raw, err := c.do(ctx, "DELETE", "/drive/v1/nodes/"+p+"/children/"+e.ID, nil, "", nil)
	return c.outcome(opRemoveParent, &pending{kind: opRemoveParent, ch: fileChange(after)}, st, raw, err)
}

// trashFolder trashes one of the client's folders: it takes along every
// available file that no other available parent holds.
func (c *client) trashFolder(ctx context.Context, i int) error {
	f := c.folders[i]
	ch := change{files: map[string]*entry{}, folder: i, status: "TRASH"}
	for id, e := range c.nodes {
		if e.Status != "AVAILABLE" || !e.hasParent(f) {
			continue
		}
		held := false
		for _, p := range e.Parents {
			if j := slices.Index(c.folders[:], p); p != f && (j < 0 || c.fstatus[j] == "AVAILABLE") {
				held = true
			}
		}
		if !held {
			after := e.clone()
			after.Status, after.TrashRoot = "TRASH", f
			ch.files[id] = after
		}
	}
	st, raw, err := c.do(ctx, "PUT", "/drive/v1/trash/"+f, nil, "", nil)
	return c.outcome(opTrashFolder, &pending{kind: opTrashFolder, ch: ch}, st, raw, err)
}

// restoreFolder restores a folder and the files trashed with it.
func (c *client) restoreFolder(ctx context.Context, i int) error {
	f := c.folders[i]
	ch := change{files: map[string]*entry{}, folder: i, status: "AVAILABLE"}
	for id, e := range c.nodes {
		if e.Status == "TRASH" && e.TrashRoot == f {
			after := e.clone()
			after.Status, after.TrashRoot = "AVAILABLE", ""
			ch.files[id] = after
		}
	}
	st, raw, err := c.do(ctx, "POST", "/drive/v1/trash/"+f+"/restore", nil, "", nil)
	return c.outcome(opRestoreFolder, &pending{kind: opRestoreFolder, ch: ch}, st, raw, err)
}

// purgeSome purges every other file of the model, so that garbage
// collection has blobs to collect at the end of a run.
func (c *client) purgeSome(ctx context.Context) error {
	es := make([]*entry, 0, len(c.nodes))
	for _, e := range c.nodes {
		es = append(es, e)
	}
	sortEntries(es)
	for i, e := range es {
		if i%2 == 1 {
			continue
		}
		if err := c.purge(ctx, e); err != nil {
			return fmt.Errorf("%s: final purge: %w", c.name, err)
		}
	}
	return nil
}
