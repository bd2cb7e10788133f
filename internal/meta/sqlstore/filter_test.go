package sqlstore

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	goacd "github.com/ncw/go-acd"
	_ "modernc.org/sqlite"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
)

// goACDNameQuery is the query go-acd's Folder.GetNode sends, escaped by
// go-acd itself.
func goACDNameQuery(parent, name string) string {
	return `parents:"` + parent + `" AND name:"` + goacd.EscapeForFilter(name) + `"`
}

const id22 = "-abcDEF0123456789_xyz0" // 22 characters, leading '-'

// compile is compileFilter of the parse of q.
func compile(t *testing.T, q string, o filterOptions) (string, []any) {
	t.Helper()
	e, err := filter.Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q) error: %v", q, err)
	}
	where, args, err := compileFilter(e, o)
	if err != nil {
		t.Fatalf("compileFilter(%q) error: %v", q, err)
	}
	return where, args
}

func msOf(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

func TestCompileFilter(t *testing.T) {
	for _, tt := range []struct {
		name      string
		in        string
		wantWhere string
		wantArgs  []any
	}{
		{"Empty", ``, `(1=1)`, nil},
		{"RootLookup", `kind:FOLDER AND isRoot:true`, `((n.kind = ?) AND (n.is_root = 1))`, []any{"FOLDER"}},
		{"IsRootFalse", `isRoot:false`, `(n.is_root = 0)`, nil},
		{"KindWildcard", `kind:F*`, `(n.kind IN (?, ?))`, []any{"FILE", "FOLDER"}},
		{"StatusWildcard", `status:P*`, `(n.status IN (?, ?))`, []any{"PURGED", "PENDING"}},
		{"KindGroup", `kind:(FILE OR FOLDER)`, `((n.kind = ?) OR (n.kind = ?))`, []any{"FILE", "FOLDER"}},
		{"Not", `NOT kind:FILE`, `((n.kind = ?) IS NOT TRUE)`, []any{"FILE"}},
		{"Parents", `parents:` + id22,
			`(n.id IN (SELECT p.child_id FROM node_parents p WHERE p.parent_id = ?))`, []any{id22}},
		{"Labels", `labels:x`,
			`(n.id IN (SELECT l.node_id FROM node_labels l WHERE l.label = ?))`, []any{"x"}},
		{"ID", `id:AbC`, `(n.id = ?)`, []any{"AbC"}},
		{"NameFolded", `name:"STRASSE\ File.TXT"`, `(n.name_key = ?)`, []any{"strasse file.txt"}},
		{"NameEszett", `name:Straße`, `(n.name_key = ?)`, []any{"strasse"}},
		{"NameLike", `name:100%_\\A*b*`, `(n.name_key LIKE ? ESCAPE '\')`, []any{`100\%\_\\a%b%`}},
		{"Description", `description:"Quarterly Report"`, `(LOWER(n.description) = ?)`, []any{"quarterly report"}},
		{"MD5", `contentProperties.md5:ABCDEF`, `(n.md5 = ?)`, []any{"abcdef"}},
		{"ContentType", `contentProperties.contentType:Image/JPEG`, `(LOWER(n.content_type) = ?)`, []any{"image/jpeg"}},
		{"Extension", `contentProperties.extension:JPG`, `(LOWER(n.extension) = ?)`, []any{"jpg"}},
		{"Size", `contentProperties.size:42`, `(n.size = ?)`, []any{int64(42)}},
		{"SizeRange", `contentProperties.size:{0 TO 1000]`, `(n.size > ? AND n.size <= ?)`, []any{int64(0), int64(1000)}},
		{"SizeRangeOpen", `contentProperties.size:[10 TO *}`, `(n.size >= ?)`, []any{int64(10)}},
		{"SizeRangeAll", `contentProperties.size:[* TO *]`, `(n.size IS NOT NULL)`, nil},
		{"CreatedOpen", `createdDate:[2014-01-01T00:00:00Z TO *]`, `(n.created_at >= ?)`, []any{msOf("2014-01-01T00:00:00Z")}},
		{"ModifiedMixed", `modifiedDate:{2015-01-01T00:00:00.000Z TO 2016-01-01T00:00:00Z]`,
			`(n.modified_at >= ? AND n.modified_at < ?)`,
			[]any{msOf("2015-01-01T00:00:00.001Z"), msOf("2016-01-01T00:00:01Z")}},
		{"DayExact", `contentProperties.contentDate:2014-01-01`, `(n.content_date >= ? AND n.content_date < ?)`,
			[]any{msOf("2014-01-01T00:00:00Z"), msOf("2014-01-02T00:00:00Z")}},
		{"DayExclusiveUpper", `createdDate:[* TO 2014-01-01}`, `(n.created_at < ?)`, []any{msOf("2014-01-01T00:00:00Z")}},
		{"ZoneOffset", `createdDate:2014-01-01T02:00:00+02:00`, `(n.created_at >= ? AND n.created_at < ?)`,
			[]any{msOf("2014-01-01T00:00:00Z"), msOf("2014-01-01T00:00:01Z")}},
		{"HiddenFalse", `settings.hidden:false`, `(1=1)`, nil},
		{"HiddenTrue", `settings.hidden:true`, `(1=0)`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			where, args := compile(t, tt.in, filterOptions{})
			if where != tt.wantWhere {
				t.Errorf("compileFilter(%q) where = %s, want %s", tt.in, where, tt.wantWhere)
			}
			if diff := cmp.Diff(tt.wantArgs, args); diff != "" {
				t.Errorf("compileFilter(%q) args mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestCompileFilterError(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   filter.Expr
	}{
		{"UnknownField", filter.Term{Field: "foo", Pattern: []string{"x"}}},
		{"NonCanonicalField", filter.Term{Field: "Kind", Pattern: []string{"FILE"}}},
		{"NoValue", filter.Term{Field: "kind"}},
		{"PatternAndRange", filter.Term{Field: "createdDate", Pattern: []string{"x"}, Range: &filter.Range{}}},
		{"BadKind", filter.Term{Field: "kind", Pattern: []string{"file"}}},
		{"NilInAnd", filter.And{filter.Term{Field: "kind", Pattern: []string{"FILE"}}, nil}},
		{"NilNot", filter.Not{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			where, _, err := compileFilter(tt.in, filterOptions{})
			if err == nil {
				t.Fatalf("Compile(%v) = %s, want error", tt.in, where)
			}
			if de := drive.AsError(err); de == nil || de.Kind != drive.Invalid || de.Param != "filters" {
				t.Errorf("Compile(%v) error = %#v, want drive.Invalid with Param filters", tt.in, err)
			}
		})
	}
}

func TestCompileFilterEmptyLists(t *testing.T) {
	for _, tt := range []struct {
		in   filter.Expr
		want string
	}{
		{filter.And{}, "(1=1)"},
		{filter.Or{}, "(1=0)"},
	} {
		if got, _, err := compileFilter(tt.in, filterOptions{}); err != nil || got != tt.want {
			t.Errorf("Compile(%#v) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestCompileFilterPrefixRanges checks the range prefixRanges adds in front of
// a pattern with a literal start, and nothing else.
func TestCompileFilterPrefixRanges(t *testing.T) {
	o := filterOptions{prefixRanges: true}
	for _, tt := range []struct {
		in        string
		wantWhere string
		wantArgs  []any
	}{
		{`name:IMG_*`, `(n.name_key >= ? AND n.name_key < ? AND (n.name_key LIKE ? ESCAPE '\'))`, []any{"img_", "img`", `img\_%`}},
		{`name:ab*c*`, `(n.name_key >= ? AND n.name_key < ? AND (n.name_key LIKE ? ESCAPE '\'))`, []any{"ab", "ac", `ab%c%`}},
		{`name:é*`, `(n.name_key >= ? AND n.name_key < ? AND (n.name_key LIKE ? ESCAPE '\'))`, []any{"é", "\xc3\xaa", `é%`}},
		{`contentProperties.md5:ABC*`, `(n.md5 >= ? AND n.md5 < ? AND (n.md5 LIKE ? ESCAPE '\'))`, []any{"abc", "abd", `abc%`}},
		{`name:*abc`, `(n.name_key LIKE ? ESCAPE '\')`, []any{`%abc`}},
		{`name:abc`, `(n.name_key = ?)`, []any{"abc"}},
		{`description:abc*`, `(LOWER(n.description) LIKE ? ESCAPE '\')`, []any{`abc%`}},
	} {
		where, args := compile(t, tt.in, o)
		if where != tt.wantWhere {
			t.Errorf("compileFilter(%q) where = %s, want %s", tt.in, where, tt.wantWhere)
		}
		if diff := cmp.Diff(tt.wantArgs, args); diff != "" {
			t.Errorf("compileFilter(%q) args mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestCompileFilterLinkArrays checks the PostgreSQL form of parents: and labels:.
func TestCompileFilterLinkArrays(t *testing.T) {
	where, args := compile(t, `labels:x OR NOT parents:`+id22, filterOptions{linkArrays: true})
	want := `((n.id = ANY (ARRAY(SELECT l.node_id FROM node_labels l WHERE l.label = ?))) OR ` +
		`((n.id = ANY (ARRAY(SELECT p.child_id FROM node_parents p WHERE p.parent_id = ?))) IS NOT TRUE))`
	if where != want {
		t.Errorf("where = %s, want %s", where, want)
	}
	if diff := cmp.Diff([]any{"x", id22}, args); diff != "" {
		t.Errorf("args mismatch (-want +got):\n%s", diff)
	}
}

// openDB opens an in-memory SQLite database with the production schema.
func openFilterDB(t *testing.T) *sql.DB {
	t.Helper()
	data, err := os.ReadFile("../sqlite/migrations/00001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	schema := string(data)
	_, schema, ok := strings.Cut(schema, "-- +goose Up")
	if !ok {
		t.Fatal("migration has no goose Up section")
	}
	schema, _, _ = strings.Cut(schema, "-- +goose Down")
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	// One connection: every connection to :memory: is its own database.
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(schema); err != nil {
		t.Fatalf("applying schema: %v", err)
	}
	return db
}

type filterFixture struct {
	id, kind, name, status string
	isRoot                 bool
	description            string
	created, modified      string // RFC 3339
	size                   any    // int or nil
	md5, contentType, ext  any    // string or nil
	contentDate            any    // RFC 3339 string or nil
	parents, labels        []string
}

const (
	day2013 = "2013-01-01T00:00:00Z"
	rootID  = "rootAAAAAAAAAAAAAAAAAA"
)

var fixtures = []filterFixture{
	{id: rootID, kind: "FOLDER", isRoot: true, created: day2013, modified: day2013},
	{id: id22, kind: "FOLDER", name: "Photos", created: "2014-03-01T00:00:00Z", modified: "2014-03-01T00:00:00Z", parents: []string{rootID}},
	{id: "folder2", kind: "FOLDER", name: "Docs", created: day2013, modified: day2013, parents: []string{rootID, id22}},
	{id: "file1", kind: "FILE", name: "my file(1).txt", description: "Quarterly Report",
		created: "2014-06-01T12:00:00Z", modified: "2015-01-01T00:00:00.000Z",
		size: 100, md5: "0cc175b9c0f1b6a831c399e269772661", contentType: "text/plain", ext: "txt", parents: []string{id22}},
	{id: "file2", kind: "FILE", name: "Straße.jpg", created: "2015-06-01T00:00:00Z", modified: "2015-06-01T00:00:00.500Z",
		size: 2048, md5: "92eb5ffee6ae2fec3ad71c777531578f", contentType: "image/jpeg", ext: "jpg",
		contentDate: "2015-05-31T18:00:00Z", parents: []string{id22}, labels: []string{"holiday", "photo"}},
	{id: "file3", kind: "FILE", name: "IMAGE001.JPG", created: "2016-01-01T00:00:00.500Z", modified: "2016-01-01T00:00:00.500Z",
		size: 0, md5: "d41d8cd98f00b204e9800998ecf8427e", contentType: "image/jpeg", ext: "JPG", parents: []string{id22}, labels: []string{"photo"}},
	{id: "file4", kind: "FILE", name: "image002.png", created: "2016-02-01T00:00:00Z", modified: "2016-02-01T00:00:00Z",
		size: 5000, contentType: "image/png", ext: "png", parents: []string{rootID}},
	{id: "file5", kind: "FILE", name: `say "hi" \o (copy).txt`, created: day2013, modified: day2013, size: 4096, parents: []string{rootID}},
	{id: "file6", kind: "FILE", name: "100% done", created: day2013, modified: day2013, size: 4096, parents: []string{rootID}},
	{id: "file7", kind: "FILE", name: "1000 things", created: day2013, modified: day2013, size: 4096, parents: []string{rootID}},
	{id: "file8", kind: "FILE", name: "a_c", created: day2013, modified: day2013, size: 4096, parents: []string{rootID}},
	{id: "file9", kind: "FILE", name: "abc", created: day2013, modified: day2013, size: 4096, parents: []string{rootID}},
	{id: "trash1", kind: "FILE", name: "old.txt", status: "TRASH", created: day2013, modified: day2013,
		size: 10, contentType: "text/plain", ext: "txt", parents: []string{id22}},
	{id: "asset1", kind: "ASSET", name: "thumb", created: day2013, modified: day2013, parents: []string{"file2"}},
}

func insertFixtures(t *testing.T, db *sql.DB) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO users (id, name, root_id, epoch, created_at) VALUES ('u1', 'alice', ?, 'e', 0)`, rootID); err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		var name, nameKey any
		if f.name != "" {
			name, nameKey = f.name, drive.NameKey(f.name)
		}
		status := f.status
		if status == "" {
			status = "AVAILABLE"
		}
		isRoot := 0
		if f.isRoot {
			isRoot = 1
		}
		contentDate := f.contentDate
		if s, ok := contentDate.(string); ok {
			contentDate = msOf(s)
		}
		_, err := db.ExecContext(ctx, `INSERT INTO nodes (id, user_id, kind, name, name_key, status, is_root, description,
			created_at, modified_at, created_by, version, change_seq, size, md5, content_type, extension, content_date)
			VALUES (?, 'u1', ?, ?, ?, ?, ?, ?, ?, ?, 'test', 1, 1, ?, ?, ?, ?, ?)`,
			f.id, f.kind, name, nameKey, status, isRoot, f.description, msOf(f.created), msOf(f.modified),
			f.size, f.md5, f.contentType, f.ext, contentDate)
		if err != nil {
			t.Fatalf("inserting %s: %v", f.id, err)
		}
		for _, p := range f.parents {
			live := 0
			if status == "AVAILABLE" {
				live = 1
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO node_parents (parent_id, child_id, user_id, name_key, live) VALUES (?, ?, 'u1', ?, ?)`,
				p, f.id, drive.NameKey(f.name), live); err != nil {
				t.Fatal(err)
			}
		}
		for _, l := range f.labels {
			if _, err := db.ExecContext(ctx, `INSERT INTO node_labels (node_id, label) VALUES (?, ?)`, f.id, l); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func queryIDs(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	return queryIDsWith(t, db, q, filterOptions{})
}

func queryIDsWith(t *testing.T, db *sql.DB, q string, o filterOptions) []string {
	t.Helper()
	where, args := compile(t, q, o)
	rows, err := db.Query(`SELECT n.id FROM nodes n WHERE `+where+` ORDER BY n.id`, args...)
	if err != nil {
		t.Fatalf("query for %q (%s): %v", q, where, err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// allIDsExcept returns the sorted fixture ids not in except.
func allIDsExcept(except ...string) []string {
	var ids []string
	for _, f := range fixtures {
		if !slices.Contains(except, f.id) {
			ids = append(ids, f.id)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestFilterSQLite(t *testing.T) {
	db := openFilterDB(t)
	insertFixtures(t, db)
	for _, tt := range []struct {
		name string
		q    string
		want []string
	}{
		{"RootLookup", `kind:FOLDER AND isRoot:true`, []string{rootID}},
		{"IsRoot", `isRoot:true`, []string{rootID}},
		{"Folders", `kind:FOLDER`, []string{id22, "folder2", rootID}},
		{"Assets", `kind:ASSET`, []string{"asset1"}},
		{"ParentsLeadingDash", `parents:` + id22, []string{"file1", "file2", "file3", "folder2", "trash1"}},
		{"ParentsLeadingDashFolders", `parents:` + id22 + ` AND kind:FOLDER`, []string{"folder2"}},
		{"ParentsMulti", `parents:` + rootID + ` AND kind:FOLDER`, []string{id22, "folder2"}},
		{"GoACDName", goACDNameQuery(id22, "my file(1).txt"), []string{"file1"}},
		{"GoACDNameOtherCase", goACDNameQuery(id22, "MY FILE(1).TXT"), []string{"file1"}},
		{"GoACDNameWrongParent", goACDNameQuery(rootID, "my file(1).txt"), []string{}},
		{"GoACDQuotesBackslash", goACDNameQuery(rootID, `say "hi" \o (copy).txt`), []string{"file5"}},
		{"NameUnquotedEscaped", `name:my\ file\(1\).txt`, []string{"file1"}},
		{"NameFoldingUpper", `name:STRASSE.JPG`, []string{"file2"}},
		{"NameFoldingEszett", `name:"straße.jpg"`, []string{"file2"}},
		{"NamePrefix", `name:image*`, []string{"file3", "file4"}},
		{"NamePrefixFolded", `name:STRAß*`, []string{"file2"}},
		{"NamePrefixWhole", `name:abc*`, []string{"file9"}},
		{"NamePrefixNone", `name:zzz*`, []string{}},
		{"NameSuffix", `name:*.JPG`, []string{"file2", "file3"}},
		{"NameInfix", `name:*file*`, []string{"file1"}},
		{"NamePercentLiteral", `name:100%*`, []string{"file6"}},
		{"NameUnderscoreLiteral", `name:a_*`, []string{"file8"}},
		{"NameQuestionMarkLiteral", `name:a?c`, []string{}},
		{"NameEscapedStarLiteral", `name:abc\*`, []string{}},
		{"NameQuotedStarLiteral", `name:"ab*"`, []string{}},
		{"NameAny", `name:*`, allIDsExcept(rootID)},
		{"NotNameIncludesRoot", `NOT name:abc`, allIDsExcept("file9")},
		{"Trash", `status:TRASH AND kind:FILE`, []string{"trash1"}},
		{"TrashFolders", `status:TRASH AND kind:FOLDER`, []string{}},
		{"StatusWildcard", `status:AVAIL*`, allIDsExcept("trash1")},
		{"CreatedFrom", `createdDate:[2015-01-01T00:00:00Z TO *]`, []string{"file2", "file3", "file4"}},
		{"CreatedDay", `createdDate:2014-06-01`, []string{"file1"}},
		{"CreatedSecond", `createdDate:2016-01-01T00:00:00Z`, []string{"file3"}},
		{"CreatedMilli", `createdDate:2016-01-01T00:00:00.000Z`, []string{}},
		{"ModifiedExclusiveLower", `modifiedDate:{2015-01-01T00:00:00.000Z TO 2016-01-01T00:00:00Z]`, []string{"file2", "file3"}},
		{"ModifiedExclusiveUpper", `modifiedDate:[2015-01-01T00:00:00.000Z TO 2016-01-01T00:00:00Z}`, []string{"file1", "file2"}},
		{"ModifiedDays", `modifiedDate:[2015-01-01 TO 2016-01-01]`, []string{"file1", "file2", "file3"}},
		{"ContentDate", `contentProperties.contentDate:[2015-01-01 TO 2015-12-31]`, []string{"file2"}},
		{"ContentDateAny", `contentProperties.contentDate:[* TO *]`, []string{"file2"}},
		{"Size", `contentProperties.size:[0 TO 1000]`, []string{"file1", "file3", "trash1"}},
		{"SizeExclusive", `contentProperties.size:{0 TO 100}`, []string{"trash1"}},
		{"SizeExact", `contentProperties.size:0`, []string{"file3"}},
		{"NotSizeIncludesFolders", `NOT contentProperties.size:[0 TO 1000]`, allIDsExcept("file1", "file3", "trash1")},
		{"MD5Upper", `contentProperties.md5:0CC175B9C0F1B6A831C399E269772661`, []string{"file1"}},
		{"ContentType", `contentProperties.contentType:image/jpeg`, []string{"file2", "file3"}},
		{"ContentTypePrefix", `contentProperties.contentType:image/*`, []string{"file2", "file3", "file4"}},
		{"Extension", `contentProperties.extension:jpg`, []string{"file2", "file3"}},
		{"Labels", `labels:photo`, []string{"file2", "file3"}},
		{"LabelsAnd", `labels:holiday AND labels:photo`, []string{"file2"}},
		{"LabelsCaseSensitive", `labels:PHOTO`, []string{}},
		{"Description", `description:"quarterly report"`, []string{"file1"}},
		{"DescriptionPrefix", `description:QUARTERLY*`, []string{"file1"}},
		{"ID", `id:file4`, []string{"file4"}},
		{"KindGroup", `kind:(FILE* OR FOLDER*)`, allIDsExcept("asset1")},
		{"NotKind", `NOT kind:FILE`, []string{id22, "asset1", "folder2", rootID}},
		{"OrParents", `(kind:FILE OR kind:FOLDER) AND parents:` + id22, []string{"file1", "file2", "file3", "folder2", "trash1"}},
		{"NotStatus", `parents:` + id22 + ` AND kind:FILE AND NOT status:TRASH`, []string{"file1", "file2", "file3"}},
		{"NotGroup", `parents:` + rootID + ` AND NOT (name:a* OR name:1*)`, []string{id22, "file4", "file5", "folder2"}},
		{"ValueGroupAnd", `name:(*a* AND *c*)`, []string{"file5", "file8", "file9"}},
		{"HiddenFalse", `settings.hidden:false AND kind:FOLDER`, []string{id22, "folder2", rootID}},
		{"HiddenTrue", `settings.hidden:true`, []string{}},
		{"NotHiddenTrue", `NOT settings.hidden:true AND isRoot:true`, []string{rootID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := slices.Sorted(slices.Values(tt.want))
			for _, o := range []filterOptions{{}, {prefixRanges: true}} {
				got := queryIDsWith(t, db, tt.q, o)
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("query %q with %+v mismatch (-want +got):\n%s", tt.q, o, diff)
				}
			}
		})
	}
}

// TestFilterSQLiteLimits runs queries at the parser's limits, which must stay
// within SQLite's expression depth and LIKE pattern limits.
func TestFilterSQLiteLimits(t *testing.T) {
	db := openFilterDB(t)
	insertFixtures(t, db)
	// A long name for the LIKE patterns below to backtrack over.
	long := strings.Repeat("a", drive.MaxNameLength-1) + "c"
	if _, err := db.Exec(`INSERT INTO nodes (id, user_id, kind, name, name_key, status, created_at, modified_at, created_by, version, change_seq)
		VALUES ('long', 'u1', 'FILE', ?, ?, 'AVAILABLE', 0, 0, 'test', 1, 1)`, long, long); err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat("NOT (", filter.MaxDepth/2) + "kind:FILE" + strings.Repeat(")", filter.MaxDepth/2)
	for _, q := range []string{
		strings.Repeat("id:x OR ", filter.MaxTerms-1) + "id:file1",
		strings.Repeat("kind:F* AND ", filter.MaxTerms-1) + "id:file1",
		strings.Repeat("(", filter.MaxDepth-1) + strings.Repeat("id:x OR ", 100) + "id:file1" + strings.Repeat(")", filter.MaxDepth-1),
		deep,
		`name:` + strings.Repeat(`a*`, (filter.MaxLength-len(`name:b`))/2) + `b`,
		`name:` + strings.Repeat(`ΐ`, (filter.MaxLength-len(`name:*`))/2) + `*`,
		`name:` + strings.Repeat(`%`, filter.MaxLength-len(`name:*`)) + `*`,
		`name:` + strings.Repeat(`*a`, (filter.MaxLength-len(`name:*b`))/2) + `*b`,
		`name:` + strings.Repeat(`a*`, 20) + `b`,
		`name:` + strings.Repeat(`*a`, 100) + `*b*` + strings.Repeat(`a*`, 100),
	} {
		start := time.Now()
		queryIDs(t, db, q)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("query %.40q... took %v", q, d)
		}
	}
}

// TestSortColumnsSQLite checks that each sort column is valid SQL and
// orders as documented, NULLs included.
func TestSortColumnsSQLite(t *testing.T) {
	db := openFilterDB(t)
	insertFixtures(t, db)
	for _, tt := range []struct {
		sort string
		want []string
	}{
		{`["contentProperties.size DESC"]`, []string{"file2", "file1", "trash1", "file3", "folder2"}},
		{`["name"]`, []string{"folder2", "file3", "file1", "trash1", "file2"}},
		{`["modifiedDate DESC", "kind"]`, []string{"file3", "file2", "file1", "trash1", "folder2"}},
		{`["contentProperties.contentDate DESC", "id"]`, []string{"file2", "file1", "file3", "folder2", "trash1"}},
		{`["kind DESC", "id DESC"]`, []string{"folder2", "trash1", "file3", "file2", "file1"}},
		{`['createdDate DESC', 'id']`, []string{"file3", "file2", "file1", "folder2", "trash1"}},
	} {
		parsed, err := filter.ParseSort(tt.sort)
		if err != nil {
			t.Fatalf("ParseSort(%q) error: %v", tt.sort, err)
		}
		keys, err := sortKeys(parsed)
		if err != nil {
			t.Fatalf("sortKeys(%q) error: %v", tt.sort, err)
		}
		var order []string
		for _, k := range keys {
			dir := " ASC"
			if k.desc {
				dir = " DESC"
			}
			order = append(order, k.col+dir)
		}
		rows, err := db.Query(`SELECT n.id FROM nodes n WHERE EXISTS (SELECT 1 FROM node_parents p WHERE p.child_id = n.id AND p.parent_id = ?) ORDER BY `+strings.Join(order, ", "), id22)
		if err != nil {
			t.Fatalf("sort %q: %v", tt.sort, err)
		}
		got := []string{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		}
		rows.Close()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("sort %q mismatch (-want +got):\n%s", tt.sort, diff)
		}
	}
}

// TestSortKeysUnknown checks that a sort field ParseSort would not
// accept is refused, not ordered by something else.
func TestSortKeysUnknown(t *testing.T) {
	_, err := sortKeys([]filter.SortKey{{Field: filter.FieldDescription}})
	if de := drive.AsError(err); de == nil || de.Kind != drive.Invalid || de.Param != "sort" {
		t.Errorf("sortKeys(description) error = %#v, want drive.Invalid with Param sort", err)
	}
}

// TestCompileFilterPlaceholders checks, for every query of
// TestFilterSQLite's kind and both dialects' options, one argument per
// placeholder.
func TestCompileFilterPlaceholders(t *testing.T) {
	for _, q := range []string{
		`kind:F* AND NOT status:TRASH`, `name:a*b* OR contentProperties.md5:AB*`, `labels:x OR NOT parents:` + id22,
		`contentProperties.size:[1 TO *] AND createdDate:{2014-01-01 TO 2015-01-01]`, `settings.hidden:false AND isRoot:true`,
		`description:"q?" AND contentProperties.extension:j*g`,
	} {
		for _, o := range []filterOptions{{}, {prefixRanges: true}, {linkArrays: true}} {
			where, args := compile(t, q, o)
			if n := strings.Count(where, "?"); n != len(args) {
				t.Errorf("compileFilter(%q, %+v) = %s with %d args, want %d", q, o, where, len(args), n)
			}
		}
	}
}

// benchQueries are filters as ACD clients send them.
var benchQueries = map[string]string{
	"name":    `kind:FILE AND name:my\ holiday\ photo\ \(1\).jpg AND parents:9gjxNmFHTQiuD6AGlAr5-w`,
	"prefix":  `kind:FILE AND name:IMG_2026*`,
	"complex": `(kind:FILE OR kind:FOLDER) AND NOT status:TRASH AND modifiedDate:[2020-01-01T00:00:00Z TO *] AND (labels:work OR contentProperties.extension:pdf)`,
	"md5":     `contentProperties.md5:5d41402abc4b2a76b9719d911017c592`,
}

// BenchmarkCompile translates a parsed filter to SQL, as List does for
// SQLite.
func BenchmarkCompile(b *testing.B) {
	for name, q := range benchQueries {
		e, err := filter.Parse(q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := compileFilter(e, filterOptions{prefixRanges: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseCompile parses and translates the query go-acd sends to
// find a name in a folder.
func BenchmarkParseCompile(b *testing.B) {
	q := goACDNameQuery(id22, "my holiday photo (1).jpg")
	b.ReportAllocs()
	for b.Loop() {
		e, err := filter.Parse(q)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := compileFilter(e, filterOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
