package formdata

import "bytes"

// minSkipLen is the shortest delimiter that finder searches for with skips;
// shorter ones go to bytes.Index, which is as fast for them.
const minSkipLen = 16

// finder finds the delimiter "\r\n--boundary" in part data. bytes.Index
// looks for its first byte, CR, which random data holds every 256 bytes
// on average; finder skips ahead by the Boyer-Moore-Horspool rule instead
// (about the delimiter's length per step on such data), several times
// faster on a large upload. Input that defeats the skips (the delimiter's
// bytes over and over) falls back to bytes.Index, so the search stays
// linear in practice either way.
type finder struct {
	pat  []byte
	skip [256]uint8
}

func (f *finder) init(pat []byte) {
	f.pat = pat
	m := len(pat)
	for i := range f.skip {
		f.skip[i] = uint8(min(m, 255))
	}
	for i := 0; i < m-1; i++ {
		f.skip[pat[i]] = uint8(min(m-1-i, 255)) // a smaller skip is always safe
	}
}

// index returns the index of the first occurrence of the delimiter in s,
// or -1, as bytes.Index(s, f.pat) does.
func (f *finder) index(s []byte) int {
	m := len(f.pat)
	if m < minSkipLen || len(s) < 4*m {
		return bytes.Index(s, f.pat)
	}
	last := f.pat[m-1]
	head := f.pat[:m-1]
	work := 0
	for i := 0; i <= len(s)-m; {
		c := s[i+m-1]
		if c == last {
			if bytes.Equal(s[i:i+m-1], head) {
				return i
			}
			work += m
		}
		i += int(f.skip[c])
		work++
		if work > 2*i+4*m {
			// The skips are short: let bytes.Index do the rest.
			if j := bytes.Index(s[i:], f.pat); j >= 0 {
				return i + j
			}
			return -1
		}
	}
	return -1
}
