package localdir

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"
)

func benchContent(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(b)
	return b
}

// BenchmarkPutSizes stores blobs (hashing, fsync and rename included). The
// content differs in its first bytes each time, so every Put is new.
func BenchmarkPutSizes(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"64KiB", 64 << 10}, {"1MiB", 1 << 20}, {"16MiB", 16 << 20}} {
		b.Run(size.name, func(b *testing.B) {
			s := newStore(b)
			data := benchContent(size.n)
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				data[0], data[1], data[2], data[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
				if _, err := s.Put(context.Background(), bytes.NewReader(data), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenRange reads a whole 16 MiB blob and a 1 MiB range of it.
func BenchmarkOpenRange(b *testing.B) {
	s := newStore(b)
	data := benchContent(16 << 20)
	info, err := s.Put(context.Background(), bytes.NewReader(data), nil)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	for _, r := range []struct {
		name      string
		off, size int64
	}{{"whole16MiB", 0, -1}, {"range1MiB", 5 << 20, 1 << 20}} {
		b.Run(r.name, func(b *testing.B) {
			n := r.size
			if n < 0 {
				n = int64(len(data))
			}
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				rc, err := s.Open(context.Background(), info.Key, r.off, r.size)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, struct{ io.Reader }{rc}, buf); err != nil {
					b.Fatal(err)
				}
				rc.Close()
			}
		})
	}
}
