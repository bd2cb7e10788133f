package filter_test

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
)

// FuzzParse checks that Parse never panics, that it fails only with
// drive.Invalid errors, that every term of whatever it accepts resolves,
// and that the canonical String form parses back to itself.
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	for _, tt := range parseErrorTests {
		if len(tt.in) <= 1024 {
			f.Add(tt.in)
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		e, err := filter.Parse(q)
		if err != nil {
			if de := drive.AsError(err); de == nil || de.Kind != drive.Invalid || de.Param != "filters" {
				t.Fatalf("Parse(%q) error = %#v, want drive.Invalid with Param filters", q, err)
			}
			return
		}
		if err := resolveAll(e); err != nil {
			t.Fatalf("Resolve of a term of Parse(%q): %v", q, err)
		}
		if e == nil {
			return
		}
		s := e.String()
		if len(s) > filter.MaxLength {
			return // the canonical form repeats fields of value groups
		}
		e2, err := filter.Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) error: %v (canonical form of %q)", s, err, q)
		}
		if s2 := e2.String(); s2 != s {
			t.Fatalf("Parse(%q).String() = %q, want the same (canonical form of %q)", s, s2, q)
		}
	})
}
