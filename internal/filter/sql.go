package filter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// Compile translates e into a boolean SQL expression over the nodes table
// under the alias n, with one '?' placeholder per element of args. The
// expression is fully parenthesised and uses only SQL that SQLite and
// PostgreSQL both accept; callers targeting PostgreSQL rewrite the
// placeholders to $1, $2, .... The SQL text contains no '?' other than
// the placeholders.
//
// A nil e compiles to "(1=1)", so the result can always be ANDed into a
// WHERE clause. Compile does not add the default status = AVAILABLE
// restriction; see MentionsStatus.
//
// Compile fails only on an Expr that Parse would not have produced (an
// unknown field, a bad value); the error is a drive.Invalid *drive.Error
// with Param "filters".
func Compile(e Expr) (where string, args []any, err error) {
	return CompileWith(e, Options{})
}

// Options tune Compile for one database.
type Options struct {
	// PrefixRanges adds, to a name or md5 pattern that starts with
	// literal text (name:abc*), the range it lies in (col >= 'abc' AND
	// col < 'abd'), so that an index on the column serves it: SQLite
	// never uses an index for LIKE ... ESCAPE on a BINARY column. Only
	// for a database that compares these columns byte by byte (SQLite);
	// under another collation the range could leave matches out.
	PrefixRanges bool
	// LinkArrays writes parents: and labels: as
	// "n.id = ANY (ARRAY(SELECT ...))" (PostgreSQL), an index condition
	// on the node id even inside an OR, where PostgreSQL runs
	// "n.id IN (SELECT ...)" as a filter over every node of the user.
	LinkArrays bool
}

// CompileWith is Compile with options.
func CompileWith(e Expr, o Options) (where string, args []any, err error) {
	if e == nil {
		return "(1=1)", nil, nil
	}
	c := compiler{opts: o}
	if err := c.expr(e); err != nil {
		return "", nil, &drive.Error{Op: "filter.Compile", Kind: drive.Invalid, Param: "filters", Message: err.Error()}
	}
	return string(c.buf), c.args, nil
}

type compiler struct {
	buf  []byte
	args []any
	opts Options
}

func (c *compiler) reset() {
	c.buf = c.buf[:0]
	c.args = c.args[:0]
}

func (c *compiler) str(s string) { c.buf = append(c.buf, s...) }

func (c *compiler) arg(v any) { c.args = append(c.args, v) }

func (c *compiler) expr(e Expr) error {
	switch e := e.(type) {
	case And:
		return c.list([]Expr(e), " AND ", "(1=1)")
	case Or:
		return c.list([]Expr(e), " OR ", "(1=0)")
	case Not:
		// IS NOT TRUE rather than NOT: a NULL (say, the size of a
		// folder) counts as no match, so the negation matches it.
		c.str("(")
		if err := c.expr(e.X); err != nil {
			return err
		}
		c.str(" IS NOT TRUE)")
		return nil
	case Term:
		return c.term(e)
	case nil:
		return errors.New("nil expression")
	}
	return fmt.Errorf("unsupported expression %T", e)
}

func (c *compiler) list(xs []Expr, sep, empty string) error {
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

// kinds and statuses are the values kind: and status: accept.
func kinds() []string {
	return []string{string(drive.KindFile), string(drive.KindFolder), string(drive.KindAsset)}
}

func statuses() []string {
	return []string{string(drive.StatusAvailable), string(drive.StatusTrash), string(drive.StatusPurged), string(drive.StatusPending)}
}

// term compiles one Term. Its errors become Parse error messages, so they
// name the field and the value.
func (c *compiler) term(t Term) error {
	switch {
	case t.Range != nil && t.Pattern != nil:
		return fmt.Errorf("term for field %q has both a pattern and a range", t.Field)
	case t.Range == nil && len(t.Pattern) == 0:
		return fmt.Errorf("term for field %q has no value", t.Field)
	}
	switch t.Field {
	case FieldKind:
		return c.enum("n.kind", t, kinds())
	case FieldStatus:
		return c.enum("n.status", t, statuses())
	case FieldIsRoot:
		v, err := boolValue(t)
		if err != nil {
			return err
		}
		if v {
			c.str("(n.is_root = 1)")
		} else {
			c.str("(n.is_root = 0)")
		}
		return nil
	case FieldHidden:
		// Nodes have no hidden setting: every node is not hidden.
		v, err := boolValue(t)
		if err != nil {
			return err
		}
		if v {
			c.str("(1=0)")
		} else {
			c.str("(1=1)")
		}
		return nil
	case FieldID:
		return c.exact("(n.id = ?)", t)
	// parents and labels are "id IN (ids with that link)" rather than a
	// correlated EXISTS: the same rows, but an index term, so that a
	// database can start from the few links instead of testing every
	// node, also inside an OR (SQLite's multi-index OR).
	case FieldParents:
		return c.exact(c.link("SELECT p.child_id FROM node_parents p WHERE p.parent_id = ?"), t)
	case FieldLabels:
		return c.exact(c.link("SELECT l.node_id FROM node_labels l WHERE l.label = ?"), t)
	case FieldName:
		return c.text("n.name_key", true, drive.NameKey, t)
	case FieldDescription:
		return c.text("LOWER(n.description)", false, strings.ToLower, t)
	case FieldMD5:
		return c.text("n.md5", true, strings.ToLower, t)
	case FieldContentType:
		return c.text("LOWER(n.content_type)", false, strings.ToLower, t)
	case FieldExtension:
		return c.text("LOWER(n.extension)", false, strings.ToLower, t)
	case FieldSize:
		return c.size("n.size", t)
	case FieldCreated:
		return c.date("n.created_at", t)
	case FieldModified:
		return c.date("n.modified_at", t)
	case FieldContentDate:
		return c.date("n.content_date", t)
	}
	return fmt.Errorf("unknown field %q", t.Field)
}

// link is the condition "the node's id is among those sub selects".
func (c *compiler) link(sub string) string {
	if c.opts.LinkArrays {
		return "(n.id = ANY (ARRAY(" + sub + ")))"
	}
	return "(n.id IN (" + sub + "))"
}

// termError is a bad value: msg says what is wrong, want what would be
// right. Parse puts the offset between the two.
type termError struct {
	msg, want string
}

func (e *termError) Error() string { return e.msg + ": " + e.want }

// single returns the value of a term that accepts neither wildcards nor
// ranges.
func single(t Term) (string, error) {
	if t.Range != nil {
		return "", fmt.Errorf("field %q does not accept a range", t.Field)
	}
	v, ok := t.Exact()
	if !ok {
		return "", fmt.Errorf("field %q does not accept wildcards", t.Field)
	}
	return v, nil
}

func boolValue(t Term) (bool, error) {
	v, err := single(t)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &termError{fmt.Sprintf("invalid value %q for field %q", v, t.Field), "want true or false"}
}

// exact compiles a field that is matched exactly and case-sensitively;
// sql holds one placeholder.
func (c *compiler) exact(sql string, t Term) error {
	v, err := single(t)
	if err != nil {
		return err
	}
	c.str(sql)
	c.arg(v)
	return nil
}

// enum compiles kind and status: exact, case-sensitive values from a
// fixed set. A wildcard pattern is expanded to the values it matches.
func (c *compiler) enum(col string, t Term, values []string) error {
	if t.Range != nil {
		return fmt.Errorf("field %q does not accept a range", t.Field)
	}
	var match []string
	for _, v := range values {
		if glob(t.Pattern, v) {
			match = append(match, v)
		}
	}
	if len(match) == 0 {
		var b strings.Builder
		for i, part := range t.Pattern {
			if i > 0 {
				b.WriteByte('*')
			}
			b.WriteString(part)
		}
		return &termError{fmt.Sprintf("invalid value %q for field %q", b.String(), t.Field), "want one of " + strings.Join(values, ", ")}
	}
	c.str("(" + col)
	if len(match) == 1 {
		c.str(" = ?)")
		c.arg(match[0])
		return nil
	}
	c.str(" IN (")
	for i, v := range match {
		if i > 0 {
			c.str(", ")
		}
		c.str("?")
		c.arg(v)
	}
	c.str("))")
	return nil
}

// glob reports whether s matches the wildcard pattern parts, '*' standing
// between consecutive parts.
func glob(parts []string, s string) bool {
	if len(parts) == 1 {
		return s == parts[0]
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return true
}

// text compiles a field matched after normalising both sides with norm
// (in SQL, col already is normalised). Wildcards become LIKE patterns;
// indexed says col is a plain column with an index (see PrefixRanges).
func (c *compiler) text(col string, indexed bool, norm func(string) string, t Term) error {
	if t.Range != nil {
		return fmt.Errorf("field %q does not accept a range", t.Field)
	}
	if v, ok := t.Exact(); ok {
		c.str("(" + col + " = ?)")
		c.arg(norm(v))
		return nil
	}
	if prefix := norm(t.Pattern[0]); indexed && c.opts.PrefixRanges && prefix != "" {
		c.str("(" + col + " >= ? AND ")
		c.arg(prefix)
		if next, ok := nextPrefix(prefix); ok {
			c.str(col + " < ? AND ")
			c.arg(next)
		}
		defer c.str(")")
	}
	var b strings.Builder
	for i, part := range t.Pattern {
		if i > 0 {
			b.WriteByte('%')
		}
		for _, r := range norm(part) {
			switch r {
			case '\\', '%', '_':
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	c.str("(" + col + ` LIKE ? ESCAPE '\')`)
	c.arg(b.String())
	return nil
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

// size compiles contentProperties.size: an integer or an integer range.
func (c *compiler) size(col string, t Term) error {
	if t.Range == nil {
		v, err := single(t)
		if err != nil {
			return err
		}
		n, err := parseSize(t.Field, v)
		if err != nil {
			return err
		}
		c.str("(" + col + " = ?)")
		c.arg(n)
		return nil
	}
	var lo, hi *int64
	if !t.Range.Lo.Open {
		n, err := parseSize(t.Field, t.Range.Lo.Value)
		if err != nil {
			return err
		}
		lo = &n
	}
	if !t.Range.Hi.Open {
		n, err := parseSize(t.Field, t.Range.Hi.Value)
		if err != nil {
			return err
		}
		hi = &n
	}
	c.str("(")
	switch {
	case lo == nil && hi == nil:
		c.str(col + " IS NOT NULL")
	case lo != nil:
		c.str(col + cmpOp(false, t.Range.Lo.Inclusive) + "?")
		c.arg(*lo)
		if hi != nil {
			c.str(" AND ")
		}
	}
	if hi != nil {
		c.str(col + cmpOp(true, t.Range.Hi.Inclusive) + "?")
		c.arg(*hi)
	}
	c.str(")")
	return nil
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

func parseSize(field, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, &termError{fmt.Sprintf("invalid value %q for field %q", v, field), "want an integer"}
	}
	return n, nil
}

// date compiles a date field stored as Unix milliseconds. A date value
// stands for the whole interval its precision covers (see parseDate), so
// an exact value matches that interval, an inclusive upper bound includes
// it and an exclusive lower bound excludes it.
func (c *compiler) date(col string, t Term) error {
	if t.Range == nil {
		v, err := single(t)
		if err != nil {
			return err
		}
		start, end, err := parseDate(t.Field, v)
		if err != nil {
			return err
		}
		c.str("(" + col + " >= ? AND " + col + " < ?)")
		c.arg(start)
		c.arg(end)
		return nil
	}
	var lo, hi *int64
	if b := t.Range.Lo; !b.Open {
		start, end, err := parseDate(t.Field, b.Value)
		if err != nil {
			return err
		}
		if !b.Inclusive {
			start = end
		}
		lo = &start
	}
	if b := t.Range.Hi; !b.Open {
		start, end, err := parseDate(t.Field, b.Value)
		if err != nil {
			return err
		}
		if b.Inclusive {
			start = end
		}
		hi = &start
	}
	c.str("(")
	switch {
	case lo == nil && hi == nil:
		c.str(col + " IS NOT NULL")
	case lo != nil:
		c.str(col + " >= ?")
		c.arg(*lo)
		if hi != nil {
			c.str(" AND ")
		}
	}
	if hi != nil {
		c.str(col + " < ?")
		c.arg(*hi)
	}
	c.str(")")
	return nil
}

// parseDate parses a date value into the half-open interval [start, end)
// of Unix milliseconds it denotes: a UTC day for 2014-01-01, a second for
// 2014-01-01T00:00:00Z, a millisecond when there is a fractional second.
// A time without a zone is UTC.
func parseDate(field, v string) (start, end int64, err error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		start = t.UnixMilli()
		return start, start + 24*60*60*1000, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		t, err := time.Parse(layout, v)
		if err != nil {
			continue
		}
		start = t.UnixMilli()
		if strings.ContainsAny(v, ".,") {
			return start, start + 1, nil
		}
		return start, start + 1000, nil
	}
	return 0, 0, &termError{fmt.Sprintf("invalid value %q for field %q", v, field), "want a date such as 2014-01-01 or 2014-01-01T00:00:00Z"}
}
