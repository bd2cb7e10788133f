package byterange_test

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/byterange"
	"github.com/clouddrive/clouddrive/internal/drive"
)

func TestParse(t *testing.T) {
	const (
		full  = iota // ignore the header: 200 with everything
		part         // 206 with start, length
		unsat        // 416
	)
	tests := []struct {
		name          string
		header        string
		size          int64
		want          int
		start, length int64
	}{
		{"no header", "", 100, full, 0, 0},
		{"blank header", "  ", 100, full, 0, 0},

		{"first byte", "bytes=0-0", 100, part, 0, 1},
		{"closed", "bytes=10-19", 100, part, 10, 10},
		{"whole, closed", "bytes=0-99", 100, part, 0, 100},
		{"last byte", "bytes=99-99", 100, part, 99, 1},
		{"end clamped", "bytes=0-100", 100, part, 0, 100},
		{"acd_cli huge end", "bytes=0-524287999", 100, part, 0, 100},
		{"acd_cli second chunk", "bytes=524288000-1048575999", 600 << 20, part, 524288000, 600<<20 - 524288000},
		{"end past int64", "bytes=5-99999999999999999999999", 100, part, 5, 95},
		{"open", "bytes=10-", 100, part, 10, 90},
		{"open from 0", "bytes=0-", 100, part, 0, 100},
		{"open last byte", "bytes=99-", 100, part, 99, 1},
		{"suffix", "bytes=-10", 100, part, 90, 10},
		{"suffix all", "bytes=-100", 100, part, 0, 100},
		{"suffix longer", "bytes=-1000", 100, part, 0, 100},
		{"suffix past int64", "bytes=-99999999999999999999999", 100, part, 0, 100},
		{"suffix of 1 byte", "bytes=-1", 1, part, 0, 1},

		{"unit case", "Bytes=1-2", 100, part, 1, 2},
		{"blanks", " bytes = 1 - 2 ", 100, part, 1, 2},
		{"leading zeros", "bytes=007-008", 100, part, 7, 2},
		{"empty elements", "bytes=,1-2,", 100, part, 1, 2},

		{"multiple: first wins", "bytes=0-1,5-6", 100, part, 0, 2},
		{"multiple: suffix first", "bytes=-5,0-1", 100, part, 95, 5},
		{"multiple: first unsatisfiable", "bytes=200-300,5-6", 100, part, 5, 2},
		{"multiple: none satisfiable", "bytes=200-300,100-", 100, unsat, 0, 0},
		{"multiple: bad second", "bytes=0-1,x", 100, full, 0, 0},
		{"multiple: backwards second", "bytes=0-1,6-5", 100, full, 0, 0},
		{"multiple: overlapping", "bytes=0-50,10-20", 100, part, 0, 51},

		{"start at size", "bytes=100-", 100, unsat, 0, 0},
		{"start at size, closed", "bytes=100-200", 100, unsat, 0, 0},
		{"start past size", "bytes=500-600", 100, unsat, 0, 0},
		{"start past int64", "bytes=99999999999999999999999-", 100, unsat, 0, 0},
		{"zero suffix", "bytes=-0", 100, unsat, 0, 0},
		{"empty file", "bytes=0-", 0, unsat, 0, 0},
		{"empty file, closed", "bytes=0-0", 0, unsat, 0, 0},
		{"empty file, acd_cli", "bytes=0-524287999", 0, unsat, 0, 0},
		{"empty file, suffix", "bytes=-5", 0, unsat, 0, 0},
		{"negative size", "bytes=0-", -1, unsat, 0, 0},

		{"other unit", "items=0-1", 100, full, 0, 0},
		{"no unit", "0-1", 100, full, 0, 0},
		{"no equals", "bytes 0-1", 100, full, 0, 0},
		{"empty set", "bytes=", 100, full, 0, 0},
		{"only commas", "bytes=,,", 100, full, 0, 0},
		{"no dash", "bytes=5", 100, full, 0, 0},
		{"only dash", "bytes=-", 100, full, 0, 0},
		{"backwards", "bytes=10-5", 100, full, 0, 0},
		{"backwards past size", "bytes=500-400", 100, full, 0, 0},
		{"negative start", "bytes=--5", 100, full, 0, 0},
		{"negative end", "bytes=5--6", 100, full, 0, 0},
		{"plus sign", "bytes=+5-6", 100, full, 0, 0},
		{"hex", "bytes=0x10-0x20", 100, full, 0, 0},
		{"garbage", "bytes=abc", 100, full, 0, 0},
		{"unicode digits", "bytes=١-٢", 100, full, 0, 0},
		{"double equals", "bytes==0-1", 100, full, 0, 0},
		{"inner space", "bytes=1 0-20", 100, full, 0, 0},
		{"garbage, empty file", "bytes=x", 0, full, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, length, ok, err := byterange.Parse(tt.header, tt.size)
			switch tt.want {
			case full:
				if ok || err != nil {
					t.Errorf("Parse(%q, %d) = %d, %d, %v, %v; want ok false, nil", tt.header, tt.size, start, length, ok, err)
				}
			case part:
				if !ok || err != nil || start != tt.start || length != tt.length {
					t.Errorf("Parse(%q, %d) = %d, %d, %v, %v; want %d, %d, true, nil", tt.header, tt.size, start, length, ok, err, tt.start, tt.length)
				}
			case unsat:
				if ok || !drive.Is(drive.RangeNotSatisfiable, err) {
					t.Errorf("Parse(%q, %d) = %d, %d, %v, %v; want ok false, a drive.RangeNotSatisfiable error", tt.header, tt.size, start, length, ok, err)
				}
			}
		})
	}
}

func TestContentRange(t *testing.T) {
	tests := []struct {
		start, length, size int64
		want                string
	}{
		{0, 1, 1, "bytes 0-0/1"},
		{0, 500, 1234, "bytes 0-499/1234"},
		{90, 10, 100, "bytes 90-99/100"},
		{524288000, 1 << 20, 1 << 40, "bytes 524288000-525336575/1099511627776"},
	}
	for _, tt := range tests {
		if got := byterange.ContentRange(tt.start, tt.length, tt.size); got != tt.want {
			t.Errorf("ContentRange(%d, %d, %d) = %q, want %q", tt.start, tt.length, tt.size, got, tt.want)
		}
	}
}

func TestUnsatisfied(t *testing.T) {
	for size, want := range map[int64]string{0: "bytes */0", 1234: "bytes */1234"} {
		if got := byterange.Unsatisfied(size); got != want {
			t.Errorf("Unsatisfied(%d) = %q, want %q", size, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, h := range []string{"", "bytes=0-0", "bytes=0-", "bytes=-5", "bytes=5-3", "bytes=0-1,5-6",
		"bytes=99999999999999999999-", "bytes=-0", "Bytes= 1 - 2 ,", "items=1-2"} {
		for _, size := range []int64{0, 1, 100, 1 << 40} {
			f.Add(h, size)
		}
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		start, length, ok, err := byterange.Parse(header, size)
		switch {
		case ok && err != nil:
			t.Fatalf("Parse(%q, %d): ok with error %v", header, size, err)
		case ok && (start < 0 || length < 1 || start > size-length):
			t.Fatalf("Parse(%q, %d) = %d, %d: out of bounds", header, size, start, length)
		case err != nil && !drive.Is(drive.RangeNotSatisfiable, err):
			t.Fatalf("Parse(%q, %d): error %v", header, size, err)
		case !ok && err == nil && (start != 0 || length != 0):
			t.Fatalf("Parse(%q, %d) = %d, %d, not ok", header, size, start, length)
		}
	})
}
