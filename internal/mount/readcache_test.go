package mount

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestChunkCacheEviction(t *testing.T) {
	dir := t.TempDir()
	c, err := openChunkCache(dir, 300)
	if err != nil {
		t.Fatal(err)
	}
	chunk := func(b byte) []byte { return bytes.Repeat([]byte{b}, 100) }
	for i, k := range []string{"a", "b", "c"} {
		if err := c.put(k, chunk(byte(i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := c.get("a"); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	if err := c.put("d", chunk(3)); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.get("b"); ok {
		t.Error("b (least recently used) survived")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	if size, n := c.usage(); size != 300 || n != 3 {
		t.Errorf("usage = %d bytes in %d chunks, want 300 in 3", size, n)
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); !os.IsNotExist(err) {
		t.Errorf("evicted chunk's file: %v", err)
	}
	// Too big for the whole cache: not stored, nothing evicted.
	if err := c.put("huge", make([]byte, 301)); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.get("huge"); ok {
		t.Error("chunk larger than the limit stored")
	}
	if _, n := c.usage(); n != 3 {
		t.Errorf("%d chunks after an oversized put, want 3", n)
	}

	// Reopened with a smaller limit: the files are adopted, the oldest
	// modified evicted first.
	old := time.Now().Add(-time.Hour)
	for i, k := range []string{"a", "c", "d"} {
		_ = os.Chtimes(filepath.Join(dir, k), old, old.Add(time.Duration(i)*time.Minute))
	}
	_ = os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("partial"), 0o600)
	c2, err := openChunkCache(dir, 200)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := c2.get("d"); !ok || !bytes.Equal(b, chunk(3)) {
		t.Errorf("d after reopen = %v, %v", len(b), ok)
	}
	if _, ok := c2.get("a"); ok {
		t.Error("oldest chunk a kept past the smaller limit")
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-123")); !os.IsNotExist(err) {
		t.Error("leftover temporary file not removed")
	}

	// Limit 0: nothing is kept.
	c3, err := openChunkCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	_ = c3.put("x", []byte("x"))
	if _, ok := c3.get("x"); ok {
		t.Error("disabled cache stored a chunk")
	}
}

func TestChunkCacheFetch(t *testing.T) {
	c, err := openChunkCache(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var loads atomic.Int32
	release := make(chan struct{})
	load := func() ([]byte, error) {
		loads.Add(1)
		<-release
		return []byte("content"), nil
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			b, err := c.fetch(context.Background(), "k", load)
			if err != nil || string(b) != "content" {
				t.Errorf("fetch = %q, %v", b, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("%d loads for concurrent fetches of one chunk, want 1", n)
	}
	if _, err := c.fetch(context.Background(), "k", func() ([]byte, error) { return nil, errors.New("must not load") }); err != nil {
		t.Errorf("cached fetch: %v", err)
	}
	// A failed load is not cached.
	if _, err := c.fetch(context.Background(), "bad", func() ([]byte, error) { return nil, errors.New("boom") }); err == nil {
		t.Error("failed load returned no error")
	}
	if c.has("bad") {
		t.Error("failed load cached")
	}
	// A caller whose context ends stops waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.fetch(ctx, "slow", func() ([]byte, error) { time.Sleep(100 * time.Millisecond); return nil, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("fetch with a cancelled context = %v", err)
	}
}
