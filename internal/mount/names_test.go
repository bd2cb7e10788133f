package mount

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLocalNameExamples(t *testing.T) {
	for _, tc := range []struct{ remote, local string }{
		{"plain.txt", "plain.txt"},
		{"100% sure", "100% sure"},
		{"%2F", "%2F"},
		{"a/b", "a∕b"},
		{"/", "∕"},
		{"nul\x00byte", "nul␀byte"},
		{".", "．"},
		{"..", "．．"},
		{"...", "..."},
		{".hidden", ".hidden"},
		{"．", "‛．"},
		{"．．", "‛．．"},
		{"．x", "．x"},
		{"a∕b", "a‛∕b"},
		{"‛", "‛‛"},
		{"‛x", "‛‛x"},
		{"␀", "‛␀"},
		{"bad\xffutf8/", "bad\xffutf8∕"},
	} {
		if got := LocalName(tc.remote); got != tc.local {
			t.Errorf("LocalName(%q) = %q, want %q", tc.remote, got, tc.local)
		}
		if got, ok := RemoteName(tc.local); !ok || got != tc.remote {
			t.Errorf("RemoteName(%q) = %q, %v; want %q", tc.local, got, ok, tc.remote)
		}
	}
}

func TestRemoteNameRejects(t *testing.T) {
	for _, local := range []string{"", ".", "..", "a/b", "a\x00b", "‛", "x‛", "‛x", "‛．x"} {
		if r, ok := RemoteName(local); ok {
			t.Errorf("RemoteName(%q) = %q, true; want not ok", local, r)
		}
	}
}

// validLocal reports whether Linux accepts name as a directory entry.
func validLocal(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// checkNames asserts both round trips for one string used as a remote
// name and as a local name.
func checkNames(t *testing.T, s string) {
	t.Helper()
	if s != "" {
		l := LocalName(s)
		if !validLocal(l) {
			t.Fatalf("LocalName(%q) = %q: not a valid local name", s, l)
		}
		if r, ok := RemoteName(l); !ok || r != s {
			t.Fatalf("RemoteName(LocalName(%q)) = %q, %v", s, r, ok)
		}
	}
	if r, ok := RemoteName(s); ok {
		if !validLocal(s) {
			t.Fatalf("RemoteName accepted invalid local name %q", s)
		}
		if l := LocalName(r); l != s {
			t.Fatalf("LocalName(RemoteName(%q)) = %q (remote %q)", s, l, r)
		}
	} else if validLocal(s) && !strings.ContainsRune(s, quote) {
		t.Fatalf("RemoteName rejected %q, which holds no ‛", s)
	}
}

// TestNamesRoundTrip checks the round trips on many random names drawn
// from the characters the scheme treats specially.
func TestNamesRoundTrip(t *testing.T) {
	alphabet := []string{"/", "\x00", ".", "%", "a", "∕", "␀", "‛", "．", "\xff", "é", " "}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		checkNames(t, b.String())
	}
}

func FuzzNames(f *testing.F) {
	for _, s := range []string{"a/b", ".", "..", "‛∕", "．．", "x\x00", "100%"} {
		f.Add(s)
	}
	f.Fuzz(checkNames)
}
