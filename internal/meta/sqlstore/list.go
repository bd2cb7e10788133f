package sqlstore

import (
	"context"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// List implements meta.Tx. Paging is keyset-based: the cursor holds the
// sort values of the last node returned, so a page costs the same wherever
// it is in the listing, and concurrent inserts never shift or repeat rows.
func (t *tx) List(ctx context.Context, q meta.Query) (meta.Page, error) {
	const op = "meta.List"
	where := []string{"n.user_id = ?"}
	args := []any{q.UserID}
	if q.Filter != nil {
		w, a, err := filter.Compile(q.Filter)
		if err != nil {
			return meta.Page{}, err
		}
		where = append(where, w)
		args = append(args, a...)
	}
	// A folder listing starts from the folder's links, so it reads that
	// folder's children only, not every node of the user.
	from := "nodes n"
	if q.Parent != "" {
		from = "node_parents pp JOIN nodes n ON n.id = pp.child_id"
		where = append([]string{"pp.parent_id = ?"}, where...)
		args = append([]any{q.Parent}, args...)
	}
	if len(q.Statuses) > 0 {
		where = append(where, "n.status IN ("+placeholders(len(q.Statuses))+")")
		for _, s := range q.Statuses {
			args = append(args, string(s))
		}
	}
	if q.TrashRootsOnly {
		where = append(where, "n.trash_root = n.id")
	}
	base := strings.Join(where, " AND ")

	var total int64
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM "+from+" WHERE "+base, args...).Scan(&total); err != nil {
		return meta.Page{}, drive.Wrap(op, err)
	}

	keys := q.Sort
	cols := make([]string, len(keys))
	for i, k := range keys {
		cols[i] = k.Column
	}
	pageWhere, pageArgs := base, args
	if q.After != nil {
		if len(q.After.Values) != len(keys) {
			return meta.Page{}, drive.E(op, drive.Invalid, "startToken does not match the sort order")
		}
		w, a := afterClause(keys, q.After)
		pageWhere += " AND " + w
		pageArgs = append(append([]any{}, args...), a...)
	}
	order := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		dir := " ASC"
		if k.Desc {
			dir = " DESC"
		}
		order = append(order, k.Column+dir)
	}
	order = append(order, "n.id ASC")
	limit := q.Limit
	if limit <= 0 {
		limit = 200
	}
	sel := "SELECT " + nodeCols
	for _, c := range cols {
		sel += ", " + c
	}
	rows, err := t.query(ctx, sel+" FROM "+from+" WHERE "+pageWhere+" ORDER BY "+strings.Join(order, ", ")+" LIMIT ?",
		append(pageArgs, limit+1)...)
	if err != nil {
		return meta.Page{}, drive.Wrap(op, err)
	}
	defer rows.Close()
	page := meta.Page{Nodes: []*drive.Node{}, Total: total}
	var lastVals []any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n, err := scanNode(rows, ptrs...)
		if err != nil {
			return meta.Page{}, drive.Wrap(op, err)
		}
		if len(page.Nodes) == limit {
			// One more row exists: the page is not the last.
			last := page.Nodes[len(page.Nodes)-1]
			page.Last = &meta.Cursor{Values: lastVals, ID: last.ID}
			break
		}
		page.Nodes = append(page.Nodes, n)
		lastVals = normalize(vals)
	}
	if err := rows.Err(); err != nil {
		return meta.Page{}, drive.Wrap(op, err)
	}
	rows.Close()
	return page, drive.Wrap(op, t.loadParents(ctx, page.Nodes))
}

// afterClause builds the keyset condition "row sorts after cursor" for a
// mixed-direction sort: (k1 > v1) OR (k1 = v1 AND k2 > v2) ... OR (all
// equal AND id > lastID), with < for descending keys.
func afterClause(keys []filter.SortKey, c *meta.Cursor) (string, []any) {
	var ors []string
	var args []any
	for i := 0; i <= len(keys); i++ {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, keys[j].Column+" = ?")
			args = append(args, c.Values[j])
		}
		if i < len(keys) {
			op := " > ?"
			if keys[i].Desc {
				op = " < ?"
			}
			ands = append(ands, keys[i].Column+op)
			args = append(args, c.Values[i])
		} else {
			ands = append(ands, "n.id > ?")
			args = append(args, c.ID)
		}
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

// normalize turns driver values into int64 or string so cursors survive a
// JSON round trip.
func normalize(vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case []byte:
			out[i] = string(x)
		case int32:
			out[i] = int64(x)
		case int:
			out[i] = int64(x)
		case float64:
			out[i] = int64(x)
		default:
			out[i] = x
		}
	}
	return out
}
