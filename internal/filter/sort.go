package filter

import (
	"fmt"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// MaxSortLength is the longest sort= value accepted, in bytes.
const MaxSortLength = 1 << 10

// SortKey is one key of a sort= parameter.
type SortKey struct {
	// Field is the canonical field name, e.g. "modifiedDate".
	Field string
	// Desc is true for DESC, false for ASC (the default).
	Desc bool
}

// ParseSort parses the sort= parameter. It accepts a JSON-like array of
// strings, with double or single quotes (["modifiedDate DESC"],
// ['createdDate DESC'], ["name ASC", "contentProperties.size DESC"]), or
// the same list without brackets and quotes ("name ASC" or "name"). Each
// element is a field, optionally followed by ASC or DESC; ASC is the
// default. Field names and directions are matched case-insensitively.
//
// Sortable fields: name, createdDate, modifiedDate,
// contentProperties.contentDate, contentProperties.size, kind and id. An
// empty s (or []) gives nil keys and a nil error. Any other problem, such
// as an unknown field or direction or a field given twice, is a
// drive.Invalid *drive.Error with Param "sort".
//
// ParseSort does not add a tie-breaker: a store that paginates breaks
// ties by id (see meta.Query.Sort).
func ParseSort(s string) ([]SortKey, error) {
	if len(s) > MaxSortLength {
		return nil, sortError("sort is %d bytes long, the limit is %d", len(s), MaxSortLength)
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return nil, sortError("sort starts with '[' but does not end with ']'")
		}
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if s == "" {
		return nil, nil
	}
	var keys []SortKey
	for elem := range strings.SplitSeq(s, ",") {
		elem = strings.TrimSpace(elem)
		if n := len(elem); n >= 2 && (elem[0] == '"' || elem[0] == '\'') {
			if elem[n-1] != elem[0] {
				return nil, sortError("unterminated quoted sort key %s", elem)
			}
			elem = strings.TrimSpace(elem[1 : n-1])
		}
		words := strings.Fields(elem)
		if len(words) == 0 || len(words) > 2 {
			return nil, sortError("invalid sort key %q: want a field, optionally followed by ASC or DESC", elem)
		}
		key, ok := sortField(words[0])
		if !ok {
			return nil, sortError("cannot sort by %q", words[0])
		}
		if len(words) == 2 {
			switch strings.ToUpper(words[1]) {
			case "ASC":
			case "DESC":
				key.Desc = true
			default:
				return nil, sortError("invalid sort direction %q for %q: want ASC or DESC", words[1], key.Field)
			}
		}
		for _, k := range keys {
			if k.Field == key.Field {
				return nil, sortError("sort field %q given twice", key.Field)
			}
		}
		keys = append(keys, key)
	}
	return keys, nil
}

func sortError(format string, args ...any) *drive.Error {
	return &drive.Error{Op: "filter.ParseSort", Kind: drive.Invalid, Param: "sort", Message: fmt.Sprintf(format, args...)}
}

// sortField returns the key for a sortable field name, ascending.
func sortField(name string) (SortKey, bool) {
	field, ok := canonicalField(name)
	if !ok {
		return SortKey{}, false
	}
	switch field {
	case FieldName, FieldCreated, FieldModified, FieldSize, FieldContentDate, FieldKind, FieldID:
		return SortKey{Field: field}, true
	}
	return SortKey{}, false
}
