package filter

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// Op is the comparison a Cond makes.
type Op int

// The comparisons of a Cond.
const (
	// OpEqual: the field equals Value.
	OpEqual Op = iota + 1
	// OpIn: the field equals one of Values (two or more).
	OpIn
	// OpLike: the field matches Pattern.
	OpLike
	// OpRange: the field lies between Lo and Hi; with neither bound, the
	// field has a value (a node without one, such as a folder for
	// contentProperties.size, does not match).
	OpRange
	// OpAll matches every node, OpNone none (settings.hidden).
	OpAll
	OpNone
)

// Cond is a Term resolved against its field: the comparison a store
// makes, with values already normalised as the field compares them (see
// the package doc), so that a store only maps the field to where it keeps
// it. A store compares the text fields name, description, md5,
// contentType and extension after the same normalisation (see
// Normalize); id, parents, labels, kind and status exactly.
type Cond struct {
	// Field is the canonical field name, e.g. "contentProperties.size".
	Field string
	// Op is the comparison.
	Op Op
	// Value is OpEqual's value: a string (normalised for the text
	// fields), an int64 for contentProperties.size, a bool for isRoot.
	Value any
	// Values are OpIn's values, for kind and status: a wildcard pattern
	// expanded to the values it matches.
	Values []string
	// Pattern is OpLike's, for the text fields: the normalised literal
	// parts, a wildcard standing for any run of characters between each
	// two. ["img", ""] is a prefix, ["", ".jpg"] a suffix. Pattern[0] is
	// the literal text every match starts with.
	Pattern []string
	// Lo and Hi are OpRange's bounds, nil when open: bytes for
	// contentProperties.size, Unix milliseconds for the dates. A date
	// stands for the interval its precision covers, so the range of a
	// date field is always Lo inclusive and Hi exclusive.
	Lo, Hi *int64
	// LoInclusive and HiInclusive say whether the bounds match
	// themselves.
	LoInclusive, HiInclusive bool
}

// Resolve resolves a Term as Parse returns it. It fails only on a Term
// that Parse would not have produced (an unknown or non-canonical field,
// a bad value); the error is a drive.Invalid *drive.Error with Param
// "filters".
func Resolve(t Term) (Cond, error) {
	c, err := resolve(t)
	if err != nil {
		return Cond{}, &drive.Error{Op: "filter.Resolve", Kind: drive.Invalid, Param: "filters", Message: err.Error()}
	}
	return c, nil
}

// Normalize returns s as the text field compares it: folded with
// drive.NameKey for name, lower-cased with strings.ToLower for
// description, md5, contentType and extension. Stores keep (or compute)
// the field's value normalised the same way.
func Normalize(field, s string) string {
	if field == FieldName {
		return drive.NameKey(s)
	}
	return strings.ToLower(s)
}

// kinds and statuses are the values kind: and status: accept.
func kinds() []string {
	return []string{string(drive.KindFile), string(drive.KindFolder), string(drive.KindAsset)}
}

func statuses() []string {
	return []string{string(drive.StatusAvailable), string(drive.StatusTrash), string(drive.StatusPurged), string(drive.StatusPending)}
}

// resolve resolves one Term. Its errors become Parse error messages, so
// they name the field and the value.
func resolve(t Term) (Cond, error) {
	switch {
	case t.Range != nil && t.Pattern != nil:
		return Cond{}, fmt.Errorf("term for field %q has both a pattern and a range", t.Field)
	case t.Range == nil && len(t.Pattern) == 0:
		return Cond{}, fmt.Errorf("term for field %q has no value", t.Field)
	}
	switch t.Field {
	case FieldKind:
		return enum(t, kinds())
	case FieldStatus:
		return enum(t, statuses())
	case FieldIsRoot:
		v, err := boolValue(t)
		if err != nil {
			return Cond{}, err
		}
		return Cond{Field: t.Field, Op: OpEqual, Value: v}, nil
	case FieldHidden:
		// Nodes have no hidden setting: every node is not hidden.
		v, err := boolValue(t)
		if err != nil {
			return Cond{}, err
		}
		if v {
			return Cond{Field: t.Field, Op: OpNone}, nil
		}
		return Cond{Field: t.Field, Op: OpAll}, nil
	case FieldID, FieldParents, FieldLabels:
		v, err := single(t)
		if err != nil {
			return Cond{}, err
		}
		return Cond{Field: t.Field, Op: OpEqual, Value: v}, nil
	case FieldName, FieldDescription, FieldMD5, FieldContentType, FieldExtension:
		return text(t)
	case FieldSize:
		return size(t)
	case FieldCreated, FieldModified, FieldContentDate:
		return date(t)
	}
	return Cond{}, fmt.Errorf("unknown field %q", t.Field)
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

// enum resolves kind and status: exact, case-sensitive values from a
// fixed set. A wildcard pattern is expanded to the values it matches.
func enum(t Term, values []string) (Cond, error) {
	if t.Range != nil {
		return Cond{}, fmt.Errorf("field %q does not accept a range", t.Field)
	}
	var match []string
	for _, v := range values {
		if glob(t.Pattern, v) {
			match = append(match, v)
		}
	}
	switch len(match) {
	case 0:
		var b strings.Builder
		for i, part := range t.Pattern {
			if i > 0 {
				b.WriteByte('*')
			}
			b.WriteString(part)
		}
		return Cond{}, &termError{fmt.Sprintf("invalid value %q for field %q", b.String(), t.Field), "want one of " + strings.Join(values, ", ")}
	case 1:
		return Cond{Field: t.Field, Op: OpEqual, Value: match[0]}, nil
	}
	return Cond{Field: t.Field, Op: OpIn, Values: match}, nil
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

// text resolves a field matched after normalising both sides.
func text(t Term) (Cond, error) {
	if t.Range != nil {
		return Cond{}, fmt.Errorf("field %q does not accept a range", t.Field)
	}
	if v, ok := t.Exact(); ok {
		return Cond{Field: t.Field, Op: OpEqual, Value: Normalize(t.Field, v)}, nil
	}
	parts := make([]string, len(t.Pattern))
	for i, part := range t.Pattern {
		parts[i] = Normalize(t.Field, part)
	}
	return Cond{Field: t.Field, Op: OpLike, Pattern: parts}, nil
}

// size resolves contentProperties.size: an integer or an integer range.
func size(t Term) (Cond, error) {
	if t.Range == nil {
		v, err := single(t)
		if err != nil {
			return Cond{}, err
		}
		n, err := parseSize(t.Field, v)
		if err != nil {
			return Cond{}, err
		}
		return Cond{Field: t.Field, Op: OpEqual, Value: n}, nil
	}
	c := Cond{Field: t.Field, Op: OpRange, LoInclusive: t.Range.Lo.Inclusive, HiInclusive: t.Range.Hi.Inclusive}
	if !t.Range.Lo.Open {
		n, err := parseSize(t.Field, t.Range.Lo.Value)
		if err != nil {
			return Cond{}, err
		}
		c.Lo = &n
	}
	if !t.Range.Hi.Open {
		n, err := parseSize(t.Field, t.Range.Hi.Value)
		if err != nil {
			return Cond{}, err
		}
		c.Hi = &n
	}
	return c, nil
}

func parseSize(field, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, &termError{fmt.Sprintf("invalid value %q for field %q", v, field), "want an integer"}
	}
	return n, nil
}

// date resolves a date field to a half-open range of Unix milliseconds.
// A date value stands for the whole interval its precision covers (see
// parseDate), so an exact value matches that interval, an inclusive upper
// bound includes it and an exclusive lower bound excludes it.
func date(t Term) (Cond, error) {
	c := Cond{Field: t.Field, Op: OpRange, LoInclusive: true}
	if t.Range == nil {
		v, err := single(t)
		if err != nil {
			return Cond{}, err
		}
		start, end, err := parseDate(t.Field, v)
		if err != nil {
			return Cond{}, err
		}
		c.Lo, c.Hi = &start, &end
		return c, nil
	}
	if b := t.Range.Lo; !b.Open {
		start, end, err := parseDate(t.Field, b.Value)
		if err != nil {
			return Cond{}, err
		}
		if !b.Inclusive {
			start = end
		}
		c.Lo = &start
	}
	if b := t.Range.Hi; !b.Open {
		start, end, err := parseDate(t.Field, b.Value)
		if err != nil {
			return Cond{}, err
		}
		if b.Inclusive {
			start = end
		}
		c.Hi = &start
	}
	return c, nil
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
