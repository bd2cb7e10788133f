package changes_test

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/changes"
)

func TestCheckpointRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		epoch string
		seq   int64
	}{{"abcd1234", 0}, {"abcd1234", 1}, {"x", 1 << 40}, {"e:with:colons", 7}} {
		cp := changes.EncodeCheckpoint(tc.epoch, tc.seq)
		epoch, seq, ok := changes.DecodeCheckpoint(cp)
		if !ok || epoch != tc.epoch || seq != tc.seq {
			t.Errorf("DecodeCheckpoint(EncodeCheckpoint(%q, %d)) = %q, %d, %v", tc.epoch, tc.seq, epoch, seq, ok)
		}
	}
}

func TestDecodeCheckpointRejects(t *testing.T) {
	for _, in := range []string{"", "!!!", "CIGmnr2yKxoA", changes.EncodeCheckpoint("", 5)[:3], "Ojk", "YWJjOi0x", "YWJjOng"} {
		if _, _, ok := changes.DecodeCheckpoint(in); ok {
			t.Errorf("DecodeCheckpoint(%q) accepted", in)
		}
	}
}
