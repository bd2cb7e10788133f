package drive

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
)

// MaxNameLength is the longest node name accepted, in bytes.
const MaxNameLength = 1024

// NameKey returns the key under which names are compared: Unicode case
// folding, so "Straße" and "STRASSE" collide as they did on ACD.
func NameKey(name string) string {
	return cases.Fold().String(name)
}

// ValidateName checks a node name for creation or rename.
func ValidateName(op, name string) error {
	switch {
	case name == "":
		return &Error{Op: op, Kind: Invalid, Param: "name", Message: "name must not be empty"}
	case len(name) > MaxNameLength:
		return &Error{Op: op, Kind: Invalid, Param: "name", Message: "name is too long"}
	case !utf8.ValidString(name):
		return &Error{Op: op, Kind: Invalid, Param: "name", Message: "name is not valid UTF-8"}
	case strings.ContainsAny(name, "/\x00"):
		return &Error{Op: op, Kind: Invalid, Param: "name", Message: "name must not contain '/' or NUL"}
	case name == "." || name == "..":
		return &Error{Op: op, Kind: Invalid, Param: "name", Message: "name must not be '.' or '..'"}
	}
	return nil
}
