package filter_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
)

func ms(s string) *int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	v := t.UnixMilli()
	return &v
}

func i64(v int64) *int64 { return &v }

// resolveAll resolves every term of e.
func resolveAll(e filter.Expr) error {
	switch e := e.(type) {
	case filter.And:
		for _, x := range e {
			if err := resolveAll(x); err != nil {
				return err
			}
		}
	case filter.Or:
		for _, x := range e {
			if err := resolveAll(x); err != nil {
				return err
			}
		}
	case filter.Not:
		return resolveAll(e.X)
	case filter.Term:
		_, err := filter.Resolve(e)
		return err
	}
	return nil
}

func TestResolve(t *testing.T) {
	const (
		kind, status, isRoot, hidden = filter.FieldKind, filter.FieldStatus, filter.FieldIsRoot, filter.FieldHidden
		size, created, modified      = filter.FieldSize, filter.FieldCreated, filter.FieldModified
	)
	eq := func(field string, v any) filter.Cond { return filter.Cond{Field: field, Op: filter.OpEqual, Value: v} }
	for _, tt := range []struct {
		name string
		in   string
		want filter.Cond
	}{
		{"Kind", `kind:FOLDER`, eq(kind, "FOLDER")},
		{"IsRootTrue", `isRoot:true`, eq(isRoot, true)},
		{"IsRootFalse", `isRoot:FALSE`, eq(isRoot, false)},
		{"KindWildcard", `kind:F*`, filter.Cond{Field: kind, Op: filter.OpIn, Values: []string{"FILE", "FOLDER"}}},
		{"KindWildcardOne", `kind:*SET`, eq(kind, "ASSET")},
		{"StatusWildcard", `status:P*`, filter.Cond{Field: status, Op: filter.OpIn, Values: []string{"PURGED", "PENDING"}}},
		{"Parents", `parents:` + id22, eq(filter.FieldParents, id22)},
		{"Labels", `labels:x`, eq(filter.FieldLabels, "x")},
		{"ID", `id:AbC`, eq(filter.FieldID, "AbC")},
		{"NameFolded", `name:"STRASSE\ File.TXT"`, eq(filter.FieldName, "strasse file.txt")},
		{"NameEszett", `name:Straße`, eq(filter.FieldName, "strasse")},
		{"NameLike", `name:100%_\\A*b*`, filter.Cond{Field: filter.FieldName, Op: filter.OpLike, Pattern: []string{`100%_\a`, "b", ""}}},
		{"NameLikeFolded", `name:STRAß*`, filter.Cond{Field: filter.FieldName, Op: filter.OpLike, Pattern: []string{"strass", ""}}},
		{"Description", `description:"Quarterly Report"`, eq(filter.FieldDescription, "quarterly report")},
		{"MD5", `contentProperties.md5:ABCDEF`, eq(filter.FieldMD5, "abcdef")},
		{"ContentType", `contentProperties.contentType:Image/*`, filter.Cond{Field: filter.FieldContentType, Op: filter.OpLike, Pattern: []string{"image/", ""}}},
		{"Extension", `contentProperties.extension:JPG`, eq(filter.FieldExtension, "jpg")},
		{"Size", `contentProperties.size:42`, eq(size, int64(42))},
		{"SizeRange", `contentProperties.size:{0 TO 1000]`, filter.Cond{Field: size, Op: filter.OpRange, Lo: i64(0), Hi: i64(1000), HiInclusive: true}},
		{"SizeRangeOpen", `contentProperties.size:[10 TO *}`, filter.Cond{Field: size, Op: filter.OpRange, Lo: i64(10), LoInclusive: true}},
		{"SizeRangeAll", `contentProperties.size:[* TO *]`, filter.Cond{Field: size, Op: filter.OpRange, LoInclusive: true, HiInclusive: true}},
		{"CreatedOpen", `createdDate:[2014-01-01T00:00:00Z TO *]`, filter.Cond{Field: created, Op: filter.OpRange, Lo: ms("2014-01-01T00:00:00Z"), LoInclusive: true}},
		{"ModifiedMixed", `modifiedDate:{2015-01-01T00:00:00.000Z TO 2016-01-01T00:00:00Z]`,
			filter.Cond{Field: modified, Op: filter.OpRange, Lo: ms("2015-01-01T00:00:00.001Z"), Hi: ms("2016-01-01T00:00:01Z"), LoInclusive: true}},
		{"DayExact", `contentProperties.contentDate:2014-01-01`,
			filter.Cond{Field: filter.FieldContentDate, Op: filter.OpRange, Lo: ms("2014-01-01T00:00:00Z"), Hi: ms("2014-01-02T00:00:00Z"), LoInclusive: true}},
		{"DayExclusiveUpper", `createdDate:[* TO 2014-01-01}`, filter.Cond{Field: created, Op: filter.OpRange, Hi: ms("2014-01-01T00:00:00Z"), LoInclusive: true}},
		{"ZoneOffset", `createdDate:2014-01-01T02:00:00+02:00`,
			filter.Cond{Field: created, Op: filter.OpRange, Lo: ms("2014-01-01T00:00:00Z"), Hi: ms("2014-01-01T00:00:01Z"), LoInclusive: true}},
		{"DateAll", `createdDate:[* TO *]`, filter.Cond{Field: created, Op: filter.OpRange, LoInclusive: true}},
		{"HiddenFalse", `settings.hidden:false`, filter.Cond{Field: hidden, Op: filter.OpAll}},
		{"HiddenTrue", `settings.hidden:true`, filter.Cond{Field: hidden, Op: filter.OpNone}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := filter.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			term, ok := e.(filter.Term)
			if !ok {
				t.Fatalf("Parse(%q) = %#v, want a Term", tt.in, e)
			}
			got, err := filter.Resolve(term)
			if err != nil {
				t.Fatalf("Resolve(%q) error: %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestResolveError checks terms Parse would not produce.
func TestResolveError(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   filter.Term
	}{
		{"UnknownField", filter.Term{Field: "foo", Pattern: []string{"x"}}},
		{"NonCanonicalField", filter.Term{Field: "Kind", Pattern: []string{"FILE"}}},
		{"NoValue", filter.Term{Field: "kind"}},
		{"PatternAndRange", filter.Term{Field: "createdDate", Pattern: []string{"x"}, Range: &filter.Range{}}},
		{"BadKind", filter.Term{Field: "kind", Pattern: []string{"file"}}},
		{"IDWildcard", filter.Term{Field: "id", Pattern: []string{"a", ""}}},
		{"NameRange", filter.Term{Field: "name", Range: &filter.Range{Lo: filter.Bound{Open: true}, Hi: filter.Bound{Open: true}}}},
		{"BadSize", filter.Term{Field: "contentProperties.size", Pattern: []string{"ten"}}},
		{"BadDate", filter.Term{Field: "createdDate", Pattern: []string{"yesterday"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filter.Resolve(tt.in)
			if err == nil {
				t.Fatalf("Resolve(%v) = %+v, want error", tt.in, got)
			}
			if de := drive.AsError(err); de == nil || de.Kind != drive.Invalid || de.Param != "filters" {
				t.Errorf("Resolve(%v) error = %#v, want drive.Invalid with Param filters", tt.in, err)
			}
		})
	}
}
