package mount

import (
	"container/list"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// chunkCache keeps chunks of file content as files in one directory, up
// to limit bytes in all: storing a chunk past the limit deletes the least
// recently used ones. Chunks are immutable (their key names the content's
// MD5), so a hit never needs checking against the server. Chunks found in
// the directory at start are kept, oldest modification first in line for
// eviction. A limit of 0 disables the cache: every read goes to the
// server. It is safe for concurrent use.
type chunkCache struct {
	dir   string
	limit int64

	mu    sync.Mutex
	lru   *list.List // of *chunkEntry; front is the most recently used
	byKey map[string]*list.Element
	size  int64
	loads map[string]*chunkLoad // downloads in flight, by key
}

type chunkEntry struct {
	key  string
	size int64
}

// chunkLoad is one download that concurrent readers of the same chunk
// share.
type chunkLoad struct {
	done chan struct{}
	data []byte
	err  error
}

// openChunkCache opens (creating) the cache directory dir and adopts the
// chunks already in it, evicting down to limit.
func openChunkCache(dir string, limit int64) (*chunkCache, error) {
	c := &chunkCache{dir: dir, limit: max(limit, 0), lru: list.New(), byKey: map[string]*list.Element{},
		loads: map[string]*chunkLoad{}}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("read cache: %w", err)
	}
	type found struct {
		key  string
		size int64
		mod  int64
	}
	var all []found
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read cache: %w", err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(e.Name(), ".tmp-") {
			_ = os.Remove(filepath.Join(dir, e.Name())) // a write cut short
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		all = append(all, found{e.Name(), info.Size(), info.ModTime().UnixNano()})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod < all[j].mod })
	for _, f := range all {
		c.byKey[f.key] = c.lru.PushFront(&chunkEntry{f.key, f.size})
		c.size += f.size
	}
	c.removeAll(c.evictLocked())
	return c, nil
}

// chunkKey names chunk index of a file's content. content identifies the
// bytes (the MD5, or the node version when the server sent none).
func chunkKey(id, content string, index int64) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
				return r
			}
			return '_'
		}, s)
	}
	return fmt.Sprintf("%s.%s.%d", clean(id), clean(content), index)
}

// get returns a cached chunk and marks it used.
func (c *chunkCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	el, ok := c.byKey[key]
	if ok {
		c.lru.MoveToFront(el)
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	b, err := os.ReadFile(filepath.Join(c.dir, key))
	if err != nil {
		// Evicted meanwhile, or the file was removed behind our back.
		c.mu.Lock()
		if el, ok := c.byKey[key]; ok && os.IsNotExist(err) {
			c.dropLocked(el)
		}
		c.mu.Unlock()
		return nil, false
	}
	return b, true
}

// put stores a chunk, evicting others past the limit. A chunk larger
// than the whole limit is not stored.
func (c *chunkCache) put(key string, data []byte) error {
	if int64(len(data)) > c.limit {
		return nil
	}
	f, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(c.dir, key))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	c.mu.Lock()
	if el, ok := c.byKey[key]; ok {
		c.size -= el.Value.(*chunkEntry).size
		el.Value.(*chunkEntry).size = int64(len(data))
		c.lru.MoveToFront(el)
	} else {
		c.byKey[key] = c.lru.PushFront(&chunkEntry{key, int64(len(data))})
	}
	c.size += int64(len(data))
	victims := c.evictLocked()
	c.mu.Unlock()
	c.removeAll(victims)
	return nil
}

// evictLocked drops entries from the back until the cache fits; it
// returns their keys, whose files the caller removes.
func (c *chunkCache) evictLocked() []string {
	var victims []string
	for c.size > c.limit && c.lru.Len() > 0 {
		el := c.lru.Back()
		victims = append(victims, el.Value.(*chunkEntry).key)
		c.dropLocked(el)
	}
	return victims
}

func (c *chunkCache) dropLocked(el *list.Element) {
	e := el.Value.(*chunkEntry)
	c.lru.Remove(el)
	delete(c.byKey, e.key)
	c.size -= e.size
}

func (c *chunkCache) removeAll(keys []string) {
	for _, k := range keys {
		_ = os.Remove(filepath.Join(c.dir, k)) // gone already is fine
	}
}

// usage returns the bytes and chunks held.
func (c *chunkCache) usage() (bytes int64, chunks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size, c.lru.Len()
}

// fetch returns chunk key from the cache or, on a miss, from load, which
// runs once for concurrent callers of the same key; its result is
// cached. A caller whose ctx ends stops waiting; the load goes on for the
// others.
func (c *chunkCache) fetch(ctx context.Context, key string, load func() ([]byte, error)) ([]byte, error) {
	if b, ok := c.get(key); ok {
		return b, nil
	}
	c.mu.Lock()
	l, ok := c.loads[key]
	if !ok {
		l = &chunkLoad{done: make(chan struct{})}
		c.loads[key] = l
		go func() {
			l.data, l.err = load()
			if l.err == nil {
				_ = c.put(key, l.data) // a full disk only costs speed
			}
			c.mu.Lock()
			delete(c.loads, key)
			c.mu.Unlock()
			close(l.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-l.done:
		return l.data, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// has reports whether key is cached or being downloaded (read-ahead
// skips those).
func (c *chunkCache) has(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, cached := c.byKey[key]
	_, loading := c.loads[key]
	return cached || loading
}
