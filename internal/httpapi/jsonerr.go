package httpapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// decodeJSON unmarshals data, a request's JSON (param names it in errors:
// "body", "metadata"), into v. A failure is Invalid with a message in the
// API's words, never encoding/json's (which names Go types and fields):
//
//	name: must be a string, not a number
//	parents: must hold only strings, not a number
//	body: must be a JSON object, not an array
//	body: not valid JSON at offset 14
//	body: not valid JSON: it ends early (at offset 12)
func decodeJSON(param string, data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	const op = "httpapi.decodeJSON"
	bad := func(p, msg string) error {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: p, Message: msg, Err: err}
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && syn.Offset >= int64(len(data)) && strings.Contains(syn.Error(), "end of JSON input"):
		return bad(param, "not valid JSON: it ends early (at offset "+strconv.FormatInt(syn.Offset, 10)+")")
	case errors.As(err, &syn):
		return bad(param, "not valid JSON at offset "+strconv.FormatInt(syn.Offset, 10))
	case errors.As(err, &typ) && typ.Field == "":
		return bad(param, "must be "+jsonKind(typ.Type)+", not "+jsonValue(typ.Value))
	case errors.As(err, &typ):
		want := typ.Type
		if f := fieldType(reflect.TypeOf(v), strings.Split(typ.Field, ".")); f != nil && deref(f) != deref(want) {
			if elem := elemType(f); elem != nil && deref(elem) == deref(want) {
				return bad(typ.Field, "must hold only "+jsonKinds(want)+", not "+jsonValue(typ.Value))
			}
		}
		if isInteger(want) && strings.HasPrefix(typ.Value, "number") {
			return bad(typ.Field, "must be a whole number in range")
		}
		return bad(typ.Field, "must be "+jsonKind(want)+", not "+jsonValue(typ.Value))
	}
	if de := drive.AsError(err); de != nil {
		return err
	}
	return bad(param, "not valid for this request")
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldType follows a dotted path of JSON names from t, nil when lost.
func fieldType(t reflect.Type, path []string) reflect.Type {
	for _, name := range path {
		t = deref(t)
		if t == nil || t.Kind() != reflect.Struct {
			return nil
		}
		var found reflect.Type
		for i := 0; i < t.NumField() && found == nil; i++ {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == name || tag == "" && strings.EqualFold(f.Name, name) {
				found = f.Type
			}
		}
		if found == nil {
			return nil
		}
		t = found
	}
	return t
}

// elemType is the innermost element type of slices, arrays and maps.
func elemType(t reflect.Type) reflect.Type {
	t = deref(t)
	var out reflect.Type
	for t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
		out = t.Elem()
		t = deref(out)
	}
	return out
}

func isInteger(t reflect.Type) bool {
	switch deref(t).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// jsonKind names the JSON a Go type takes, with its article.
func jsonKind(t reflect.Type) string {
	switch deref(t).Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "a JSON object"
	}
	if isInteger(t) {
		return "an integer"
	}
	return "another JSON value"
}

// jsonKinds is jsonKind in the plural, without the article.
func jsonKinds(t reflect.Type) string {
	switch k := jsonKind(t); k {
	case "true or false":
		return "true or false"
	case "another JSON value":
		return "other JSON values"
	default:
		_, noun, _ := strings.Cut(k, " ")
		return noun + "s"
	}
}

// jsonValue names what encoding/json found ("number", "number 1.5",
// "string", "bool", "array", "object").
func jsonValue(v string) string {
	kind, _, _ := strings.Cut(v, " ")
	switch kind {
	case "bool":
		return "true or false"
	case "array":
		return "an array"
	case "object":
		return "an object"
	case "number", "string":
		return "a " + kind
	}
	return "that value"
}
