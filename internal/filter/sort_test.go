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
		name     = filter.SortKey{Field: "name"}
		created  = filter.SortKey{Field: "createdDate"}
		modified = filter.SortKey{Field: "modifiedDate"}
		size     = filter.SortKey{Field: "contentProperties.size"}
		cdate    = filter.SortKey{Field: "contentProperties.contentDate"}
		kind     = filter.SortKey{Field: "kind"}
		id       = filter.SortKey{Field: "id"}
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
