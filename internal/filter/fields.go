package filter

import "strings"

// Canonical field names, as they appear in Term.Field.
const (
	FieldKind        = "kind"
	FieldStatus      = "status"
	FieldIsRoot      = "isRoot"
	FieldID          = "id"
	FieldParents     = "parents"
	FieldName        = "name"
	FieldDescription = "description"
	FieldLabels      = "labels"
	FieldCreated     = "createdDate"
	FieldModified    = "modifiedDate"
	FieldMD5         = "contentProperties.md5"
	FieldContentType = "contentProperties.contentType"
	FieldExtension   = "contentProperties.extension"
	FieldSize        = "contentProperties.size"
	FieldContentDate = "contentProperties.contentDate"
	FieldHidden      = "settings.hidden"
)

// canonicalField maps a field name, in any letter case, to its canonical
// spelling.
func canonicalField(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "kind":
		return FieldKind, true
	case "status":
		return FieldStatus, true
	case "isroot":
		return FieldIsRoot, true
	case "id":
		return FieldID, true
	case "parents":
		return FieldParents, true
	case "name":
		return FieldName, true
	case "description":
		return FieldDescription, true
	case "labels":
		return FieldLabels, true
	case "createddate":
		return FieldCreated, true
	case "modifieddate":
		return FieldModified, true
	case "contentproperties.md5":
		return FieldMD5, true
	case "contentproperties.contenttype":
		return FieldContentType, true
	case "contentproperties.extension":
		return FieldExtension, true
	case "contentproperties.size":
		return FieldSize, true
	case "contentproperties.contentdate":
		return FieldContentDate, true
	case "settings.hidden":
		return FieldHidden, true
	}
	return "", false
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	}
	return false
}

func isFieldByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.'
}
