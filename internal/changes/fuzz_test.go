package changes_test

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/changes"
)

// FuzzDecodeCheckpoint checks that DecodeCheckpoint never panics, accepts
// only a non-empty epoch and a non-negative number, and that whatever it
// accepts encodes back to a checkpoint that decodes to the same values.
func FuzzDecodeCheckpoint(f *testing.F) {
	for _, s := range []string{
		"", "!!!", "CIGmnr2yKxoA", "Ojk", "YWJjOi0x", "YWJjOng",
		changes.EncodeCheckpoint("abcd1234", 0),
		changes.EncodeCheckpoint("abcd1234", 1<<62),
		changes.EncodeCheckpoint("e:with:colons", 7),
		changes.EncodeCheckpoint("", 5),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		epoch, seq, ok := changes.DecodeCheckpoint(s)
		if !ok {
			if epoch != "" || seq != 0 {
				t.Fatalf("DecodeCheckpoint(%q) = %q, %d, false; want zero values when not ok", s, epoch, seq)
			}
			return
		}
		if epoch == "" || seq < 0 {
			t.Fatalf("DecodeCheckpoint(%q) = %q, %d, true; want a non-empty epoch and seq >= 0", s, epoch, seq)
		}
		cp := changes.EncodeCheckpoint(epoch, seq)
		e2, s2, ok2 := changes.DecodeCheckpoint(cp)
		if !ok2 || e2 != epoch || s2 != seq {
			t.Fatalf("DecodeCheckpoint(EncodeCheckpoint(%q, %d)) = %q, %d, %v (from %q)", epoch, seq, e2, s2, ok2, s)
		}
	})
}
