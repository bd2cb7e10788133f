package filter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// Limits on a query. Each is reported as a drive.Invalid error.
const (
	// MaxLength is the longest query accepted, in bytes.
	MaxLength = 8 << 10
	// MaxDepth is the deepest nesting of parentheses, value groups and
	// NOTs accepted.
	MaxDepth = 32
	// MaxTerms is the largest number of field:value terms accepted, after
	// value groups such as kind:(FILE OR FOLDER) are expanded into one
	// term per value. It keeps the SQL within the expression depth limits
	// of SQLite and PostgreSQL.
	MaxTerms = 256
)

// Parse parses the value of the filters= parameter. An empty or
// whitespace-only query gives a nil Expr and a nil error: no filter.
//
// Every field and value is checked here, so Resolve succeeds on every
// Term of an Expr that Parse returns. Errors are *drive.Error values of kind
// drive.Invalid with Param "filters" and a message that names the problem
// and its byte offset in q.
func Parse(q string) (Expr, error) {
	if len(q) > MaxLength {
		return nil, invalid(fmt.Sprintf("filter is %d bytes long, the limit is %d", len(q), MaxLength))
	}
	if !utf8.ValidString(q) {
		return nil, invalid("filter is not valid UTF-8")
	}
	if i := strings.IndexByte(q, 0); i >= 0 {
		return nil, invalid(fmt.Sprintf("filter contains a NUL byte at offset %d", i))
	}
	p := &parser{q: q}
	p.skipSpace()
	if p.eof() {
		return nil, nil
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		if p.q[p.pos] == ')' {
			return nil, p.errorf(p.pos, "unmatched ')'")
		}
		return nil, p.errorf(p.pos, "expected AND, OR or end of filter, found %s", p.found())
	}
	return e, nil
}

func invalid(msg string) *drive.Error {
	return &drive.Error{Op: "filter.Parse", Kind: drive.Invalid, Param: "filters", Message: msg}
}

type parser struct {
	q     string
	pos   int
	depth int
	terms int
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return invalid(fmt.Sprintf(format, args...) + " at offset " + strconv.Itoa(off))
}

func (p *parser) eof() bool { return p.pos >= len(p.q) }

func (p *parser) skipSpace() {
	for p.pos < len(p.q) && isSpace(p.q[p.pos]) {
		p.pos++
	}
}

// found describes what is at p.pos, for error messages.
func (p *parser) found() string {
	if p.eof() {
		return "end of filter"
	}
	rest := p.q[p.pos:]
	end := 0
	for end < len(rest) && end < 20 && !isSpace(rest[end]) {
		_, size := utf8.DecodeRuneInString(rest[end:])
		end += size
	}
	if end == 0 {
		end = 1
	}
	return strconv.Quote(rest[:end])
}

// keyword skips space and consumes kw if it comes next as a whole word
// (followed by the end, space or a parenthesis). It reports whether it did.
func (p *parser) keyword(kw string) bool {
	p.skipSpace()
	if !strings.HasPrefix(p.q[p.pos:], kw) {
		return false
	}
	end := p.pos + len(kw)
	if end < len(p.q) {
		if c := p.q[end]; !isSpace(c) && c != '(' && c != ')' {
			return false
		}
	}
	p.pos = end
	return true
}

// enter counts one more level of nesting that started at off.
func (p *parser) enter(off int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf(off, "filter nests deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// or parses orExpr := andExpr { "OR" andExpr }.
func (p *parser) or() (Expr, error) {
	list, err := p.binary("OR", p.and)
	if err != nil || len(list) == 1 {
		return first(list), err
	}
	return Or(list), nil
}

// and parses andExpr := unary { "AND" unary }.
func (p *parser) and() (Expr, error) {
	list, err := p.binary("AND", p.unary)
	if err != nil || len(list) == 1 {
		return first(list), err
	}
	return And(list), nil
}

// binary parses operand { kw operand } and returns the operands.
func (p *parser) binary(kw string, operand func() (Expr, error)) ([]Expr, error) {
	x, err := operand()
	if err != nil {
		return nil, err
	}
	list := []Expr{x}
	for p.keyword(kw) {
		y, err := operand()
		if err != nil {
			return nil, err
		}
		list = append(list, y)
	}
	return list, nil
}

func first(list []Expr) Expr {
	if len(list) == 0 {
		return nil
	}
	return list[0]
}

// unary parses unary := ["NOT"] primary. NOT may repeat.
func (p *parser) unary() (Expr, error) {
	p.skipSpace()
	off := p.pos
	if !p.keyword("NOT") {
		return p.primary()
	}
	if err := p.enter(off); err != nil {
		return nil, err
	}
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	p.leave()
	return Not{X: x}, nil
}

// primary parses primary := "(" query ")" | FIELD ":" value.
func (p *parser) primary() (Expr, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.errorf(p.pos, "expected a field name or '(', found end of filter")
	}
	if p.q[p.pos] == '(' {
		open := p.pos
		if err := p.enter(open); err != nil {
			return nil, err
		}
		p.pos++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() || p.q[p.pos] != ')' {
			return nil, p.errorf(p.pos, "expected ')' to close the '(' at offset %d, found %s", open, p.found())
		}
		p.pos++
		p.leave()
		return x, nil
	}
	start := p.pos
	for p.pos < len(p.q) && isFieldByte(p.q[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return nil, p.errorf(p.pos, "expected a field name or '(', found %s", p.found())
	}
	name := p.q[start:p.pos]
	if p.eof() || p.q[p.pos] != ':' {
		return nil, p.errorf(p.pos, "expected ':' after %q, found %s", name, p.found())
	}
	field, ok := canonicalField(name)
	if !ok {
		return nil, p.errorf(start, "unknown field %q", name)
	}
	p.pos++ // ':'
	return p.value(field)
}

// value parses value := "(" valueOr ")" | range | QUOTED | BARE directly
// after the ':'.
func (p *parser) value(field string) (Expr, error) {
	if p.eof() || isSpace(p.q[p.pos]) || p.q[p.pos] == ')' {
		return nil, p.errorf(p.pos, "missing value for field %q", field)
	}
	return p.atom(field)
}

// atom parses a group, a range, a quoted or a bare value at p.pos.
func (p *parser) atom(field string) (Expr, error) {
	off := p.pos
	switch p.q[p.pos] {
	case '(':
		if err := p.enter(off); err != nil {
			return nil, err
		}
		p.pos++
		x, err := p.valueOr(field)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() || p.q[p.pos] != ')' {
			return nil, p.errorf(p.pos, "expected ')' to close the '(' at offset %d, found %s", off, p.found())
		}
		p.pos++
		p.leave()
		return x, nil
	case '[', '{':
		r, err := p.rangeValue()
		if err != nil {
			return nil, err
		}
		return p.term(field, off, nil, r)
	case '"':
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return p.term(field, off, []string{s}, nil)
	}
	parts, err := p.bare(false)
	if err != nil {
		return nil, err
	}
	return p.term(field, off, parts, nil)
}

// valueOr parses valueOr := valueAnd { "OR" valueAnd }.
func (p *parser) valueOr(field string) (Expr, error) {
	x, err := p.valueAnd(field)
	if err != nil {
		return nil, err
	}
	var list Or
	for p.keyword("OR") {
		y, err := p.valueAnd(field)
		if err != nil {
			return nil, err
		}
		if list == nil {
			list = Or{x}
		}
		list = append(list, y)
	}
	if list != nil {
		return list, nil
	}
	return x, nil
}

// valueAnd parses valueAnd := valueUnary { "AND" valueUnary }.
func (p *parser) valueAnd(field string) (Expr, error) {
	x, err := p.valueUnary(field)
	if err != nil {
		return nil, err
	}
	var list And
	for p.keyword("AND") {
		y, err := p.valueUnary(field)
		if err != nil {
			return nil, err
		}
		if list == nil {
			list = And{x}
		}
		list = append(list, y)
	}
	if list != nil {
		return list, nil
	}
	return x, nil
}

// valueUnary parses valueUnary := ["NOT"] atom inside a value group.
func (p *parser) valueUnary(field string) (Expr, error) {
	p.skipSpace()
	off := p.pos
	if p.keyword("NOT") {
		if err := p.enter(off); err != nil {
			return nil, err
		}
		x, err := p.valueUnary(field)
		if err != nil {
			return nil, err
		}
		p.leave()
		return Not{X: x}, nil
	}
	p.skipSpace()
	if p.eof() || p.q[p.pos] == ')' {
		return nil, p.errorf(p.pos, "expected a value for field %q, found %s", field, p.found())
	}
	return p.atom(field)
}

// term builds and checks one Term whose value starts at off.
func (p *parser) term(field string, off int, pattern []string, r *Range) (Expr, error) {
	p.terms++
	if p.terms > MaxTerms {
		return nil, p.errorf(off, "filter has more than %d terms", MaxTerms)
	}
	t := Term{Field: field, Pattern: pattern, Range: r, Offset: off}
	if _, err := resolve(t); err != nil {
		if te, ok := errors.AsType[*termError](err); ok {
			return nil, invalid(fmt.Sprintf("%s at offset %d: %s", te.msg, off, te.want))
		}
		return nil, p.errorf(off, "%s", err.Error())
	}
	return t, nil
}

// quoted reads a double-quoted value at p.pos, removing its escapes:
// a backslash makes the next character literal.
func (p *parser) quoted() (string, error) {
	open := p.pos
	p.pos++
	start := p.pos
	var b []byte // nil until the first escape
	for {
		if p.eof() {
			return "", p.errorf(open, "unterminated quoted value")
		}
		switch c := p.q[p.pos]; c {
		case '"':
			s := p.q[start:p.pos]
			if b != nil {
				s = string(b)
			}
			p.pos++
			return s, nil
		case '\\':
			if p.pos+1 >= len(p.q) {
				return "", p.errorf(open, "unterminated quoted value")
			}
			if b == nil {
				b = append(make([]byte, 0, 2*(p.pos-start)+8), p.q[start:p.pos]...)
			}
			_, size := utf8.DecodeRuneInString(p.q[p.pos+1:])
			b = append(b, p.q[p.pos+1:p.pos+1+size]...)
			p.pos += 1 + size
		default:
			if b != nil {
				b = append(b, c)
			}
			p.pos++
		}
	}
}

// bare reads an unquoted value at p.pos, up to space, a parenthesis or a
// double quote (and ']' or '}' inside a range). A backslash makes the next
// character literal; an unescaped '*' splits the value into wildcard
// pattern parts.
func (p *parser) bare(inRange bool) ([]string, error) {
	start := p.pos
	var parts []string
	var cur []byte
	partStart := p.pos // start of the current part while it needs no copy
	escaped := false   // cur holds the current part
	for p.pos < len(p.q) {
		c := p.q[p.pos]
		if isSpace(c) || c == '(' || c == ')' || c == '"' || inRange && (c == ']' || c == '}') {
			break
		}
		switch c {
		case '\\':
			if p.pos+1 >= len(p.q) {
				return nil, p.errorf(p.pos, "backslash at end of filter")
			}
			if !escaped {
				cur = append(cur[:0], p.q[partStart:p.pos]...)
				escaped = true
			}
			_, size := utf8.DecodeRuneInString(p.q[p.pos+1:])
			cur = append(cur, p.q[p.pos+1:p.pos+1+size]...)
			p.pos += 1 + size
		case '*':
			if escaped {
				parts = append(parts, string(cur))
			} else {
				parts = append(parts, p.q[partStart:p.pos])
			}
			escaped = false
			p.pos++
			partStart = p.pos
		default:
			if escaped {
				cur = append(cur, c)
			}
			p.pos++
		}
	}
	if p.pos == start {
		return nil, p.errorf(p.pos, "expected a value, found %s", p.found())
	}
	if escaped {
		parts = append(parts, string(cur))
	} else {
		parts = append(parts, p.q[partStart:p.pos])
	}
	return parts, nil
}

// rangeValue parses range := ("[" | "{") bound "TO" bound ("]" | "}").
func (p *parser) rangeValue() (*Range, error) {
	open := p.pos
	r := &Range{}
	r.Lo.Inclusive = p.q[p.pos] == '['
	p.pos++
	p.skipSpace()
	var err error
	if r.Lo, err = p.bound(r.Lo); err != nil {
		return nil, err
	}
	if !p.keyword("TO") {
		return nil, p.errorf(p.pos, "expected TO in the range at offset %d, found %s", open, p.found())
	}
	p.skipSpace()
	if r.Hi, err = p.bound(r.Hi); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || p.q[p.pos] != ']' && p.q[p.pos] != '}' {
		return nil, p.errorf(p.pos, "expected ']' or '}' to close the range at offset %d, found %s", open, p.found())
	}
	r.Hi.Inclusive = p.q[p.pos] == ']'
	p.pos++
	return r, nil
}

// bound reads one range bound: '*', a quoted value or a bare value
// without wildcards.
func (p *parser) bound(b Bound) (Bound, error) {
	if p.eof() {
		return b, p.errorf(p.pos, "unterminated range")
	}
	switch c := p.q[p.pos]; {
	case c == '"':
		s, err := p.quoted()
		b.Value = s
		return b, err
	case c == '*' && (p.pos+1 == len(p.q) || isSpace(p.q[p.pos+1]) || p.q[p.pos+1] == ']' || p.q[p.pos+1] == '}'):
		p.pos++
		b.Open = true
		return b, nil
	case c == ']' || c == '}' || c == '(' || c == ')':
		return b, p.errorf(p.pos, "expected a range bound, found %s", p.found())
	}
	off := p.pos
	parts, err := p.bare(true)
	if err != nil {
		return b, err
	}
	if len(parts) > 1 {
		return b, p.errorf(off, "wildcards are not allowed in a range bound")
	}
	b.Value = parts[0]
	return b, nil
}
