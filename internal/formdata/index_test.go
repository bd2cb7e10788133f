package formdata

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFinderIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for _, pat := range []string{"\r\n--b", "\r\n--clouddriveBenchBoundary0123456789", "\n--" + strings.Repeat("x", 256), "\r\n--aaaaaaaaaaaaaaaaaaaa"} {
		var f finder
		f.init([]byte(pat))
		cases := [][]byte{nil, []byte(pat), []byte(pat[:len(pat)-1])}
		for _, n := range []int{10, 100, 1000, 100000} {
			data := random(n)
			cases = append(cases, data)
			for _, at := range []int{0, n / 3, n - len(pat)} {
				if at < 0 {
					continue
				}
				d := bytes.Clone(data)
				copy(d[at:], pat)
				cases = append(cases, d)
			}
			// Near misses and runs of the delimiter's bytes.
			cases = append(cases, bytes.Repeat([]byte(pat[:len(pat)-1]), n/len(pat)+1))
			cases = append(cases, append(bytes.Repeat([]byte("a"), n), pat...))
			cases = append(cases, append(bytes.Repeat([]byte(pat[1:]), n/len(pat)+1), pat...))
		}
		for i, s := range cases {
			if got, want := f.index(s), bytes.Index(s, []byte(pat)); got != want {
				t.Errorf("pattern %q, case %d (%d bytes): index = %d, want %d", pat[:min(len(pat), 12)], i, len(s), got, want)
			}
		}
	}
}

func FuzzFinderIndex(f *testing.F) {
	f.Add("\r\n--0123456789abcdef", []byte("xx\r\n--0123456789abcdef"))
	f.Add("\r\n--aaaaaaaaaaaaaaaaaaaaa", bytes.Repeat([]byte("a"), 500))
	f.Fuzz(func(t *testing.T, pat string, s []byte) {
		if pat == "" {
			return
		}
		var fd finder
		fd.init([]byte(pat))
		if got, want := fd.index(s), bytes.Index(s, []byte(pat)); got != want {
			t.Fatalf("index(%q, %q) = %d, want %d", s, pat, got, want)
		}
	})
}
