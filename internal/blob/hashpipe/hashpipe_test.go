package hashpipe

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func want(data []byte) (md5hex, shahex string) {
	m := md5.Sum(data)
	s := sha256.Sum256(data)
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

// feed submits data through ring in pieces of at most piece bytes.
func feed(t *testing.T, ring *Ring, p *Pipe, data []byte, piece int) error {
	t.Helper()
	for off := 0; off < len(data); {
		c, err := ring.Get(t.Context())
		if err != nil {
			t.Fatalf("Get error: %v", err)
		}
		n := copy(c.Buf[:min(piece, len(c.Buf))], data[off:])
		off += n
		if err := p.Submit(c, n); err != nil {
			return err
		}
	}
	return nil
}

func TestPipeSums(t *testing.T) {
	data := make([]byte, 3<<20+17)
	_, _ = rand.NewChaCha8([32]byte{3}).Read(data)
	for _, tc := range []struct {
		name         string
		size, chunk  int
		piece, ringN int
	}{
		{"empty", 0, 1024, 1024, 2},
		{"oneByte", 1, 1024, 1024, 2},
		{"oneChunk", 1024, 1024, 1024, 2},
		{"twoChunks", 1025, 1024, 1024, 2},
		{"manyChunks", len(data), 64 << 10, 64 << 10, 4},
		{"partialChunks", len(data), 64 << 10, 1000, 3},
		{"ringOfOne", 100 << 10, 8 << 10, 8 << 10, 1}, // made two
	} {
		t.Run(tc.name, func(t *testing.T) {
			ring := NewRing(tc.ringN, tc.chunk, nil)
			var sunk bytes.Buffer
			p := New(func(b []byte) error { sunk.Write(b); return nil })
			if err := feed(t, ring, p, data[:tc.size], tc.piece); err != nil {
				t.Fatalf("Submit error: %v", err)
			}
			info, err := p.Finish()
			if err != nil {
				t.Fatalf("Finish error: %v", err)
			}
			m, s := want(data[:tc.size])
			if info.Size != int64(tc.size) || info.MD5 != m || info.SHA256 != s || info.Key != s {
				t.Errorf("Finish = %+v, want size %d md5 %s sha256 %s", info, tc.size, m, s)
			}
			if !bytes.Equal(sunk.Bytes(), data[:tc.size]) {
				t.Errorf("sink got %d bytes, not the %d submitted in order", sunk.Len(), tc.size)
			}
			if !ring.Full() {
				t.Errorf("ring not full after Finish: %d of %d chunks back", len(ring.free), ring.made)
			}
		})
	}
}

func TestPipeSinkError(t *testing.T) {
	boom := errors.New("disk full")
	ring := NewRing(2, 1024, nil)
	calls := 0
	p := New(func(b []byte) error {
		calls++
		if calls == 3 {
			return boom
		}
		return nil
	})
	data := make([]byte, 100<<10)
	err := feed(t, ring, p, data, 1024)
	if err != nil && !errors.Is(err, boom) {
		t.Fatalf("Submit error = %v, want the sink's", err)
	}
	if _, err := p.Finish(); !errors.Is(err, boom) {
		t.Fatalf("Finish error = %v, want the sink's", err)
	}
	if calls != 3 {
		t.Errorf("sink called %d times, want 3 (never again after failing)", calls)
	}
	if !ring.Full() {
		t.Error("ring not full after a failed pipe")
	}
	if err := p.Submit(NewChunk(1, nil), 1); !errors.Is(err, ErrDone) {
		t.Errorf("Submit after Finish = %v, want ErrDone", err)
	}
}

func TestPipeAbort(t *testing.T) {
	for _, chunks := range []int{0, 1, 5} {
		ring := NewRing(2, 1024, nil)
		sunk := 0
		p := New(func(b []byte) error { sunk += len(b); return nil })
		if err := feed(t, ring, p, make([]byte, chunks*1024), 1024); err != nil {
			t.Fatal(err)
		}
		p.Abort()
		p.Abort() // idempotent
		if !ring.Full() {
			t.Errorf("%d chunks: ring not full after Abort", chunks)
		}
		if chunks == 1 && sunk != 0 {
			t.Errorf("a lone chunk was sunk on Abort")
		}
		if _, err := p.Finish(); !errors.Is(err, ErrDone) {
			t.Errorf("Finish after Abort = %v, want ErrDone", err)
		}
	}
}

func TestChunkHold(t *testing.T) {
	ring := NewRing(2, 16, nil)
	c, _ := ring.Get(t.Context())
	other, _ := ring.Get(t.Context())
	c.Hold() // the caller keeps the chunk beyond the pipe (as s3's part upload does)
	p := New(nil)
	_ = p.Submit(c, 16)
	_ = p.Submit(NewChunk(4, nil), 4) // start the goroutines
	if _, err := p.Finish(); err != nil {
		t.Fatal(err)
	}
	if len(ring.free) != 0 {
		t.Fatal("chunk back in the ring while still held")
	}
	c.Release()
	if len(ring.free) != 1 {
		t.Fatal("chunk not back in the ring after the last Release")
	}
	other.Release()
	ctx, cancel := context.WithCancel(t.Context())
	a, _ := ring.Get(ctx)
	b, _ := ring.Get(ctx)
	cancel()
	if _, err := ring.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Get on an empty ring with a cancelled context = %v, want context.Canceled", err)
	}
	a.Release()
	b.Release()
}

func TestRingBound(t *testing.T) {
	allocs := 0
	ring := NewRing(3, 8, func() []byte { allocs++; return make([]byte, 16) })
	var out []*Chunk
	for range 3 {
		c, err := ring.Get(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Buf) != 8 {
			t.Fatalf("chunk of %d bytes, want 8", len(c.Buf))
		}
		out = append(out, c)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := ring.Get(ctx); err == nil {
		t.Fatal("Get of a fourth chunk of a ring of three did not wait")
	}
	out[0].Release()
	if c, err := ring.Get(t.Context()); err != nil || c != out[0] {
		t.Fatalf("Get after a Release = %p, %v; want the released chunk", c, err)
	}
	for _, c := range out {
		c.Release()
	}
	var given int
	ring.Close(func(b []byte) { given++ })
	if allocs != 3 || given != 3 {
		t.Errorf("%d buffers allocated and %d given back, want 3 and 3", allocs, given)
	}
}
