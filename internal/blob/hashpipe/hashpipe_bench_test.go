package hashpipe

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// BenchmarkPipe hashes 64 MiB streams through a ring of chunks, against
// the two hashes computed one after the other on one goroutine.
func BenchmarkPipe(b *testing.B) {
	const total = 64 << 20
	src := make([]byte, 1<<20)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(src)
	for _, size := range []int{64 << 10, 256 << 10, 1 << 20} {
		b.Run("chunk"+human(size), func(b *testing.B) {
			ring := NewRing(4, size, nil)
			b.SetBytes(total)
			for b.Loop() {
				p := New(nil)
				for off := 0; off < total; off += size {
					c, _ := ring.Get(context.Background())
					n := copy(c.Buf, src[off%len(src):])
					n = copy(c.Buf[n:], src) + n
					_ = p.Submit(c, min(n, size))
				}
				if _, err := p.Finish(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("serial", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			m, s := md5.New(), sha256.New()
			for off := 0; off < total; off += len(src) {
				m.Write(src)
				s.Write(src)
			}
			m.Sum(nil)
			s.Sum(nil)
		}
	})
}

func human(n int) string {
	if n >= 1<<20 {
		return string(rune('0'+n>>20)) + "MiB"
	}
	return itoa(n>>10) + "KiB"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
