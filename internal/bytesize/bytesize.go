// Package bytesize reads and writes byte counts as people type them in
// flags, config values and filters, and as the CLI and web pages show
// them.
//
// One convention holds for every size clouddrive accepts (the same as GNU
// coreutils' sizes):
//
//   - a plain number is a count of bytes ("1500"; a trailing "B" is allowed:
//     "1500B");
//   - K, M, G, T, P and E, alone or as KiB, MiB, GiB, TiB, PiB and EiB, are
//     powers of 1024 ("512M" and "512MiB" are both 512 × 2^20);
//   - KB, MB, GB, TB, PB and EB are powers of 1000 ("500MB" is 500 × 10^6).
//
// Units are case-insensitive ("2g", "10gib", "1kb"), may follow the number
// after spaces ("5 MiB"), and the number may have a decimal fraction
// ("1.5GiB"; the result is rounded down to whole bytes). Negative numbers,
// exponents, signs and sizes beyond math.MaxInt64 are errors.
//
// Format writes binary units only (KiB, MiB, ...), so a size that Format
// wrote parses back with Parse, exactly when it has no fraction.
package bytesize

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// units maps a lower-case unit to its multiplier. Longer suffixes are
// tried first (see Parse).
var units = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "ki": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mi": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gi": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "ti": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	"p": 1 << 50, "pi": 1 << 50, "pib": 1 << 50, "pb": 1e15,
	"e": 1 << 60, "ei": 1 << 60, "eib": 1 << 60, "eb": 1e18,
}

// ErrSyntax is wrapped by every error of Parse.
var ErrSyntax = errors.New("want a number of bytes with an optional unit: K, M, G, T (or KiB, MiB, GiB, TiB) in powers of 1024, KB, MB, GB, TB in powers of 1000, e.g. 512M, 10GiB or 500MB")

// Parse reads a byte count as the package comment describes.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := units[unit]
	if !ok || num == "" || strings.HasSuffix(num, ".") || strings.Count(num, ".") > 1 {
		return 0, fmt.Errorf("invalid size %q: %w", s, ErrSyntax)
	}
	whole, frac, _ := strings.Cut(num, ".")
	var n int64
	if whole != "" {
		w, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || w > math.MaxInt64/mult {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		n = w * mult
	}
	if frac != "" {
		// frac/10^len(frac) × mult, exactly, rounded down.
		f, _ := new(big.Int).SetString(frac, 10)
		f.Mul(f, big.NewInt(mult))
		f.Quo(f, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil))
		if f.Int64() > math.MaxInt64-n {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		n += f.Int64()
	}
	return n, nil
}

// Format writes n for people: "0 B" to "1023 B", then the largest binary
// unit not above n, as a whole number when n is an exact multiple of it
// ("64 MiB") and otherwise with one decimal, rounded down so that a size
// is never shown larger than it is ("1.5 KiB", "1023.9 KiB"). A negative n
// is written with a minus sign.
func Format(n int64) string {
	if n < 0 {
		if n == math.MinInt64 {
			return "-8 EiB"
		}
		return "-" + Format(-n)
	}
	if n < 1<<10 {
		return strconv.FormatInt(n, 10) + " B"
	}
	exp := 0
	for exp < 5 && n>>(10*(exp+2)) > 0 {
		exp++
	}
	unit := int64(1) << (10 * (exp + 1))
	suffix := " " + string("KMGTPE"[exp]) + "iB"
	whole, rest := n/unit, n%unit
	if rest == 0 {
		return strconv.FormatInt(whole, 10) + suffix
	}
	// rest < unit <= 2^60, so rest*10 fits in a uint64.
	tenth := int64(uint64(rest) * 10 >> (10 * (exp + 1)))
	return strconv.FormatInt(whole, 10) + "." + strconv.FormatInt(tenth, 10) + suffix
}
