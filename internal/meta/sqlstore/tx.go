package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

type tx struct {
	tx *sql.Tx
	d  *Dialect
	// detached: the transaction is a group commit batch shared with other
	// callers, so a statement is never interrupted when ctx ends (see
	// group.go); one that starts after ctx ended still fails.
	detached bool
	// stmts, if not nil, holds the pool's prepared statements.
	stmts *stmtCache
}

// stmtCtx is the context a statement runs with.
func (t *tx) stmtCtx(ctx context.Context) context.Context {
	if t.detached && ctx.Err() == nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// prepared returns q's prepared statement bound to the transaction, or
// nil.
func (t *tx) prepared(ctx context.Context, q string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	if st := t.stmts.get(q); st != nil {
		return t.tx.StmtContext(ctx, st)
	}
	return nil
}

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = t.stmtCtx(ctx)
	if st := t.prepared(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, rebind(t.d, q), args...)
}

func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.stmtCtx(ctx)
	if st := t.prepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, rebind(t.d, q), args...)
}

func (t *tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = t.stmtCtx(ctx)
	if st := t.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, rebind(t.d, q), args...)
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// ---- users ----

const userCols = `id, name, root_id, epoch, quota, disabled, created_at`

func scanUser(row interface{ Scan(...any) error }) (*drive.User, error) {
	var u drive.User
	var disabled int
	var created int64
	if err := row.Scan(&u.ID, &u.Name, &u.RootID, &u.Epoch, &u.Quota, &disabled, &created); err != nil {
		return nil, err
	}
	u.Disabled = disabled != 0
	u.CreatedAt = fromMS(created)
	return &u, nil
}

func (t *tx) CreateUser(ctx context.Context, u *drive.User, root *drive.Node) error {
	const op = "meta.CreateUser"
	_, err := t.exec(ctx, `INSERT INTO users (id, name, root_id, change_seq, epoch, quota, disabled, created_at)
		VALUES (?, ?, ?, 0, ?, ?, ?, ?)`, u.ID, u.Name, u.RootID, u.Epoch, u.Quota, b2i(u.Disabled), ms(u.CreatedAt))
	if err != nil {
		if t.d.IsUniqueViolation(err) {
			return drive.Errorf(op, drive.Conflict, "user %q already exists", u.Name)
		}
		return drive.Wrap(op, err)
	}
	return t.InsertNode(ctx, root)
}

func (t *tx) userBy(ctx context.Context, op, col, v string) (*drive.User, error) {
	u, err := scanUser(t.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE `+col+` = ?`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, drive.E(op, drive.NotFound, "user not found")
	}
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	return u, nil
}

func (t *tx) User(ctx context.Context, id string) (*drive.User, error) {
	return t.userBy(ctx, "meta.User", "id", id)
}

func (t *tx) UserByName(ctx context.Context, name string) (*drive.User, error) {
	return t.userBy(ctx, "meta.UserByName", "name", name)
}

func (t *tx) Users(ctx context.Context) ([]*drive.User, error) {
	const op = "meta.Users"
	rows, err := t.query(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	defer rows.Close()
	var out []*drive.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, drive.Wrap(op, err)
		}
		out = append(out, u)
	}
	return out, drive.Wrap(op, rows.Err())
}

func (t *tx) UpdateUser(ctx context.Context, u *drive.User) error {
	const op = "meta.UpdateUser"
	res, err := t.exec(ctx, `UPDATE users SET quota = ?, disabled = ? WHERE id = ?`, u.Quota, b2i(u.Disabled), u.ID)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "user not found")
}

func (t *tx) DeleteUser(ctx context.Context, id string) error {
	const op = "meta.DeleteUser"
	// Explicit deletes keep this correct even where cascades are off.
	for _, q := range []string{
		`DELETE FROM properties WHERE node_id IN (SELECT id FROM nodes WHERE user_id = ?)`,
		`DELETE FROM node_labels WHERE node_id IN (SELECT id FROM nodes WHERE user_id = ?)`,
		`DELETE FROM node_parents WHERE user_id = ?`,
		`DELETE FROM changes WHERE user_id = ?`,
		`DELETE FROM node_feed WHERE user_id = ?`,
		`DELETE FROM tokens WHERE user_id = ?`,
		`DELETE FROM nodes WHERE user_id = ?`,
	} {
		if _, err := t.exec(ctx, q, id); err != nil {
			return drive.Wrap(op, err)
		}
	}
	res, err := t.exec(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "user not found")
}

func mustAffect(op string, res sql.Result, msg string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return drive.Wrap(op, err)
	}
	if n == 0 {
		return drive.E(op, drive.NotFound, msg)
	}
	return nil
}

// ---- change counter ----

func (t *tx) NextSeq(ctx context.Context, userID string) (int64, error) {
	const op = "meta.NextSeq"
	var seq int64
	err := t.queryRow(ctx, `UPDATE users SET change_seq = change_seq + 1 WHERE id = ? RETURNING change_seq`, userID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, drive.E(op, drive.NotFound, "user not found")
	}
	return seq, drive.Wrap(op, err)
}

func (t *tx) CurrentSeq(ctx context.Context, userID string) (int64, error) {
	const op = "meta.CurrentSeq"
	var seq int64
	err := t.queryRow(ctx, `SELECT change_seq FROM users WHERE id = ?`, userID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, drive.E(op, drive.NotFound, "user not found")
	}
	return seq, drive.Wrap(op, err)
}

// ---- nodes ----

const nodeCols = `n.id, n.user_id, n.kind, n.name, n.status, n.is_root, n.description, n.labels,
	n.created_at, n.modified_at, n.created_by, n.version, n.change_seq, n.trash_root,
	n.blob_key, n.size, n.md5, n.content_type, n.extension, n.content_version, n.content_date, n.media, n.mtime`

func scanNode(row interface{ Scan(...any) error }, extra ...any) (*drive.Node, error) {
	var (
		n                                     drive.Node
		name, trashRoot, blobKey, md5, ct, ex sql.NullString
		size, cver, cdate, mtime              sql.NullInt64
		mediaJSON                             sql.NullString
		isRoot                                int
		labels                                string
		created, modified                     int64
		kind, status                          string
	)
	dest := []any{&n.ID, &n.UserID, &kind, &name, &status, &isRoot, &n.Description, &labels,
		&created, &modified, &n.CreatedBy, &n.Version, &n.ChangeSeq, &trashRoot,
		&blobKey, &size, &md5, &ct, &ex, &cver, &cdate, &mediaJSON, &mtime}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	n.Kind = drive.NodeKind(kind)
	n.Status = drive.Status(status)
	n.Name = name.String
	n.IsRoot = isRoot != 0
	n.CreatedAt = fromMS(created)
	n.ModifiedAt = fromMS(modified)
	n.TrashRoot = trashRoot.String
	// Most nodes have no labels; skip the JSON decoder for them (it is a
	// measurable share of a large changes or listing read).
	if labels == "[]" || labels == "" {
		n.Labels = []string{}
	} else if err := json.Unmarshal([]byte(labels), &n.Labels); err != nil || n.Labels == nil {
		n.Labels = []string{}
	}
	if n.Kind == drive.KindFile {
		n.Content = &drive.Content{
			BlobKey:     blobKey.String,
			Size:        size.Int64,
			MD5:         md5.String,
			ContentType: ct.String,
			Extension:   ex.String,
			Version:     cver.Int64,
			ContentDate: fromMS(cdate.Int64),
		}
		if mtime.Valid { // 0 is the Unix epoch here, not "none"
			n.Content.ModTime = time.UnixMilli(mtime.Int64).UTC()
		}
		scanMedia(n.Content, mediaJSON)
	}
	n.Parents = []string{}
	return &n, nil
}

func (t *tx) Node(ctx context.Context, userID, id string) (*drive.Node, error) {
	const op = "meta.Node"
	n, err := scanNode(t.queryRow(ctx, `SELECT `+nodeCols+` FROM nodes n WHERE n.id = ? AND n.user_id = ?`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, drive.E(op, drive.NotFound, "node not found")
	}
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	if err := t.loadParents(ctx, []*drive.Node{n}); err != nil {
		return nil, drive.Wrap(op, err)
	}
	return n, nil
}

// loadParents fills Parents of every node with one query per 500 nodes.
// Parents are sorted by id, byte by byte whatever the database's
// collation, as the wire column renders them (storedForm).
func (t *tx) loadParents(ctx context.Context, nodes []*drive.Node) error {
	for start := 0; start < len(nodes); start += 500 {
		batch := nodes[start:min(start+500, len(nodes))]
		byID := make(map[string]*drive.Node, len(batch))
		args := make([]any, len(batch))
		for i, n := range batch {
			byID[n.ID] = n
			args[i] = n.ID
		}
		rows, err := t.query(ctx, `SELECT child_id, parent_id FROM node_parents WHERE child_id IN (`+
			placeholders(len(batch))+`) ORDER BY child_id, parent_id`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c, p string
			if err := rows.Scan(&c, &p); err != nil {
				rows.Close()
				return err
			}
			if n := byID[c]; n != nil {
				n.Parents = append(n.Parents, p)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, n := range batch {
			if len(n.Parents) > 1 {
				slices.Sort(n.Parents)
			}
		}
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func nodeArgs(n *drive.Node) []any {
	labels, _ := json.Marshal(n.Labels)
	if n.Labels == nil {
		labels = []byte("[]")
	}
	var name, nameKey sql.NullString
	if !n.IsRoot {
		name = sql.NullString{String: n.Name, Valid: true}
		nameKey = sql.NullString{String: drive.NameKey(n.Name), Valid: true}
	}
	var blobKey, md5, ct, ex sql.NullString
	var size, cver, cdate, mtime sql.NullInt64
	var mediaJSON sql.NullString
	if c := n.Content; c != nil && n.Kind == drive.KindFile {
		blobKey, md5, ct, ex = nullStr(c.BlobKey), nullStr(c.MD5), nullStr(c.ContentType), nullStr(c.Extension)
		size = sql.NullInt64{Int64: c.Size, Valid: true}
		cver = sql.NullInt64{Int64: c.Version, Valid: true}
		cdate = sql.NullInt64{Int64: ms(c.ContentDate), Valid: !c.ContentDate.IsZero()}
		mediaJSON = mediaArg(c)
		mtime = sql.NullInt64{Int64: ms(c.ModTime), Valid: !c.ModTime.IsZero()}
	}
	return []any{n.UserID, string(n.Kind), name, nameKey, string(n.Status), b2i(n.IsRoot), n.Description, string(labels),
		ms(n.CreatedAt), ms(n.ModifiedAt), n.CreatedBy, n.Version, n.ChangeSeq, nullStr(n.TrashRoot),
		blobKey, size, md5, ct, ex, cver, cdate, mediaJSON, mtime}
}

func (t *tx) InsertNode(ctx context.Context, n *drive.Node) error {
	const op = "meta.InsertNode"
	wire, wireSeq, err := t.wireArgs(n)
	if err != nil {
		return drive.Wrap(op, err)
	}
	args := append(append([]any{n.ID}, nodeArgs(n)...), wireSeq)
	_, err = t.exec(ctx, `INSERT INTO nodes (id, user_id, kind, name, name_key, status, is_root, description, labels,
		created_at, modified_at, created_by, version, change_seq, trash_root,
		blob_key, size, md5, content_type, extension, content_version, content_date, media, mtime, wire_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		if t.d.IsUniqueViolation(err) {
			return drive.E(op, drive.Conflict, "node already exists", err)
		}
		return drive.Wrap(op, err)
	}
	if err := t.putFeed(ctx, n, wire, sql.NullInt64{}); err != nil {
		return drive.Wrap(op, err)
	}
	bytes, files := nodeUsed(n)
	if err := t.addUsed(ctx, n.UserID, bytes, files); err != nil {
		return drive.Wrap(op, err)
	}
	return t.writeLinks(ctx, op, n, false)
}

func (t *tx) SetLocalID(ctx context.Context, userID, nodeID, localID string) error {
	const op = "meta.SetLocalID"
	_, err := t.exec(ctx, `UPDATE nodes SET local_id = ? WHERE id = ? AND user_id = ?`, localID, nodeID, userID)
	if err != nil {
		if t.d.IsUniqueViolation(err) {
			return drive.E(op, drive.Conflict, "localId already used", err)
		}
		return drive.Wrap(op, err)
	}
	return nil
}

func (t *tx) UpdateNode(ctx context.Context, n *drive.Node) error {
	const op = "meta.UpdateNode"
	// The row as it was gives the change in used space. On PostgreSQL
	// (READ COMMITTED) FOR UPDATE keeps it from changing under us until
	// commit; SQLite runs one writer at a time.
	lock := ""
	if t.d.Name == "postgres" {
		lock = " FOR UPDATE"
	}
	var oldKind, oldStatus string
	var oldSize, oldWireSeq sql.NullInt64
	err := t.queryRow(ctx, `SELECT kind, status, size, wire_seq FROM nodes WHERE id = ? AND user_id = ?`+lock, n.ID, n.UserID).
		Scan(&oldKind, &oldStatus, &oldSize, &oldWireSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return drive.E(op, drive.NotFound, "node not found")
	}
	if err != nil {
		return drive.Wrap(op, err)
	}
	wire, wireSeq, err := t.wireArgs(n)
	if err != nil {
		return drive.Wrap(op, err)
	}
	args := append(nodeArgs(n)[1:], wireSeq, n.ID, n.UserID)
	res, err := t.exec(ctx, `UPDATE nodes SET kind = ?, name = ?, name_key = ?, status = ?, is_root = ?, description = ?, labels = ?,
		created_at = ?, modified_at = ?, created_by = ?, version = ?, change_seq = ?, trash_root = ?,
		blob_key = ?, size = ?, md5 = ?, content_type = ?, extension = ?, content_version = ?, content_date = ?, media = ?, mtime = ?,
		wire = NULL, wire_seq = ?
		WHERE id = ? AND user_id = ?`, args...)
	if err != nil {
		return drive.Wrap(op, err)
	}
	if err := mustAffect(op, res, "node not found"); err != nil {
		return err
	}
	if err := t.putFeed(ctx, n, wire, oldWireSeq); err != nil {
		return drive.Wrap(op, err)
	}
	oldBytes, oldFiles := used(drive.NodeKind(oldKind), drive.Status(oldStatus), oldSize.Int64)
	bytes, files := nodeUsed(n)
	if err := t.addUsed(ctx, n.UserID, bytes-oldBytes, files-oldFiles); err != nil {
		return drive.Wrap(op, err)
	}
	return t.writeLinks(ctx, op, n, true)
}

// used is what one node counts towards its user's used space: a FILE
// that is not PURGED counts its size and one file, anything else nothing.
// It must agree with the WHERE clause of Usage and with the backfill in
// the used_bytes migrations.
func used(kind drive.NodeKind, status drive.Status, size int64) (bytes, files int64) {
	if kind != drive.KindFile || status == drive.StatusPurged {
		return 0, 0
	}
	return size, 1
}

// nodeUsed is used for n as nodeArgs stores it (a FILE without Content
// has a NULL size, which counts as 0).
func nodeUsed(n *drive.Node) (bytes, files int64) {
	var size int64
	if n.Content != nil {
		size = n.Content.Size
	}
	return used(n.Kind, n.Status, size)
}

// addUsed adds to the user's used-space counter (users.used_bytes and
// used_files); a zero change writes nothing.
func (t *tx) addUsed(ctx context.Context, userID string, bytes, files int64) error {
	if bytes == 0 && files == 0 {
		return nil
	}
	_, err := t.exec(ctx, `UPDATE users SET used_bytes = used_bytes + ?, used_files = used_files + ? WHERE id = ?`, bytes, files, userID)
	return err
}

// writeLinks replaces the parent links and labels of n. A unique violation
// on the live-name index becomes a Conflict naming the existing node.
func (t *tx) writeLinks(ctx context.Context, op string, n *drive.Node, replace bool) error {
	if replace {
		if _, err := t.exec(ctx, `DELETE FROM node_parents WHERE child_id = ?`, n.ID); err != nil {
			return drive.Wrap(op, err)
		}
		if _, err := t.exec(ctx, `DELETE FROM node_labels WHERE node_id = ?`, n.ID); err != nil {
			return drive.Wrap(op, err)
		}
	}
	live := b2i(n.Status == drive.StatusAvailable)
	key := drive.NameKey(n.Name)
	for _, p := range n.Parents {
		// DO NOTHING instead of catching the violation: on PostgreSQL a
		// failed statement aborts the transaction, and the conflicting
		// node must still be looked up for the 409 body.
		res, err := t.exec(ctx, `INSERT INTO node_parents (parent_id, child_id, user_id, name_key, live) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, p, n.ID, n.UserID, key, live)
		if err != nil {
			return drive.Wrap(op, err)
		}
		if added, err := res.RowsAffected(); err != nil {
			return drive.Wrap(op, err)
		} else if added == 0 {
			id, err := t.ChildByName(ctx, p, key)
			if err != nil {
				return err
			}
			if id != "" && id != n.ID {
				return drive.NameConflict(op, p, n.Name, id)
			}
			// Otherwise the same parent was listed twice: one link is enough.
		}
	}
	for _, l := range n.Labels {
		if _, err := t.exec(ctx, `INSERT INTO node_labels (node_id, label) VALUES (?, ?) ON CONFLICT DO NOTHING`, n.ID, l); err != nil {
			return drive.Wrap(op, err)
		}
	}
	return nil
}

func (t *tx) ChildByName(ctx context.Context, parentID, nameKey string) (string, error) {
	return t.oneID(ctx, "meta.ChildByName", `SELECT child_id FROM node_parents WHERE parent_id = ? AND name_key = ? AND live = 1`, parentID, nameKey)
}

func (t *tx) NodeByMD5(ctx context.Context, userID, md5 string) (string, error) {
	return t.oneID(ctx, "meta.NodeByMD5", `SELECT id FROM nodes WHERE user_id = ? AND md5 = ? AND status = 'AVAILABLE' AND kind = 'FILE' ORDER BY id LIMIT 1`, userID, md5)
}

func (t *tx) NodeByLocalID(ctx context.Context, userID, localID string) (string, error) {
	return t.oneID(ctx, "meta.NodeByLocalID", `SELECT id FROM nodes WHERE user_id = ? AND local_id = ?`, userID, localID)
}

func (t *tx) oneID(ctx context.Context, op, q string, args ...any) (string, error) {
	var id string
	err := t.queryRow(ctx, q, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, drive.Wrap(op, err)
}

func (t *tx) Subtree(ctx context.Context, userID, rootID string) ([]meta.Link, error) {
	const op = "meta.Subtree"
	rows, err := t.query(ctx, `WITH RECURSIVE sub(id) AS (
			SELECT child_id FROM node_parents WHERE parent_id = ? AND user_id = ?
			UNION
			SELECT p.child_id FROM node_parents p JOIN sub ON p.parent_id = sub.id
		)
		SELECT c.id, c.status, p.parent_id, pn.status
		FROM sub JOIN nodes c ON c.id = sub.id
		JOIN node_parents p ON p.child_id = c.id
		JOIN nodes pn ON pn.id = p.parent_id
		WHERE c.id <> ?
		ORDER BY c.id, p.parent_id`, rootID, userID, rootID)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	defer rows.Close()
	var out []meta.Link
	for rows.Next() {
		var l meta.Link
		var cs, ps string
		if err := rows.Scan(&l.ChildID, &cs, &l.ParentID, &ps); err != nil {
			return nil, drive.Wrap(op, err)
		}
		l.ChildStatus, l.ParentStatus = drive.Status(cs), drive.Status(ps)
		out = append(out, l)
	}
	return out, drive.Wrap(op, rows.Err())
}

func (t *tx) TrashedWith(ctx context.Context, userID, rootID string) ([]string, error) {
	const op = "meta.TrashedWith"
	rows, err := t.query(ctx, `SELECT id FROM nodes WHERE user_id = ? AND trash_root = ? AND id <> ? ORDER BY id`, userID, rootID, rootID)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, drive.Wrap(op, err)
		}
		ids = append(ids, id)
	}
	return ids, drive.Wrap(op, rows.Err())
}

func (t *tx) Changed(ctx context.Context, userID string, after int64, limit int) ([]*drive.Node, error) {
	const op = "meta.Changed"
	rows, err := t.query(ctx, `SELECT `+nodeCols+` FROM nodes n WHERE n.user_id = ? AND n.change_seq > ? ORDER BY n.change_seq LIMIT ?`, userID, after, limit)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	nodes, err := collectNodes(rows)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	return nodes, drive.Wrap(op, t.loadParents(ctx, nodes))
}

func collectNodes(rows *sql.Rows) ([]*drive.Node, error) {
	defer rows.Close()
	nodes := []*drive.Node{}
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, rows.Err()
}

func (t *tx) AppendChange(ctx context.Context, c drive.Change) error {
	_, err := t.exec(ctx, `INSERT INTO changes (user_id, seq, node_id, event, at) VALUES (?, ?, ?, ?, ?)`,
		c.UserID, c.Seq, c.NodeID, string(c.Event), ms(c.At))
	return drive.Wrap("meta.AppendChange", err)
}

func (t *tx) Usage(ctx context.Context, userID string) (drive.Usage, error) {
	const op = "meta.Usage"
	var u drive.Usage
	rows, err := t.query(ctx, `SELECT
			CASE WHEN content_type LIKE 'image/%' THEN 'photo'
			     WHEN content_type LIKE 'video/%' THEN 'video'
			     WHEN content_type LIKE 'text/%' OR content_type = 'application/pdf' OR content_type LIKE 'application/msword%'
			          OR content_type LIKE 'application/vnd.openxmlformats-officedocument%' OR content_type LIKE 'application/vnd.oasis.opendocument%'
			          OR content_type = 'application/rtf' OR content_type = 'application/epub+zip' THEN 'doc'
			     ELSE 'other' END AS cat,
			COALESCE(SUM(size), 0), COUNT(*)
		FROM nodes WHERE user_id = ? AND kind = 'FILE' AND status <> 'PURGED' GROUP BY cat`, userID)
	if err != nil {
		return u, drive.Wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var cat string
		var c drive.UsageCount
		if err := rows.Scan(&cat, &c.Bytes, &c.Count); err != nil {
			return u, drive.Wrap(op, err)
		}
		switch cat {
		case "photo":
			u.Photo = c
		case "video":
			u.Video = c
		case "doc":
			u.Doc = c
		default:
			u.Other = c
		}
	}
	return u, drive.Wrap(op, rows.Err())
}

func (t *tx) Used(ctx context.Context, userID string) (drive.UsageCount, error) {
	const op = "meta.Used"
	var c drive.UsageCount
	err := t.queryRow(ctx, `SELECT used_bytes, used_files FROM users WHERE id = ?`, userID).Scan(&c.Bytes, &c.Count)
	if errors.Is(err, sql.ErrNoRows) {
		return c, drive.E(op, drive.NotFound, "user not found")
	}
	return c, drive.Wrap(op, err)
}

func (t *tx) BlobReferenced(ctx context.Context, key string) (bool, error) {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM nodes WHERE blob_key = ? LIMIT 1`, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, drive.Wrap("meta.BlobReferenced", err)
}

func (t *tx) LockBlob(ctx context.Context, key string) error {
	if t.d.Name != "postgres" {
		return nil
	}
	_, err := t.exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, key)
	return drive.Wrap("meta.LockBlob", err)
}

// ---- properties ----

func (t *tx) Properties(ctx context.Context, nodeID, owner string) (map[string]string, error) {
	const op = "meta.Properties"
	rows, err := t.query(ctx, `SELECT key, value FROM properties WHERE node_id = ? AND owner = ? ORDER BY key`, nodeID, owner)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, drive.Wrap(op, err)
		}
		out[k] = v
	}
	return out, drive.Wrap(op, rows.Err())
}

func (t *tx) SetProperty(ctx context.Context, nodeID, owner, key, value string) error {
	_, err := t.exec(ctx, `INSERT INTO properties (node_id, owner, key, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (node_id, owner, key) DO UPDATE SET value = excluded.value`, nodeID, owner, key, value)
	return drive.Wrap("meta.SetProperty", err)
}

func (t *tx) PropertyCount(ctx context.Context, nodeID, owner string) (int, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM properties WHERE node_id = ? AND owner = ?`, nodeID, owner).Scan(&n)
	return n, drive.Wrap("meta.PropertyCount", err)
}

func (t *tx) DeleteProperties(ctx context.Context, nodeID string) error {
	_, err := t.exec(ctx, `DELETE FROM properties WHERE node_id = ?`, nodeID)
	return drive.Wrap("meta.DeleteProperties", err)
}

func (t *tx) DeleteProperty(ctx context.Context, nodeID, owner, key string) error {
	const op = "meta.DeleteProperty"
	res, err := t.exec(ctx, `DELETE FROM properties WHERE node_id = ? AND owner = ? AND key = ?`, nodeID, owner, key)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "property not found")
}

// ---- tokens ----

func (t *tx) InsertToken(ctx context.Context, tk *meta.Token) error {
	_, err := t.exec(ctx, `INSERT INTO tokens (hash, user_id, client_id, scope, kind, family, expires_at, revoked, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tk.Hash, tk.UserID, tk.ClientID, tk.Scope, tk.Kind, tk.Family,
		ms(tk.ExpiresAt), b2i(tk.Revoked), ms(tk.CreatedAt))
	return drive.Wrap("meta.InsertToken", err)
}

func (t *tx) Token(ctx context.Context, hash string) (*meta.Token, error) {
	const op = "meta.Token"
	var tk meta.Token
	var exp, created int64
	var revoked int
	err := t.queryRow(ctx, `SELECT hash, user_id, client_id, scope, kind, family, expires_at, revoked, created_at
		FROM tokens WHERE hash = ?`, hash).Scan(&tk.Hash, &tk.UserID, &tk.ClientID, &tk.Scope, &tk.Kind, &tk.Family, &exp, &revoked, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, drive.E(op, drive.NotFound, "token not found")
	}
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	tk.ExpiresAt, tk.CreatedAt, tk.Revoked = fromMS(exp), fromMS(created), revoked != 0
	return &tk, nil
}

func (t *tx) RevokeTokens(ctx context.Context, hash, family string) error {
	var err error
	if family != "" {
		_, err = t.exec(ctx, `UPDATE tokens SET revoked = 1 WHERE family = ?`, family)
	} else {
		_, err = t.exec(ctx, `UPDATE tokens SET revoked = 1 WHERE hash = ?`, hash)
	}
	return drive.Wrap("meta.RevokeTokens", err)
}

// ---- settings ----

func (t *tx) Setting(ctx context.Context, key string) (string, error) {
	v, err := t.oneID(ctx, "meta.Setting", `SELECT value FROM settings WHERE key = ?`, key)
	return v, err
}

func (t *tx) PutSettingIfAbsent(ctx context.Context, key, value string) (string, error) {
	const op = "meta.PutSettingIfAbsent"
	if _, err := t.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return "", drive.Wrap(op, err)
	}
	return t.Setting(ctx, key)
}

func (t *tx) SwapSetting(ctx context.Context, key, old, new string) (bool, error) {
	res, err := t.exec(ctx, `UPDATE settings SET value = ? WHERE key = ? AND value = ?`, new, key, old)
	if err != nil {
		return false, drive.Wrap("meta.SwapSetting", err)
	}
	n, err := res.RowsAffected()
	return n == 1, drive.Wrap("meta.SwapSetting", err)
}
