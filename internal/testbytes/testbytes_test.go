package testbytes

import (
	"bytes"
	"testing"
)

func TestRandom(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 1000} {
		a, b := Random(n, 42), Random(n, 42)
		if len(a) != n || !bytes.Equal(a, b) {
			t.Errorf("Random(%d, 42): len %d, same twice %v", n, len(a), bytes.Equal(a, b))
		}
	}
	if bytes.Equal(Random(64, 1), Random(64, 2)) {
		t.Error("seeds 1 and 2 give the same bytes")
	}
	if !bytes.Equal(Random(9, 5)[:8], Random(16, 5)[:8]) {
		t.Error("a shorter Random is not a prefix of a longer one")
	}
}

func TestMD5(t *testing.T) {
	if got := MD5(nil); got != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Errorf("MD5(empty) = %s", got)
	}
}
