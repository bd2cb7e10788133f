package bytesize

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		// Documented inputs of the flags and config values that use Parse.
		{"0", 0}, {"1500", 1500}, {"1048576", 1 << 20}, {"7B", 7}, {"7b", 7}, {"100B", 100},
		{"1KiB", 1 << 10}, {"5 MiB", 5 << 20}, {"8MiB", 8 << 20}, {"16MiB", 16 << 20}, {"1GiB", 1 << 30},
		{"10GiB", 10 << 30}, {"50GiB", 50 << 30}, {"1TiB", 1 << 40},
		{"1K", 1 << 10}, {"10k", 10 << 10}, {"512M", 512 << 20}, {"1G", 1 << 30}, {"4G", 4 << 30},
		{"2g", 2 << 30}, {"1T", 1 << 40}, {" 4G ", 4 << 30}, {"1Ki", 1 << 10}, {"2gib", 2 << 30},
		{"10MB", 10e6}, {"500MB", 500e6}, {"1kb", 1000}, {"3GB", 3e9}, {"2TB", 2e12},
		{"1P", 1 << 50}, {"1PB", 1e15}, {"1EiB", 1 << 60}, {"7E", 7 << 60}, {"9EB", 9e18},
		// Fractions, rounded down.
		{"1.5 KiB", 1536}, {"1.5K", 1536}, {"1.5GiB", 3 << 29}, {".5K", 512}, {"1.5", 1},
		{"0.001K", 1}, {"0.0001K", 0}, {"1.0000000000000000000001M", 1 << 20},
		{"9223372036854775807", math.MaxInt64}, {"7.99999999999999999999E", math.MaxInt64},
	} {
		if got, err := Parse(tc.in); err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", " ", "B", "G", "KiB", ".", "1.", "1..5K", "1.2.3", "-1", "-1M", "+5", "1e3", "0x10", "inf", "NaN",
		"lots", "1X", "1 K B", "1KiBB", "1iB", "1bit", "99999999T", "8E", "9223372036854775808", "10EB",
		"1_000", "1,5M", "١٢",
	} {
		got, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, got)
			continue
		}
		if !strings.Contains(err.Error(), "invalid size") {
			t.Errorf("Parse(%q) error %q does not say it is an invalid size", in, err)
		}
	}
	if _, err := Parse("lots"); !errors.Is(err, ErrSyntax) {
		t.Errorf("Parse(lots) = %v, want ErrSyntax", err)
	}
}

func TestFormat(t *testing.T) {
	for in, want := range map[int64]string{
		0: "0 B", 1: "1 B", 1000: "1000 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB",
		2047: "1.9 KiB", 1<<20 - 1: "1023.9 KiB", 1 << 20: "1 MiB", 64 << 20: "64 MiB",
		1<<30 + 1: "1.0 GiB", 1 << 30: "1 GiB", 4 << 30: "4 GiB", 1500e6: "1.3 GiB", 10 << 40: "10 TiB",
		1 << 50: "1 PiB", 1 << 60: "1 EiB", math.MaxInt64: "7.9 EiB", -1536: "-1.5 KiB",
		math.MinInt64: "-8 EiB",
	} {
		if got := Format(in); got != want {
			t.Errorf("Format(%d) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParse checks that Parse never panics, never returns a negative size
// with a nil error, and that whatever Format writes for a parsed size
// parses back to it when it is exact and to at most 10% less otherwise.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "512M", "1.5GiB", "500MB", "7.99999999999999999999E", "9223372036854775807", ".5k", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("Parse(%q) = %d", s, n)
		}
		roundTrip(t, n)
	})
}

// TestRoundTrip checks Format then Parse on sizes around every unit.
func TestRoundTrip(t *testing.T) {
	for shift := 0; shift < 63; shift++ {
		for _, d := range []int64{-1, 0, 1, 3} {
			for _, m := range []int64{1, 3, 1000} {
				if n := int64(1)<<shift*m + d; n >= 0 { // overflowed products are just other sizes
					roundTrip(t, n)
				}
			}
		}
	}
	roundTrip(t, math.MaxInt64)
}

func roundTrip(t *testing.T, n int64) {
	t.Helper()
	s := Format(n)
	back, err := Parse(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("Parse(Format(%d) = %q): %v", n, s, err)
	}
	exact := !strings.Contains(s, ".")
	switch {
	case exact && back != n:
		t.Fatalf("Parse(Format(%d) = %q) = %d", n, s, back)
	case back > n || float64(n-back) > float64(n)/10:
		t.Fatalf("Parse(Format(%d) = %q) = %d, want at most n and at least 90%% of it", n, s, back)
	}
}
