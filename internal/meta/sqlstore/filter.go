package sqlstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
)

// This file translates the domain terms of a meta.Query (the parsed
// filters= expression and the sort fields) into SQL over this package's
// schema: the nodes table under the alias n, node_parents and
// node_labels. It is the one place that knows which column holds which
// field.
//
// A filter compiles to a boolean expression with '?' placeholders that
// both SQLite and PostgreSQL accept: plain comparisons, IN lists, LIKE
// with an explicit ESCAPE '\', LOWER, IN subqueries on node_parents and
// node_labels, and IS NOT TRUE. There is no ILIKE and no JSON function.
//
// description, contentType and extension compare LOWER(column) with the
// value lower-cased by filter.Normalize. SQLite's LOWER folds only ASCII,
// so non-ASCII letters in these fields match case-insensitively on
// PostgreSQL but only exactly on SQLite. name has no such gap: the folded
// key is stored in name_key.

// filterOptions tune compileFilter for one database.
type filterOptions struct {
	// prefixRanges adds, to a name or md5 pattern that starts with
	// literal text (name:abc*), the range it lies in (col >= 'abc' AND
	// col < 'abd'), so that an index on the column serves it: SQLite
	// never uses an index for LIKE ... ESCAPE on a BINARY column. Only
	// for a database that compares these columns byte by byte (SQLite);
	// under another collation the range could leave matches out.
	prefixRanges bool
	// linkArrays writes parents: and labels: as
	// "n.id = ANY (ARRAY(SELECT ...))" (PostgreSQL), an index condition
	// on the node id even inside an OR, where PostgreSQL runs
	// "n.id IN (SELECT ...)" as a filter over every node of the user.
	linkArrays bool
}

// filterOptionsFor returns the options for dialect d: SQLite compares
// text byte by byte (BINARY), so name:abc* can take a range of an index;
// PostgreSQL finds LIKE 'abc%' in an index itself (C collation; see the
// migrations for others).
func filterOptionsFor(d *Dialect) filterOptions {
	return filterOptions{prefixRanges: d.Name == "sqlite", linkArrays: d.Name == "postgres"}
}

// compileFilter translates e into a boolean SQL expression over the
// nodes table under the alias n, with one '?' placeholder per element of
// args (rebind turns them into $1, $2, ... for PostgreSQL). The
// expression is fully parenthesised, and the SQL text contains no '?'
// other than the placeholders.
//
// A nil e compiles to "(1=1)", so the result can always be ANDed into a
// WHERE clause. compileFilter does not add the default status =
// AVAILABLE restriction (the caller's Query.Statuses does).
//
// It fails only on an Expr that filter.Parse would not have produced (an
// unknown field, a bad value); the error is a drive.Invalid *drive.Error
// with Param "filters".
func compileFilter(e filter.Expr, o filterOptions) (where string, args []any, err error) {
	if e == nil {
		return "(1=1)", nil, nil
	}
	c := filterCompiler{opts: o}
	if err := c.expr(e); err != nil {
		if de := drive.AsError(err); de != nil {
			return "", nil, err
		}
		return "", nil, &drive.Error{Op: "meta.List", Kind: drive.Invalid, Param: "filters", Message: err.Error()}
	}
	return string(c.buf), c.args, nil
}

type filterCompiler struct {
	buf  []byte
	args []any
	opts filterOptions
}

func (c *filterCompiler) str(s string) { c.buf = append(c.buf, s...) }

func (c *filterCompiler) arg(v any) { c.args = append(c.args, v) }

func (c *filterCompiler) expr(e filter.Expr) error {
	switch e := e.(type) {
	case filter.And:
		return c.list([]filter.Expr(e), " AND ", "(1=1)")
	case filter.Or:
		return c.list([]filter.Expr(e), " OR ", "(1=0)")
	case filter.Not:
		// IS NOT TRUE rather than NOT: a NULL (say, the size of a
		// folder) counts as no match, so the negation matches it.
		c.str("(")
		if err := c.expr(e.X); err != nil {
			return err
		}
		c.str(" IS NOT TRUE)")
		return nil
	case filter.Term:
		cond, err := filter.Resolve(e)
		if err != nil {
			return err
		}
		return c.cond(cond)
	case nil:
		return errors.New("nil expression")
	}
	return fmt.Errorf("unsupported expression %T", e)
}

func (c *filterCompiler) list(xs []filter.Expr, sep, empty string) error {
	if len(xs) == 0 {
		c.str(empty)
		return nil
	}
	c.str("(")
	for i, x := range xs {
		if i > 0 {
			c.str(sep)
		}
		if err := c.expr(x); err != nil {
			return err
		}
	}
	c.str(")")
	return nil
}

// filterColumns maps the fields compared by value to their SQL
// expression over n; indexed marks a plain column with an index, for
// which prefixRanges helps (name_key and md5 lead the user's name and md5
// indexes).
var filterColumns = map[string]struct {
	col     string
	indexed bool
}{
	filter.FieldKind:        {"n.kind", false},
	filter.FieldStatus:      {"n.status", false},
	filter.FieldID:          {"n.id", false},
	filter.FieldName:        {"n.name_key", true},
	filter.FieldDescription: {"LOWER(n.description)", false},
	filter.FieldMD5:         {"n.md5", true},
	filter.FieldContentType: {"LOWER(n.content_type)", false},
	filter.FieldExtension:   {"LOWER(n.extension)", false},
	filter.FieldSize:        {"n.size", false},
	filter.FieldCreated:     {"n.created_at", false},
	filter.FieldModified:    {"n.modified_at", false},
	filter.FieldContentDate: {"n.content_date", false},
}

// cond compiles one resolved term.
func (c *filterCompiler) cond(t filter.Cond) error {
	switch t.Op {
	case filter.OpAll:
		c.str("(1=1)")
		return nil
	case filter.OpNone:
		c.str("(1=0)")
		return nil
	}
	switch t.Field {
	case filter.FieldIsRoot:
		if v, ok := t.Value.(bool); ok && t.Op == filter.OpEqual {
			if v {
				c.str("(n.is_root = 1)")
			} else {
				c.str("(n.is_root = 0)")
			}
			return nil
		}
		return fmt.Errorf("unsupported condition on field %q", t.Field)
	// parents and labels are "id IN (ids with that link)" rather than a
	// correlated EXISTS: the same rows, but an index term, so that a
	// database can start from the few links instead of testing every
	// node, also inside an OR (SQLite's multi-index OR).
	case filter.FieldParents:
		return c.link("SELECT p.child_id FROM node_parents p WHERE p.parent_id = ?", t)
	case filter.FieldLabels:
		return c.link("SELECT l.node_id FROM node_labels l WHERE l.label = ?", t)
	}
	fc, ok := filterColumns[t.Field]
	if !ok {
		return fmt.Errorf("unknown field %q", t.Field)
	}
	col := fc.col
	switch t.Op {
	case filter.OpEqual:
		c.str("(" + col + " = ?)")
		c.arg(t.Value)
	case filter.OpIn:
		c.str("(" + col + " IN (")
		for i, v := range t.Values {
			if i > 0 {
				c.str(", ")
			}
			c.str("?")
			c.arg(v)
		}
		c.str("))")
	case filter.OpLike:
		c.like(col, fc.indexed, t.Pattern)
	case filter.OpRange:
		c.str("(")
		switch {
		case t.Lo == nil && t.Hi == nil:
			c.str(col + " IS NOT NULL")
		case t.Lo != nil:
			c.str(col + cmpOp(false, t.LoInclusive) + "?")
			c.arg(*t.Lo)
			if t.Hi != nil {
				c.str(" AND ")
			}
		}
		if t.Hi != nil {
			c.str(col + cmpOp(true, t.HiInclusive) + "?")
			c.arg(*t.Hi)
		}
		c.str(")")
	default:
		return fmt.Errorf("unsupported condition on field %q", t.Field)
	}
	return nil
}

// link compiles parents: or labels:, "the node's id is among those sub
// selects"; sub holds one placeholder.
func (c *filterCompiler) link(sub string, t filter.Cond) error {
	if t.Op != filter.OpEqual {
		return fmt.Errorf("unsupported condition on field %q", t.Field)
	}
	if c.opts.linkArrays {
		c.str("(n.id = ANY (ARRAY(" + sub + ")))")
	} else {
		c.str("(n.id IN (" + sub + "))")
	}
	c.arg(t.Value)
	return nil
}

// like compiles a wildcard pattern of normalised parts into LIKE; indexed
// says col is a plain column with an index (see prefixRanges).
func (c *filterCompiler) like(col string, indexed bool, pattern []string) {
	if prefix := pattern[0]; indexed && c.opts.prefixRanges && prefix != "" {
		c.str("(" + col + " >= ? AND ")
		c.arg(prefix)
		if next, ok := nextPrefix(prefix); ok {
			c.str(col + " < ? AND ")
			c.arg(next)
		}
		defer c.str(")")
	}
	var b strings.Builder
	for i, part := range pattern {
		if i > 0 {
			b.WriteByte('%')
		}
		for _, r := range part {
			switch r {
			case '\\', '%', '_':
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	c.str("(" + col + ` LIKE ? ESCAPE '\')`)
	c.arg(b.String())
}

// nextPrefix returns the least string greater than every string that
// starts with p, byte by byte, or false when there is none (p is all
// 0xFF bytes).
func nextPrefix(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xFF {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// cmpOp is the comparison of a column with a lower (upper == false) or
// upper bound.
func cmpOp(upper, inclusive bool) string {
	switch {
	case upper && inclusive:
		return " <= "
	case upper:
		return " < "
	case inclusive:
		return " >= "
	}
	return " > "
}

// sortColumn returns the SQL expression over n that orders a sort field
// and that keyset pagination compares. It is never NULL: a missing name
// sorts as ”, a missing size as -1, a missing content date as 0 (so
// cursors hold these values too).
func sortColumn(field string) (string, bool) {
	switch field {
	case filter.FieldName:
		return "COALESCE(n.name_key, '')", true
	case filter.FieldCreated:
		return "n.created_at", true
	case filter.FieldModified:
		return "n.modified_at", true
	case filter.FieldSize:
		return "COALESCE(n.size, -1)", true
	case filter.FieldContentDate:
		return "COALESCE(n.content_date, 0)", true
	case filter.FieldKind:
		return "n.kind", true
	case filter.FieldID:
		return "n.id", true
	}
	return "", false
}
