package acd

import (
	"errors"
	"time"
)

// Time is a timestamp that travels in TimeFormat (UTC, always three
// digits of milliseconds), such as contentProperties.mtime. The zero
// Time is "none": with the omitzero tag option it is left out, and a
// JSON null or "" decodes to it. Decoding accepts any RFC 3339 time and
// keeps it as given; encoding converts to UTC and drops what is below a
// millisecond.
type Time struct{ time.Time }

// NewTime returns t as a Time.
func NewTime(t time.Time) Time { return Time{t} }

// String is t in TimeFormat, or "" for the zero Time.
func (t Time) String() string { return FormatTime(t.Time) }

// FormatTime returns t in TimeFormat (UTC, milliseconds), or "" when t is
// the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeFormat)
}

// ParseTime parses an RFC 3339 time such as the API sends (TimeFormat) or
// accepts (any offset, any number of fraction digits).
func ParseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(TimeFormat)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeFormat)
	return append(b, '"'), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" || s == `""` {
		*t = Time{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return errors.New("acd: a time must be a JSON string")
	}
	v, err := ParseTime(s[1 : len(s)-1])
	if err != nil {
		return err
	}
	*t = Time{v}
	return nil
}
