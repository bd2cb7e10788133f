package filter_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
)

func TestParseSort(t *testing.T) {
	var (
		name     = filter.SortKey{Field: "name", Column: "COALESCE(n.name_key, '')"}
		created  = filter.SortKey{Field: "createdDate", Column: "n.created_at"}
		modified = filter.SortKey{Field: "modifiedDate", Column: "n.modified_at"}
		size     = filter.SortKey{Field: "contentProperties.size", Column: "COALESCE(n.size, -1)"}
		cdate    = filter.SortKey{Field: "contentProperties.contentDate", Column: "COALESCE(n.content_date, 0)"}
		kind     = filter.SortKey{Field: "kind", Column: "n.kind"}
		id       = filter.SortKey{Field: "id", Column: "n.id"}
	)
	desc := func(k filter.SortKey) filter.SortKey { k.Desc = true; return k }
	for _, tt := range []struct {
		name string
		in   string
		want []filter.SortKey
	}{
		{"Empty", ``, nil},
		{"Spaces", `  `, nil},
		{"EmptyArray", `[]`, nil},
		{"EmptyArraySpaces", `[ ]`, nil},
		{"DoubleQuotes", `["modifiedDate DESC"]`, []filter.SortKey{desc(modified)}},
		{"SingleQuotes", `['createdDate DESC']`, []filter.SortKey{desc(created)}},
		{"Two", `["name ASC", "contentProperties.size DESC"]`, []filter.SortKey{name, desc(size)}},
		{"NoSpaceAfterComma", `["name ASC","contentProperties.size DESC"]`, []filter.SortKey{name, desc(size)}},
		{"DefaultAsc", `["name"]`, []filter.SortKey{name}},
		{"Bare", `name ASC`, []filter.SortKey{name}},
		{"BareField", `name`, []filter.SortKey{name}},
		{"BareList", `kind DESC, id`, []filter.SortKey{desc(kind), id}},
		{"UnquotedInBrackets", `[contentProperties.contentDate DESC]`, []filter.SortKey{desc(cdate)}},
		{"LowerCaseDirection", `["modifiedDate desc"]`, []filter.SortKey{desc(modified)}},
		{"FieldCase", `["ModifiedDate DESC"]`, []filter.SortKey{desc(modified)}},
		{"ExtraSpaces", ` [ "  name   DESC " ] `, []filter.SortKey{desc(name)}},
		{"All", `["name","createdDate","modifiedDate","contentProperties.contentDate","contentProperties.size","kind","id"]`,
			[]filter.SortKey{name, created, modified, cdate, size, kind, id}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filter.ParseSort(tt.in)
			if err != nil {
				t.Fatalf("ParseSort(%q) error: %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseSort(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseSortError(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
	}{
		{"UnknownField", `["foo DESC"]`},
		{"UnsortableField", `["description"]`},
		{"UnsortableStatus", `["status ASC"]`},
		{"UnknownDirection", `["name DOWN"]`},
		{"TooManyWords", `["name ASC DESC"]`},
		{"EmptyElement", `["name",]`},
		{"EmptyQuoted", `[""]`},
		{"Unclosed", `["name"`},
		{"MismatchedQuotes", `["name']`},
		{"Duplicate", `["name ASC", "name DESC"]`},
		{"TooLong", `["` + strings.Repeat(" ", filter.MaxSortLength) + `name"]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filter.ParseSort(tt.in)
			if err == nil {
				t.Fatalf("ParseSort(%q) = %v, want error", tt.in, got)
			}
			if de := drive.AsError(err); de == nil || de.Kind != drive.Invalid || de.Param != "sort" {
				t.Errorf("ParseSort(%q) error = %#v, want drive.Invalid with Param sort", tt.in, err)
			}
		})
	}
}

// TestSortSQLite checks that each sort column is valid SQL and orders as
// documented, NULLs included.
func TestSortSQLite(t *testing.T) {
	db := openDB(t)
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
		keys, err := filter.ParseSort(tt.sort)
		if err != nil {
			t.Fatalf("ParseSort(%q) error: %v", tt.sort, err)
		}
		var order []string
		for _, k := range keys {
			dir := " ASC"
			if k.Desc {
				dir = " DESC"
			}
			order = append(order, k.Column+dir)
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
