package filter_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	goacd "github.com/ncw/go-acd"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
)

// goACDNameQuery is the query go-acd's Folder.GetNode sends, escaped by
// go-acd itself.
func goACDNameQuery(parent, name string) string {
	return `parents:"` + parent + `" AND name:"` + goacd.EscapeForFilter(name) + `"`
}

const id22 = "-abcDEF0123456789_xyz0" // 22 characters, leading '-'

// parseTests maps a query to the canonical String of its parse.
var parseTests = []struct {
	name string
	in   string
	want string
}{
	// go-acd and rclone.
	{"RootLookup", `kind:FOLDER AND isRoot:true`, `kind:"FOLDER" AND isRoot:"true"`},
	{"ParentsLeadingDash", `parents:` + id22, `parents:"` + id22 + `"`},
	{"ParentsLeadingDashAndKind", `parents:` + id22 + ` AND kind:FOLDER`, `parents:"` + id22 + `" AND kind:"FOLDER"`},
	{"ParentsLeadingDashAndFile", `parents:` + id22 + ` AND kind:FILE`, `parents:"` + id22 + `" AND kind:"FILE"`},
	{"ParentsPlus", `parents:+abc-def`, `parents:"+abc-def"`},
	{"GoACDName", goACDNameQuery(id22, "my file(1).txt"), `parents:"` + id22 + `" AND name:"my file(1).txt"`},
	{"GoACDSpecials", goACDNameQuery("p", `+ - & | ! ( ) { } [ ] ^ ' " ~ * ? : \`),
		`parents:"p" AND name:"+ - & | ! ( ) { } [ ] ^ ' \" ~ * ? : \\"`},
	{"GoACDUnicode", goACDNameQuery("p", "Straße 東京 ／ ␀.jpg"), `parents:"p" AND name:"Straße 東京 ／ ␀.jpg"`},
	{"GoACDQuotesBackslashes", goACDNameQuery("p", `say "hi" \o\`), `parents:"p" AND name:"say \"hi\" \\o\\"`},
	{"GoACDStar", goACDNameQuery("p", `a*b`), `parents:"p" AND name:"a*b"`},
	// acd_cli.
	{"IsRoot", `isRoot:true`, `isRoot:"true"`},
	{"KindFile", `kind:FILE`, `kind:"FILE"`},
	{"KindAsset", `kind:ASSET`, `kind:"ASSET"`},
	{"TrashFiles", `status:TRASH AND kind:FILE`, `status:"TRASH" AND kind:"FILE"`},
	{"TrashFolders", `status:TRASH AND kind:FOLDER`, `status:"TRASH" AND kind:"FOLDER"`},
	// Other clients.
	{"MD5", `contentProperties.md5:d41d8cd98f00b204e9800998ecf8427e`, `contentProperties.md5:"d41d8cd98f00b204e9800998ecf8427e"`},
	{"KindGroupWildcards", `kind:(FILE* OR FOLDER*)`, `kind:FILE* OR kind:FOLDER*`},
	{"NamePrefix", `name:image*`, `name:image*`},
	{"NameSuffix", `name:*.jpg`, `name:*.jpg`},
	{"NameInfix", `name:a*b*c`, `name:a*b*c`},
	{"NameEscapedStar", `name:a\*b`, `name:"a*b"`},
	{"NameEscapedStarPrefix", `name:a\*b*`, `name:a\*b*`},
	{"NameQuotedStarLiteral", `name:"image*"`, `name:"image*"`},
	{"NameQuestionMarkLiteral", `name:a?c`, `name:"a?c"`},
	{"NameEscapedUnquoted", `name:my\ file\(1\).txt`, `name:"my file(1).txt"`},
	{"NameColon", `name:a:b`, `name:"a:b"`},
	{"NameBrackets", `name:a[1]{2}`, `name:"a[1]{2}"`},
	{"NameEmptyQuoted", `name:""`, `name:""`},
	{"CreatedOpenRange", `createdDate:[2014-01-01T00:00:00Z TO *]`, `createdDate:["2014-01-01T00:00:00Z" TO *]`},
	{"ModifiedMixedRange", `modifiedDate:{2015-01-01T00:00:00.000Z TO 2016-01-01T00:00:00Z]`,
		`modifiedDate:{"2015-01-01T00:00:00.000Z" TO "2016-01-01T00:00:00Z"]`},
	{"ModifiedQuotedBounds", `modifiedDate:["2015-01-01" TO "2016-01-01"}`, `modifiedDate:["2015-01-01" TO "2016-01-01"}`},
	{"RangeSpaces", `createdDate:[  2014-01-01   TO   *  ]`, `createdDate:["2014-01-01" TO *]`},
	{"ContentDate", `contentProperties.contentDate:2014-01-01`, `contentProperties.contentDate:"2014-01-01"`},
	{"DateNoZone", `createdDate:2014-01-01T10:00:00`, `createdDate:"2014-01-01T10:00:00"`},
	{"DateOffset", `createdDate:2014-01-01T10:00:00+02:00`, `createdDate:"2014-01-01T10:00:00+02:00"`},
	{"Size", `contentProperties.size:[0 TO 1000]`, `contentProperties.size:["0" TO "1000"]`},
	{"SizeExact", `contentProperties.size:42`, `contentProperties.size:"42"`},
	{"SizeOpen", `contentProperties.size:{* TO *}`, `contentProperties.size:{* TO *}`},
	{"ContentType", `contentProperties.contentType:image/jpeg`, `contentProperties.contentType:"image/jpeg"`},
	{"ContentTypeWildcard", `contentProperties.contentType:image/*`, `contentProperties.contentType:image/*`},
	{"Extension", `contentProperties.extension:jpg`, `contentProperties.extension:"jpg"`},
	{"Labels", `labels:foo`, `labels:"foo"`},
	{"Description", `description:"Quarterly report"`, `description:"Quarterly report"`},
	{"Hidden", `settings.hidden:false`, `settings.hidden:"false"`},
	{"ID", `id:AbCdEfGhIjKlMnOpQr0123`, `id:"AbCdEfGhIjKlMnOpQr0123"`},
	{"StatusWildcard", `status:*`, `status:*`},
	// Operators.
	{"Not", `NOT kind:FOLDER`, `NOT kind:"FOLDER"`},
	{"NotNot", `NOT NOT kind:FOLDER`, `NOT NOT kind:"FOLDER"`},
	{"AndNot", `kind:FILE AND NOT status:TRASH`, `kind:"FILE" AND NOT status:"TRASH"`},
	{"NotGroup", `NOT (kind:FILE OR kind:FOLDER)`, `NOT (kind:"FILE" OR kind:"FOLDER")`},
	{"NotParenNoSpace", `NOT(kind:FILE)`, `NOT kind:"FILE"`},
	{"GroupAnd", `(kind:FILE OR kind:FOLDER) AND parents:abc`, `(kind:"FILE" OR kind:"FOLDER") AND parents:"abc"`},
	{"Precedence", `kind:FILE OR kind:FOLDER AND isRoot:true`, `kind:"FILE" OR kind:"FOLDER" AND isRoot:"true"`},
	{"NestedOr", `kind:FILE OR (kind:FOLDER OR kind:ASSET)`, `kind:"FILE" OR (kind:"FOLDER" OR kind:"ASSET")`},
	{"ValueGroupAnd", `name:(a* AND *b)`, `name:a* AND name:*b`},
	{"ValueGroupNot", `kind:(FILE OR NOT FOLDER)`, `kind:"FILE" OR NOT kind:"FOLDER"`},
	{"ValueGroupNested", `kind:((FILE OR FOLDER))`, `kind:"FILE" OR kind:"FOLDER"`},
	{"ValueGroupQuoted", `name:("a b" OR c\ d)`, `name:"a b" OR name:"c d"`},
	{"ValueGroupRange", `createdDate:([2014-01-01 TO *] AND NOT 2014-06-01)`, `createdDate:["2014-01-01" TO *] AND NOT createdDate:"2014-06-01"`},
	{"Whitespace", "  kind:FILE \t AND\n isRoot:true  ", `kind:"FILE" AND isRoot:"true"`},
	{"FieldCase", `ISROOT:true AND ContentProperties.MD5:abc`, `isRoot:"true" AND contentProperties.md5:"abc"`},
	{"BoolCase", `isRoot:TRUE`, `isRoot:"TRUE"`},
	{"KeywordPrefixIsValue", `name:ORANGE AND name:ANDY`, `name:"ORANGE" AND name:"ANDY"`},
	{"KeywordAsBareValue", `name:NOT`, `name:"NOT"`},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := filter.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got := e.String(); got != tt.want {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
			}
			// The canonical form parses to itself.
			e2, err := filter.Parse(e.String())
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", e.String(), err)
			}
			if got := e2.String(); got != tt.want {
				t.Errorf("Parse(%q) = %s, want %s", e.String(), got, tt.want)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", " ", "\t\r\n "} {
		e, err := filter.Parse(in)
		if e != nil || err != nil {
			t.Errorf("Parse(%q) = %v, %v, want nil, nil", in, e, err)
		}
	}
}

func TestParseAST(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want filter.Expr
	}{
		{"Precedence", `kind:FILE OR kind:FOLDER AND isRoot:true`, filter.Or{
			filter.Term{Field: "kind", Pattern: []string{"FILE"}},
			filter.And{
				filter.Term{Field: "kind", Pattern: []string{"FOLDER"}},
				filter.Term{Field: "isRoot", Pattern: []string{"true"}},
			},
		}},
		{"Wildcards", `name:\*a*b\ c*`, filter.Term{Field: "name", Pattern: []string{"*a", "b c", ""}}},
		{"Range", `createdDate:{2014-01-01 TO *]`, filter.Term{Field: "createdDate", Range: &filter.Range{
			Lo: filter.Bound{Value: "2014-01-01"},
			Hi: filter.Bound{Open: true, Inclusive: true},
		}}},
		{"NotGroup", `NOT kind:(FILE OR FOLDER)`, filter.Not{X: filter.Or{
			filter.Term{Field: "kind", Pattern: []string{"FILE"}},
			filter.Term{Field: "kind", Pattern: []string{"FOLDER"}},
		}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filter.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(filter.Term{}, "Offset")); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseOffset(t *testing.T) {
	e, err := filter.Parse(`kind:FILE AND name:"x"`)
	if err != nil {
		t.Fatal(err)
	}
	and := e.(filter.And)
	if got := and[1].(filter.Term).Offset; got != 19 {
		t.Errorf("Offset = %d, want 19", got)
	}
}

var parseErrorTests = []struct {
	name string
	in   string
}{
	{"UnknownField", `foo:bar`},
	{"UnknownFieldLater", `kind:FILE AND foo:bar`},
	{"KindLowerCase", `kind:file`},
	{"KindUnknown", `kind:DIRECTORY`},
	{"KindWildcardNoMatch", `kind:X*`},
	{"StatusUnknown", `status:DELETED`},
	{"IsRootNotBool", `isRoot:yes`},
	{"HiddenNotBool", `settings.hidden:maybe`},
	{"MissingColon", `kind FILE`},
	{"SpaceBeforeColon", `kind :FILE`},
	{"BareWord", `hello`},
	{"Juxtaposition", `kind:FILE isRoot:true`},
	{"LowerCaseAnd", `kind:FILE and isRoot:true`},
	{"MissingValue", `kind:`},
	{"SpaceAfterColon", `kind: FILE`},
	{"MissingValueParen", `(kind:)`},
	{"UnclosedParen", `(kind:FILE`},
	{"UnmatchedParen", `kind:FILE)`},
	{"EmptyParens", `()`},
	{"EmptyValueGroup", `kind:()`},
	{"UnclosedValueGroup", `kind:(FILE OR FOLDER`},
	{"ValueGroupTrailingOr", `kind:(FILE OR)`},
	{"LeadingAnd", `AND kind:FILE`},
	{"TrailingAnd", `kind:FILE AND`},
	{"TrailingOr", `kind:FILE OR `},
	{"NotAlone", `NOT`},
	{"UnterminatedQuote", `name:"abc`},
	{"UnterminatedQuoteBackslash", `name:"abc\`},
	{"DanglingBackslash", `name:abc\`},
	{"QuoteThenBare", `name:"a"b`},
	{"BareThenQuote", `name:a"b"`},
	{"BadDate", `createdDate:[2014 TO *]`},
	{"BadDateExact", `modifiedDate:yesterday`},
	{"RangeMissingTo", `createdDate:[2014-01-01 *]`},
	{"RangeLowerTo", `createdDate:[2014-01-01 to *]`},
	{"RangeUnterminated", `createdDate:[2014-01-01 TO *`},
	{"RangeNoBounds", `createdDate:[]`},
	{"RangeMissingHi", `createdDate:[2014-01-01 TO ]`},
	{"RangeWildcardBound", `createdDate:[2014-01* TO *]`},
	{"RangeOnName", `name:[a TO b]`},
	{"RangeOnKind", `kind:[A TO Z]`},
	{"WildcardOnDate", `createdDate:2014*`},
	{"WildcardOnParents", `parents:abc*`},
	{"WildcardOnID", `id:*`},
	{"WildcardOnLabels", `labels:fo*`},
	{"WildcardOnBool", `isRoot:t*`},
	{"SizeNotNumber", `contentProperties.size:big`},
	{"SizeRangeNotNumber", `contentProperties.size:[0 TO 1k]`},
	{"UnknownSubfield", `contentProperties.foo:1`},
	{"InvalidUTF8", "name:\xff"},
	{"NUL", "name:a\x00b"},
	{"TooLong", `name:"` + strings.Repeat("a", filter.MaxLength) + `"`},
	{"TooDeepParens", strings.Repeat("(", filter.MaxDepth+1) + "kind:FILE" + strings.Repeat(")", filter.MaxDepth+1)},
	{"TooDeepNot", strings.Repeat("NOT ", filter.MaxDepth+1) + "kind:FILE"},
	{"TooDeepValueGroups", "kind:" + strings.Repeat("(", filter.MaxDepth+1) + "FILE" + strings.Repeat(")", filter.MaxDepth+1)},
	{"TooManyTerms", strings.Repeat("id:x OR ", filter.MaxTerms) + "id:x"},
}

func TestParseError(t *testing.T) {
	for _, tt := range parseErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := filter.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tt.in, e)
			}
			de := drive.AsError(err)
			if de == nil || de.Kind != drive.Invalid || de.Param != "filters" || de.Message == "" {
				t.Errorf("Parse(%q) error = %#v, want a drive.Invalid error with Param filters and a message", tt.in, err)
			}
		})
	}
}

// TestParseErrorMessage pins the message format the brief asks for; other
// tests check kinds only.
func TestParseErrorMessage(t *testing.T) {
	_, err := filter.Parse(`kind:FILE AND foo:bar`)
	const want = `unknown field "foo" at offset 14`
	if de := drive.AsError(err); de == nil || de.Message != want {
		t.Errorf("Parse error = %v, want message %q", err, want)
	}
}

func TestParseLimits(t *testing.T) {
	ok := []string{
		strings.Repeat("(", filter.MaxDepth) + "kind:FILE" + strings.Repeat(")", filter.MaxDepth),
		strings.Repeat("NOT ", filter.MaxDepth) + "kind:FILE",
		strings.Repeat("id:x OR ", filter.MaxTerms-1) + "id:x",
		`name:"` + strings.Repeat("a", filter.MaxLength-len(`name:""`)) + `"`,
	}
	for _, in := range ok {
		if _, err := filter.Parse(in); err != nil {
			t.Errorf("Parse(%.40q...) error: %v", in, err)
		}
	}
}

func TestMentionsStatus(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{``, false},
		{`kind:FILE`, false},
		{`status:TRASH`, true},
		{`status:TRASH AND kind:FILE`, true},
		{`kind:FILE OR (isRoot:true AND NOT status:AVAILABLE)`, true},
		{`STATUS:*`, true},
		{`name:status`, false},
	} {
		e, err := filter.Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q) error: %v", tt.in, err)
		}
		if got := filter.MentionsStatus(e); got != tt.want {
			t.Errorf("MentionsStatus(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
