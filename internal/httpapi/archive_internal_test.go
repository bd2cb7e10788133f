package httpapi

import "testing"

func TestArchiveUnique(t *testing.T) {
	a := &archiver{names: map[string]bool{}}
	for _, tt := range []struct {
		in   string
		dir  bool
		want string
	}{
		{"a.txt", false, "a.txt"},
		{"A.TXT", false, "A (2).TXT"},
		{"a.txt", false, "a (3).txt"},
		{"d", true, "d"},
		{"D", true, "D (2)"},
		{"d/.rc", false, "d/.rc"},
		{"d/.RC", false, "d/.RC (2)"},
		{"x.tar.gz", false, "x.tar.gz"},
		{"x.tar.gz", false, "x.tar (2).gz"},
	} {
		if got := a.unique(tt.in, tt.dir); got != tt.want {
			t.Errorf("unique(%q, %v) = %q, want %q", tt.in, tt.dir, got, tt.want)
		}
	}
}
