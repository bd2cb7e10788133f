package filter

import "strings"

// Expr is a parsed filter query: an And, Or, Not or Term. The set is
// closed; String renders an equivalent query in canonical form that Parse
// accepts again.
type Expr interface {
	String() string
	isExpr()
}

// And matches when every operand matches. An empty And matches everything.
type And []Expr

// Or matches when at least one operand matches. An empty Or matches
// nothing.
type Or []Expr

// Not matches when X does not match. A node for which X cannot be decided
// (a NULL column, such as the size of a folder) counts as not matching X,
// so Not matches it.
type Not struct {
	X Expr
}

// Term is one field:value clause. Exactly one of Pattern and Range is set.
type Term struct {
	// Field is the canonical field name, e.g. "kind" or
	// "contentProperties.md5".
	Field string
	// Pattern is the value with its escapes removed, split at each
	// unescaped '*': ["FILE"] is the exact value FILE, ["image", ""] is
	// the prefix pattern image*, ["", ".jpg"] the suffix pattern *.jpg.
	Pattern []string
	// Range is set for [lo TO hi] style values.
	Range *Range
	// Offset is the byte offset of the value in the query. It is only
	// used in error messages.
	Offset int
}

// Range is a value range. Open bounds (written '*') are unbounded.
type Range struct {
	Lo, Hi Bound
}

// Bound is one end of a Range.
type Bound struct {
	Value     string // unescaped; empty when Open
	Open      bool   // '*': no bound on this side
	Inclusive bool   // '[' or ']' rather than '{' or '}'
}

func (And) isExpr()  {}
func (Or) isExpr()   {}
func (Not) isExpr()  {}
func (Term) isExpr() {}

// Exact reports whether t has a single value without wildcards, and
// returns it.
func (t Term) Exact() (string, bool) {
	if t.Range == nil && len(t.Pattern) == 1 {
		return t.Pattern[0], true
	}
	return "", false
}

func (a And) String() string { return join([]Expr(a), " AND ", true) }
func (o Or) String() string  { return join([]Expr(o), " OR ", false) }

// join renders operands, parenthesising those that would otherwise
// re-parse differently: any And or Or inside an And, an Or inside an Or.
func join(xs []Expr, sep string, and bool) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteString(sep)
		}
		paren := false
		switch x.(type) {
		case Or:
			paren = true
		case And:
			paren = and
		}
		writeOperand(&b, x, paren)
	}
	return b.String()
}

func writeOperand(b *strings.Builder, x Expr, paren bool) {
	if x == nil {
		b.WriteString("<nil>")
		return
	}
	if paren {
		b.WriteByte('(')
	}
	b.WriteString(x.String())
	if paren {
		b.WriteByte(')')
	}
}

func (n Not) String() string {
	var b strings.Builder
	b.WriteString("NOT ")
	switch n.X.(type) {
	case And, Or:
		writeOperand(&b, n.X, true)
	default:
		writeOperand(&b, n.X, false)
	}
	return b.String()
}

// String renders t as field:value: exact values are quoted, wildcard
// patterns are bare with special characters backslash-escaped, range
// bounds are quoted.
func (t Term) String() string {
	var b strings.Builder
	b.WriteString(t.Field)
	b.WriteByte(':')
	switch {
	case t.Range != nil:
		if t.Range.Lo.Inclusive {
			b.WriteByte('[')
		} else {
			b.WriteByte('{')
		}
		writeBound(&b, t.Range.Lo)
		b.WriteString(" TO ")
		writeBound(&b, t.Range.Hi)
		if t.Range.Hi.Inclusive {
			b.WriteByte(']')
		} else {
			b.WriteByte('}')
		}
	case len(t.Pattern) == 0:
		b.WriteString(`""`)
	case len(t.Pattern) == 1:
		writeQuoted(&b, t.Pattern[0])
	default:
		for i, part := range t.Pattern {
			if i > 0 {
				b.WriteByte('*')
			}
			writeBare(&b, part)
		}
	}
	return b.String()
}

func writeBound(b *strings.Builder, x Bound) {
	if x.Open {
		b.WriteByte('*')
		return
	}
	writeQuoted(b, x.Value)
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

func writeBare(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', ')', '"', '\\', '*', '[', ']', '{', '}':
			b.WriteByte('\\')
		default:
			if isSpace(c) {
				b.WriteByte('\\')
			}
		}
		b.WriteByte(s[i])
	}
}

// MentionsStatus reports whether any term of e uses the status field.
// The server restricts a query that does not to AVAILABLE nodes.
func MentionsStatus(e Expr) bool {
	switch e := e.(type) {
	case Term:
		return e.Field == FieldStatus
	case Not:
		return MentionsStatus(e.X)
	case And:
		for _, x := range e {
			if MentionsStatus(x) {
				return true
			}
		}
	case Or:
		for _, x := range e {
			if MentionsStatus(x) {
				return true
			}
		}
	}
	return false
}
