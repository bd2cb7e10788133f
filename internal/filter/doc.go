// Package filter parses the filters= and sort= parameters of the ACD
// node listing (GET /nodes) into domain terms: an Expr of Terms, each of
// which Resolve turns into a Cond (the comparison, with its values
// normalised as the field compares them), and SortKeys naming fields. It
// knows no storage: a metadata store translates Conds and sort fields
// for its own schema (package meta/sqlstore for SQLite and PostgreSQL).
//
// # Grammar
//
// Keywords are upper case only (AND, OR, NOT, TO); field names are matched
// case-insensitively. Whitespace is space, tab, CR, LF, VT and FF, and any
// amount of it may separate tokens.
//
//	query    := orExpr
//	orExpr   := andExpr { "OR" andExpr }
//	andExpr  := unary { "AND" unary }             AND is required: no juxtaposition
//	unary    := { "NOT" } primary
//	primary  := "(" query ")" | FIELD ":" value     no space around ':'
//	value    := "(" valueOr ")" | range | QUOTED | BARE
//	valueOr  := valueAnd { "OR" valueAnd }
//	valueAnd := valUnary { "AND" valUnary }
//	valUnary := { "NOT" } (value)
//	range    := ("[" | "{") bound "TO" bound ("]" | "}")
//	bound    := "*" | QUOTED | BARE               BARE here also stops at ']' and '}'
//	FIELD    := [A-Za-z0-9.]+                      digits for contentProperties.md5
//	QUOTED   := '"' { '\' any | not '"' } '"'
//	BARE     := { '\' any | not (space '(' ')' '"') }+
//
// A value group applies its field to each value: kind:(FILE OR FOLDER) is
// parsed as kind:FILE OR kind:FOLDER. '[' and ']' are inclusive bounds,
// '{' and '}' exclusive, '*' an open end; the brackets may be mixed.
//
// # Escaping
//
// A backslash makes the next character literal, in bare and in quoted
// values alike. go-acd escapes every one of + - & | ! ( ) { } [ ] ^ ' " ~ *
// ? : \ and space and then also wraps the value in double quotes, so
// name:"my\ file\(1\).txt" means the name "my file(1).txt". '-' and '+'
// are never operators: rclone sends parents:<id> unquoted, and IDs may
// start with '-'.
//
// In a bare value an unescaped '*' is a wildcard matching any run of
// characters, anywhere in the value (image*, *.jpg, a*b); \* is a literal
// star. In a quoted value '*' is always literal, as in Lucene. '?' is
// never a wildcard.
//
// # Fields
//
//	kind                           FILE, FOLDER, ASSET; case-sensitive; a wildcard expands to the matching kinds
//	status                         AVAILABLE, TRASH, PURGED, PENDING; likewise
//	isRoot                         true or false
//	id, parents, labels            exact, case-sensitive; no wildcards
//	name                           whole name, Unicode case folding (drive.NameKey), wildcards
//	description                    whole value, lower-cased, wildcards
//	contentProperties.md5          lower-cased, wildcards
//	contentProperties.contentType  lower-cased (MIME types are case-insensitive), wildcards
//	contentProperties.extension    lower-cased, wildcards
//	contentProperties.size         integer or integer range
//	createdDate, modifiedDate,
//	contentProperties.contentDate  date or date range
//	settings.hidden                accepted for Amazon Photos clients; see below
//
// Any other field is an error. Ranges are accepted only by size and the
// date fields, wildcards only by the fields listed with them.
//
// # Decisions and deviations
//
// Dates are 2014-01-01, or RFC 3339 with or without a fractional second
// (2014-01-01T00:00:00Z, 2014-01-01T00:00:00.000Z); a time without a zone
// is UTC. A date stands for the interval its precision covers: a UTC day,
// a second, or a millisecond when it has a fraction. So createdDate:2014-01-01
// matches the whole day, [a TO b] includes all of b's interval, and {a TO b}
// excludes all of a's. Stored times are Unix milliseconds.
//
// name compares Unicode case folding (drive.NameKey) of both sides;
// description, contentType, extension and md5 compare both sides
// lower-cased (see Normalize). A store may lower its side less well:
// SQLite's LOWER folds only ASCII (see meta/sqlstore).
//
// Nodes have no settings; settings.hidden:false matches every node and
// settings.hidden:true matches none.
//
// A term on a missing value (the size or md5 of a folder, the name of the
// root) does not match, and NOT of it does (a store must not let a
// missing value turn into "no match" both ways, as a bare SQL NOT on NULL
// would).
//
// Default status: Parse and Resolve add nothing. The server restricts a
// query to AVAILABLE nodes when MentionsStatus reports false.
//
// # Limits
//
// A query is at most MaxLength bytes of valid UTF-8 without NUL bytes,
// nests at most MaxDepth levels (parentheses, value groups and NOTs) and
// has at most MaxTerms terms. Breaking a limit is an error like any other
// syntax error: a *drive.Error of kind drive.Invalid with Param "filters"
// and a message naming the problem and its byte offset, such as
// `unknown field "foo" at offset 12`.
package filter
