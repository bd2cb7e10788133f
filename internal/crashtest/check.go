package crashtest

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	_ "modernc.org/sqlite" // read-only access to meta.db

	"github.com/clouddrive/clouddrive/acd"
)

func sortEntries(es []*entry) {
	sort.Slice(es, func(i, j int) bool { return es[i].ID < es[j].ID })
}

// violations collects invariant violations of one check.
type violations []string

func (v *violations) addf(format string, args ...any) {
	*v = append(*v, fmt.Sprintf(format, args...))
}

// fetch reads the state of one node through the API; nil means 404.
func (c *client) fetch(ctx context.Context, id string) (*entry, error) {
	var n acd.Node
	st, raw, err := c.do(ctx, "GET", "/drive/v1/nodes/"+id, nil, "", &n)
	if err != nil {
		return nil, err
	}
	if st == http.StatusNotFound {
		return nil, nil
	}
	if st != http.StatusOK {
		return nil, fmt.Errorf("GET node %s: %d %s", id, st, raw)
	}
	e := &entry{ID: n.ID, Name: n.Name, Status: n.Status}
	e.setParents(n.Parents...)
	if cp := n.ContentProperties; cp != nil {
		e.MD5, e.Size = cp.MD5, cp.Size
	}
	var props acd.Properties
	st, raw, err = c.do(ctx, "GET", "/drive/v1/nodes/"+id+"/properties/"+owner, nil, "", &props)
	if err != nil {
		return nil, err
	}
	if st != http.StatusOK {
		return nil, fmt.Errorf("GET properties %s: %d %s", id, st, raw)
	}
	e.Props = props.Data
	if e.Props == nil {
		e.Props = map[string]string{}
	}
	return e, nil
}

// sameEntry compares what the API shows of two files.
func sameEntry(a, b *entry) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID && a.Name == b.Name && slices.Equal(a.Parents, b.Parents) && a.Status == b.Status &&
		a.MD5 == b.MD5 && a.Size == b.Size && maps.Equal(a.Props, b.Props)
}

func (e *entry) String() string {
	if e == nil {
		return "<absent>"
	}
	return fmt.Sprintf("{%s %q parents=%v %s md5=%s size=%d props=%v}", e.ID, e.Name, e.Parents, e.Status, e.MD5, e.Size, e.Props)
}

// folderStatus reads the status of a folder through the API.
func (c *client) folderStatus(ctx context.Context, id string) (string, error) {
	var n acd.Node
	st, raw, err := c.do(ctx, "GET", "/drive/v1/nodes/"+id, nil, "", &n)
	if err != nil {
		return "", err
	}
	if st != http.StatusOK {
		return "", fmt.Errorf("GET folder %s: %d %s", id, st, raw)
	}
	return n.Status, nil
}

// listFolder returns every AVAILABLE and TRASH child of a folder.
func (c *client) listFolder(ctx context.Context, folder string) ([]acd.Node, error) {
	var out []acd.Node
	token := ""
	for range 1000 {
		q := url.Values{"filters": {"status:AVAILABLE OR status:TRASH"}, "limit": {"200"}}
		if token != "" {
			q.Set("startToken", token)
		}
		var page acd.NodeList
		st, raw, err := c.do(ctx, "GET", "/drive/v1/nodes/"+folder+"/children?"+q.Encode(), nil, "", &page)
		if err != nil {
			return nil, err
		}
		if st != http.StatusOK {
			return nil, fmt.Errorf("list %s: %d %s", folder, st, raw)
		}
		for _, n := range page.Data {
			out = append(out, *n)
		}
		if page.NextToken == "" {
			return out, nil
		}
		token = page.NextToken
	}
	return nil, fmt.Errorf("list %s: too many pages", folder)
}

// verify checks the client's model against the server after a restart,
// first resolving the request whose outcome was unknown. maxDownload
// bounds the bytes downloaded to verify contents.
func (c *client) verify(ctx context.Context, v *violations, maxDownload int64) error {
	var listed []acd.Node
	for _, f := range c.folders {
		ns, err := c.listFolder(ctx, f)
		if err != nil {
			return err
		}
		listed = append(listed, ns...)
	}
	if p := c.pending; p != nil {
		c.pending = nil
		if err := c.resolve(ctx, p, listed, v); err != nil {
			return err
		}
	}
	for i, f := range c.folders {
		st, err := c.folderStatus(ctx, f)
		if err != nil {
			return err
		}
		if st != c.fstatus[i] {
			v.addf("%s: acknowledged state lost: folder %s is %s, want %s", c.name, f, st, c.fstatus[i])
			c.fstatus[i] = st
		}
	}
	ids := slices.Sorted(maps.Keys(c.nodes))
	for _, id := range ids {
		want := c.nodes[id]
		got, err := c.fetch(ctx, id)
		if err != nil {
			return err
		}
		if !sameEntry(got, want) {
			v.addf("%s: acknowledged state lost: node %s is %v, want %v", c.name, id, got, want)
		}
	}
	for _, n := range listed {
		if c.nodes[n.ID] == nil {
			v.addf("%s: folder holds node %s (%q, %s) that no acknowledged or in-flight write made", c.name, n.ID, n.Name, n.Status)
		}
	}
	checked := 0
	for id := range c.purged {
		if checked == 20 {
			break
		}
		checked++
		got, err := c.fetch(ctx, id)
		if err != nil {
			return err
		}
		if got != nil {
			v.addf("%s: purged node %s is back: %v", c.name, id, got)
		}
	}
	var budget int64 = maxDownload
	for _, id := range ids {
		e := c.nodes[id]
		if e.Status != "AVAILABLE" || e.Size > budget {
			continue
		}
		budget -= e.Size
		req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/cdproxy/nodes/"+id+"/content", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.hc.Do(req)
		if err != nil {
			return err
		}
		h := md5.New()
		n, err := io.Copy(h, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || n != e.Size || hex.EncodeToString(h.Sum(nil)) != e.MD5 {
			v.addf("%s: download of %s: status %d, %d bytes md5 %x; want %d bytes md5 %s", c.name, id, resp.StatusCode, n, h.Sum(nil), e.Size, e.MD5)
		}
	}
	return nil
}

// resolve settles a request whose outcome was unknown: everything it
// touches must be exactly as before it or exactly as after it.
func (c *client) resolve(ctx context.Context, p *pending, listed []acd.Node, v *violations) error {
	if p.kind == opUpload {
		for _, n := range listed {
			if n.Name != p.name {
				continue
			}
			got, err := c.fetch(ctx, n.ID)
			if err != nil {
				return err
			}
			want := p.upload.clone()
			want.ID = n.ID
			if !sameEntry(got, want) {
				v.addf("%s: in-flight upload %q appeared as %v, want %v", c.name, p.name, got, want)
			}
			c.nodes[n.ID] = want
			c.byKind["upload (in flight, committed)"]++
		}
		return nil
	}
	// Read what the change touches.
	got := map[string]*entry{}
	for id := range p.ch.files {
		e, err := c.fetch(ctx, id)
		if err != nil {
			return err
		}
		got[id] = e
	}
	folderGot := ""
	if p.ch.folder >= 0 {
		st, err := c.folderStatus(ctx, c.folders[p.ch.folder])
		if err != nil {
			return err
		}
		folderGot = st
	}
	matches := func(after bool) bool {
		if p.ch.folder >= 0 {
			want := c.fstatus[p.ch.folder]
			if after {
				want = p.ch.status
			}
			if folderGot != want {
				return false
			}
		}
		for id, e := range got {
			want := c.nodes[id]
			if after {
				want = p.ch.files[id]
			}
			if !sameEntry(e, want) {
				return false
			}
		}
		return true
	}
	switch {
	case matches(false):
	case matches(true):
		c.byKind[p.kind+" (in flight, committed)"]++
		c.apply(p.ch)
	default:
		var b strings.Builder
		if p.ch.folder >= 0 {
			fmt.Fprintf(&b, " folder %s: %s (before %s, after %s);", c.folders[p.ch.folder], folderGot, c.fstatus[p.ch.folder], p.ch.status)
		}
		for id, e := range got {
			fmt.Fprintf(&b, " node %s: %v (before %v, after %v);", id, e, c.nodes[id], p.ch.files[id])
		}
		v.addf("%s: in-flight %s was applied in part or wrongly:%s", c.name, p.kind, b.String())
		// Adopt what is there, to check the rest of the run against it.
		for id, e := range got {
			if e == nil {
				delete(c.nodes, id)
				c.purged[id] = true
			} else {
				if old := c.nodes[id]; old != nil {
					e.TrashRoot = old.TrashRoot
				}
				c.nodes[id] = e
			}
		}
		if p.ch.folder >= 0 {
			c.fstatus[p.ch.folder] = folderGot
		}
	}
	return nil
}

// row is a node as stored in meta.db or as replayed from the changes feed.
type row struct {
	ID, UserID, Kind, Name, Status string
	Version, ChangeSeq             int64
	Parents                        string // sorted, comma-separated
	BlobKey, MD5                   string
	Size                           int64
}

// same compares what the changes feed carries.
func (r row) same(o row) bool {
	return r.ID == o.ID && r.Kind == o.Kind && r.Name == o.Name && r.Status == o.Status && r.Version == o.Version &&
		r.Parents == o.Parents && r.MD5 == o.MD5 && r.Size == o.Size
}

// dbState is what the check reads from meta.db and the blob directory.
type dbState struct {
	nodes map[string]row  // every row, PURGED tombstones included
	blobs map[string]bool // keys of the blob files
	refs  map[string]bool // blob keys referenced by some node
}

// openDB opens meta.db read-only.
func openDB(dataDir string) (*sql.DB, error) {
	dsn := "file:" + filepath.Join(dataDir, "meta.db") + "?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// checkStore reads meta.db and the blob directory and checks the storage
// invariants. It runs while no client writes.
func checkStore(ctx context.Context, dataDir string, v *violations) (*dbState, error) {
	db, err := openDB(dataDir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	st := &dbState{nodes: map[string]row{}, blobs: map[string]bool{}, refs: map[string]bool{}}
	rows, err := tx.QueryContext(ctx, `SELECT n.id, n.user_id, n.kind, COALESCE(n.name, ''), n.status, n.version, n.change_seq,
		COALESCE(n.blob_key, ''), COALESCE(n.md5, ''), COALESCE(n.size, 0),
		COALESCE((SELECT group_concat(parent_id, ',') FROM (SELECT parent_id FROM node_parents p WHERE p.child_id = n.id ORDER BY parent_id)), '')
		FROM nodes n`)
	if err != nil {
		return nil, fmt.Errorf("read nodes: %w", err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.ID, &r.UserID, &r.Kind, &r.Name, &r.Status, &r.Version, &r.ChangeSeq, &r.BlobKey, &r.MD5, &r.Size, &r.Parents); err != nil {
			rows.Close()
			return nil, err
		}
		st.nodes[r.ID] = r
		if r.BlobKey != "" {
			st.refs[r.BlobKey] = true
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}

	// Every mutation appends one change record in its transaction: the
	// node's current change number must have the record naming it, and no
	// two nodes of a user share a number.
	for _, q := range []struct{ what, sql string }{
		{"nodes whose change number has no change record naming them", `SELECT COUNT(*) FROM nodes n WHERE n.change_seq > 0 AND NOT EXISTS
			(SELECT 1 FROM changes c WHERE c.user_id = n.user_id AND c.seq = n.change_seq AND c.node_id = n.id)`},
		{"change numbers held by several nodes", `SELECT COUNT(*) FROM (SELECT 1 FROM nodes GROUP BY user_id, change_seq HAVING COUNT(*) > 1)`},
		{"nodes with a change number above their user's counter", `SELECT COUNT(*) FROM nodes n JOIN users u ON u.id = n.user_id WHERE n.change_seq > u.change_seq`},
		{"change records above their user's counter", `SELECT COUNT(*) FROM changes c JOIN users u ON u.id = c.user_id WHERE c.seq > u.change_seq`},
		{"parent links of purged nodes or to missing parents", `SELECT COUNT(*) FROM node_parents p LEFT JOIN nodes c ON c.id = p.child_id
			LEFT JOIN nodes pn ON pn.id = p.parent_id WHERE c.id IS NULL OR pn.id IS NULL OR c.status = 'PURGED'`},
		{"live flags that disagree with the child's status", `SELECT COUNT(*) FROM node_parents p JOIN nodes c ON c.id = p.child_id
			WHERE p.live <> CASE WHEN c.status = 'AVAILABLE' THEN 1 ELSE 0 END`},
		// The quota counter is kept in the write transaction: it must
		// equal what a scan of the user's files gives.
		{"users whose used-bytes counter differs from their files", `SELECT COUNT(*) FROM users u WHERE u.used_bytes <>
			(SELECT COALESCE(SUM(size), 0) FROM nodes n WHERE n.user_id = u.id AND n.kind = 'FILE' AND n.status <> 'PURGED')
			OR u.used_files <> (SELECT COUNT(*) FROM nodes n WHERE n.user_id = u.id AND n.kind = 'FILE' AND n.status <> 'PURGED')`},
		// The webhook outbox is written with the change: no delivery
		// without its event.
		{"webhook deliveries without their event", `SELECT COUNT(*) FROM webhook_deliveries d
			WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.id = d.event_id)`},
	} {
		var n int
		if err := tx.QueryRowContext(ctx, q.sql).Scan(&n); err != nil {
			return nil, fmt.Errorf("%s: %w", q.what, err)
		}
		if n != 0 {
			v.addf("meta.db: %d %s", n, q.what)
		}
	}

	type blobInfo struct {
		size int64
		md5  string
	}
	infos := map[string]blobInfo{}
	blobDir := filepath.Join(dataDir, "blobs")
	err = filepath.WalkDir(blobDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(blobDir, path)
		if d.IsDir() {
			return nil
		}
		if strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) {
			v.addf("blobs: temporary file %s left while no upload runs", rel)
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sh, mh := sha256.New(), md5.New()
		n, err := io.Copy(io.MultiWriter(sh, mh), f)
		if err != nil {
			return err
		}
		key := d.Name()
		if got := hex.EncodeToString(sh.Sum(nil)); got != key {
			v.addf("blobs: %s holds bytes with SHA-256 %s (%d bytes): a corrupt or partial blob", rel, got, n)
		}
		st.blobs[key] = true
		infos[key] = blobInfo{size: n, md5: hex.EncodeToString(mh.Sum(nil))}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk blobs: %w", err)
	}
	for _, r := range st.nodes {
		if r.Kind != "FILE" || r.Status == "PURGED" {
			continue
		}
		b, ok := infos[r.BlobKey]
		switch {
		case r.BlobKey == "":
			v.addf("meta.db: file %s (%s) has no blob key", r.ID, r.Status)
		case !ok:
			v.addf("meta.db: file %s (%s) points at missing blob %s", r.ID, r.Status, r.BlobKey)
		case b.size != r.Size || b.md5 != r.MD5:
			v.addf("meta.db: file %s says %d bytes md5 %s, its blob %s has %d bytes md5 %s", r.ID, r.Size, r.MD5, r.BlobKey, b.size, b.md5)
		}
	}
	return st, nil
}

// replica is a client-side copy of one user's nodes, kept up to date
// through the changes feed across restarts.
type replica struct {
	checkpoint string
	nodes      map[string]row
}

// sync applies the changes after the replica's checkpoint (all of them
// when it has none).
func (r *replica) sync(ctx context.Context, c *client) error {
	body := map[string]any{"includePurged": "true"}
	if r.checkpoint != "" {
		body["checkpoint"] = r.checkpoint
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/drive/v1/changes", c.jsonBody(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("changes: %d %s", resp.StatusCode, raw)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var end acd.ChangesEnd
		if json.Unmarshal(line, &end) == nil && end.End {
			return nil
		}
		var set acd.ChangeSet
		if err := json.Unmarshal(line, &set); err != nil {
			return fmt.Errorf("changes: bad line %q: %w", line, err)
		}
		if set.Reset || r.nodes == nil {
			r.nodes = map[string]row{}
		}
		for _, n := range set.Nodes {
			if n.Status == "PURGED" {
				delete(r.nodes, n.ID)
				continue
			}
			ps := slices.Clone(n.Parents)
			slices.Sort(ps)
			x := row{ID: n.ID, Kind: n.Kind, Name: n.Name, Status: n.Status, Version: n.Version, Parents: strings.Join(ps, ",")}
			if cp := n.ContentProperties; cp != nil {
				x.MD5, x.Size = cp.MD5, cp.Size
			}
			r.nodes[n.ID] = x
		}
		r.checkpoint = set.Checkpoint
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return fmt.Errorf("changes: stream ended without the end marker")
}

// compareReplica reports every difference between a replica and the
// user's rows in meta.db that are not PURGED.
func compareReplica(what, userID string, r *replica, st *dbState, v *violations) {
	want := map[string]row{}
	for id, x := range st.nodes {
		if x.UserID == userID && x.Status != "PURGED" {
			want[id] = x
		}
	}
	bad := 0
	for id, x := range want {
		got, ok := r.nodes[id]
		if !ok || !got.same(x) {
			if bad++; bad <= 5 {
				v.addf("%s of user %s: node %s is %+v in the feed, %+v in meta.db (present: %v)", what, userID, id, got, x, ok)
			}
		}
	}
	for id, got := range r.nodes {
		if _, ok := want[id]; !ok {
			if bad++; bad <= 5 {
				v.addf("%s of user %s: feed has node %s (%+v) that meta.db has not (or has PURGED)", what, userID, id, got)
			}
		}
	}
	if bad > 5 {
		v.addf("%s of user %s: %d differences in all", what, userID, bad)
	}
}
