package main

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1500", 1500, true}, {"10GiB", 10 << 30, true}, {"500MB", 500e6, true},
		{"1.5 KiB", 1536, true}, {"7b", 7, true}, {"-1", 0, false}, {"lots", 0, false}, {"", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
