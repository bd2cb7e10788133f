// Package byterange interprets the HTTP Range header of content downloads
// the way the Amazon Cloud Drive clients need it (API notes §6.3 and §14).
//
// It exists because net/http's range handling lives inside ServeContent,
// which wants an io.ReadSeeker and decides the status itself, while content
// comes from blob stores as ranged streams, and because the clients rely
// on details:
//
//   - acd_cli sends a Range on every download and accepts only 206. When it
//     does not know the size (cat), it asks for a huge end offset, so the
//     end is clamped to the size.
//   - acd_cli treats 416 as the end of the file, so a range that starts at
//     or past the end, including any range of an empty file, is
//     unsatisfiable: never an empty 206 or a 200.
//   - rclone and go-acd pass their own Range through and accept any 2xx.
//
// Only the "bytes" unit is understood. A header that is absent or that
// does not parse is ignored, as RFC 9110 §14.2 allows, and the whole
// content is served with 200.
//
// Multiple ranges ("bytes=0-1,5-6") are answered with the first
// satisfiable one alone, as a plain 206 with Content-Range: RFC 9110 lets a
// server send fewer ranges than asked, clients that ask for several must
// accept a single-part answer, and none of the ACD clients asks for more
// than one. multipart/byteranges is not implemented. The answer is 416 only
// when no range is satisfiable.
package byterange

import (
	"math"
	"strconv"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// Parse interprets a Range header value against content of the given size
// (a negative size counts as 0).
//
//   - ok is false and err nil when the whole content should be served with
//     200: the header is empty, not about bytes, or malformed (bad syntax,
//     a last position before the first).
//   - ok is true when the bytes [start, start+length) should be served
//     with 206; then 0 <= start, 1 <= length and start+length <= size. An
//     end past the last byte is clamped to it, and a suffix "-n" longer than
//     the content selects all of it.
//   - err is a drive.RangeNotSatisfiable error (416) when the header is
//     well formed but no range in it is satisfiable: every range starts at
//     or past the end, or is a zero-length suffix, or the content is empty.
//
// See the package comment for multiple ranges.
func Parse(header string, size int64) (start, length int64, ok bool, err error) {
	size = max(size, 0)
	unit, set, found := strings.Cut(strings.Trim(header, " \t"), "=")
	if !found || !strings.EqualFold(strings.Trim(unit, " \t"), "bytes") {
		return 0, 0, false, nil
	}
	specs := 0
	for spec := range strings.SplitSeq(set, ",") {
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue // RFC 9110 §5.6.1: empty list elements are allowed
		}
		r, valid := parseSpec(spec)
		if !valid {
			return 0, 0, false, nil
		}
		specs++
		switch {
		case ok:
			// Keep checking the syntax of the rest.
		case r.suffix:
			if n := min(r.n, size); n > 0 {
				start, length, ok = size-n, n, true
			}
		case r.first < size:
			start, length, ok = r.first, min(r.last, size-1)-r.first+1, true
		}
	}
	switch {
	case specs == 0:
		return 0, 0, false, nil
	case !ok:
		return 0, 0, false, drive.E("byterange.Parse", drive.RangeNotSatisfiable, "requested range not satisfiable")
	}
	return start, length, true, nil
}

// rangeSpec is one parsed range-spec.
type rangeSpec struct {
	suffix      bool  // "-n": the last n bytes
	n           int64 // for a suffix
	first, last int64 // otherwise: "a-b", or "a-" with last math.MaxInt64
}

// parseSpec parses one range-spec: "a-b", "a-" or "-n". Numbers too large
// for an int64 saturate. It reports whether the syntax is valid and, for
// "a-b", whether b >= a.
func parseSpec(spec string) (r rangeSpec, valid bool) {
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return r, false
	}
	a, b = strings.Trim(a, " \t"), strings.Trim(b, " \t")
	var ok bool
	if a == "" {
		r.suffix = true
		r.n, ok = parseDigits(b)
		return r, ok
	}
	if r.first, ok = parseDigits(a); !ok {
		return r, false
	}
	if b == "" {
		r.last = math.MaxInt64
		return r, true
	}
	r.last, ok = parseDigits(b)
	return r, ok && r.last >= r.first
}

// parseDigits parses a non-empty string of ASCII digits, saturating at
// math.MaxInt64.
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
		} else {
			n = n*10 + d
		}
	}
	return n, true
}

// ContentRange returns the Content-Range value of a 206 response carrying
// the bytes [start, start+length) of content of the given size, such as
// "bytes 0-499/1234".
func ContentRange(start, length, size int64) string {
	return "bytes " + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(start+length-1, 10) +
		"/" + strconv.FormatInt(size, 10)
}

// Unsatisfied returns the Content-Range value of a 416 response for
// content of the given size, such as "bytes */1234".
func Unsatisfied(size int64) string {
	return "bytes */" + strconv.FormatInt(size, 10)
}
