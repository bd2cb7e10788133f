// Package hashpipe computes what a blob store records of a blob (size, MD5
// and SHA-256) while the blob's bytes stream past, on two goroutines: MD5
// on one, SHA-256 followed by an optional sink (the write to the blob
// file) on the other. Both blob stores use it.
//
// MD5 is the slowest step of an upload: about 790 MB/s on one core of the
// project's machine, where SHA-256 with the SHA extensions runs at
// 1.7 GB/s. Hashing both on the goroutine that reads the body caps an
// upload at about 500 MB/s; splitting the work this way lets a two-core
// machine take a body at MD5's speed while SHA-256 and the file write keep
// up on the other core.
//
// # Chunks
//
// The bytes travel in Chunks: reusable buffers that the reader fills and
// hands to Pipe.Submit. A submitted chunk is read (never written) by both
// stages at once and goes back to its owner (its free function: a Ring,
// or a sync.Pool) when the last reference is released, so a Put allocates
// no memory per chunk. A Ring is a fixed set of chunks; waiting for a free
// one is what slows the reader down to the pace of the slower stage, and
// what bounds a stream's memory.
//
// A body of one chunk is hashed and sunk on the caller's goroutine, after
// Finish: for small files, two hand-overs to other goroutines would cost
// more than they save.
package hashpipe

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"sync"
	"sync/atomic"

	"github.com/clouddrive/clouddrive/internal/blob"
)

// Chunk is a buffer travelling through a Pipe.
type Chunk struct {
	// Buf is the chunk's buffer, full length; the owner fills a prefix of
	// it and submits the length.
	Buf  []byte
	n    int
	refs atomic.Int32
	free func(*Chunk)
}

// NewChunk returns a chunk of size bytes holding one reference. When its
// last reference is released, free (if not nil) takes it back.
func NewChunk(size int, free func(*Chunk)) *Chunk {
	c := &Chunk{Buf: make([]byte, size), free: free}
	c.refs.Store(1)
	return c
}

// Data returns the bytes submitted in the chunk.
func (c *Chunk) Data() []byte { return c.Buf[:c.n] }

// Hold adds a reference: the chunk stays out of its owner's hands until
// Release is called once more.
func (c *Chunk) Hold() { c.refs.Add(1) }

// Release drops a reference. The last one gives the chunk back to its
// owner, holding one reference again for its next user.
func (c *Chunk) Release() {
	switch n := c.refs.Add(-1); {
	case n == 0:
		c.refs.Store(1)
		c.n = 0
		if c.free != nil {
			c.free(c)
		}
	case n < 0:
		panic("hashpipe: chunk released too often")
	}
}

// Ring is a bounded set of chunks of one size, made when first needed:
// Get hands out at most n chunks at a time. Get is called from one
// goroutine; chunks come back from any.
type Ring struct {
	free  chan *Chunk
	size  int
	made  int
	alloc func() []byte
}

// NewRing returns a ring of up to n chunks of size bytes; n is at least
// 2, as a Pipe keeps its first chunk until a second one comes. alloc, if
// not nil, supplies the buffers (of size bytes) of new chunks.
func NewRing(n, size int, alloc func() []byte) *Ring {
	return &Ring{free: make(chan *Chunk, max(n, 2)), size: size, alloc: alloc}
}

func (r *Ring) put(c *Chunk) { r.free <- c } // never blocks: the channel holds every chunk

// Get returns a free chunk, making one while fewer than n exist, else
// waiting until one is released or ctx ends.
func (r *Ring) Get(ctx context.Context) (*Chunk, error) {
	select {
	case c := <-r.free:
		return c, nil
	default:
	}
	if r.made < cap(r.free) {
		r.made++
		if r.alloc == nil {
			return NewChunk(r.size, r.put), nil
		}
		c := &Chunk{Buf: r.alloc()[:r.size], free: r.put}
		c.refs.Store(1)
		return c, nil
	}
	select {
	case c := <-r.free:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Full reports whether every chunk made is back in the ring, so that the
// ring may serve another stream or be closed.
func (r *Ring) Full() bool { return len(r.free) == r.made }

// Close empties a full ring, handing the buffers of its chunks to give
// (a pool's Put, say). It panics if a chunk is still out.
func (r *Ring) Close(give func([]byte)) {
	if !r.Full() {
		panic("hashpipe: ring closed with chunks in use")
	}
	for ; r.made > 0; r.made-- {
		c := <-r.free
		give(c.Buf)
		c.Buf = nil
	}
}

// Pipe hashes one stream. Submit and Finish are called from one goroutine;
// the sink runs on another, in submission order.
type Pipe struct {
	sink     func([]byte) error
	md5, sha hash.Hash
	size     int64
	first    *Chunk // the first chunk, held until a second one comes
	started  bool
	done     bool
	md5In    chan *Chunk
	shaIn    chan *Chunk
	wg       sync.WaitGroup
	sinkErr  atomic.Pointer[error]
	aborted  atomic.Bool
}

// queue is how many chunks may wait for each stage.
const queue = 8

// New returns a pipe whose second stage passes every chunk, after hashing
// it, to sink (if not nil). Once sink fails, the pipe stops calling it,
// and Submit and Finish return its error.
func New(sink func([]byte) error) *Pipe {
	return &Pipe{sink: sink, md5: md5.New(), sha: sha256.New()}
}

// ErrDone is returned by Submit after Finish or Abort.
var ErrDone = errors.New("hashpipe: pipe finished")

// Submit hands the first n bytes of c to the pipe, and with them the
// caller's reference to c. It returns the sink's error once the sink has
// failed; c is released then too.
func (p *Pipe) Submit(c *Chunk, n int) error {
	if p.done {
		c.Release()
		return ErrDone
	}
	if err := p.err(); err != nil {
		c.Release()
		return err
	}
	c.n = n
	p.size += int64(n)
	if !p.started {
		if p.first == nil {
			p.first = c
			return nil
		}
		p.start()
		p.send(p.first)
		p.first = nil
	}
	p.send(c)
	return nil
}

func (p *Pipe) err() error {
	if e := p.sinkErr.Load(); e != nil {
		return *e
	}
	return nil
}

func (p *Pipe) start() {
	p.started = true
	p.md5In = make(chan *Chunk, queue)
	p.shaIn = make(chan *Chunk, queue)
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		for c := range p.md5In {
			if !p.aborted.Load() {
				p.md5.Write(c.Data())
			}
			c.Release()
		}
	}()
	go func() {
		defer p.wg.Done()
		for c := range p.shaIn {
			p.stage2(c.Data())
			c.Release()
		}
	}()
}

// stage2 hashes b with SHA-256 and sinks it, unless the sink has failed.
func (p *Pipe) stage2(b []byte) {
	if p.sinkErr.Load() != nil || p.aborted.Load() {
		return
	}
	p.sha.Write(b)
	if p.sink != nil {
		if err := p.sink(b); err != nil {
			p.sinkErr.Store(&err)
		}
	}
}

// send passes c to both stages: the caller's reference goes to one, a new
// one to the other.
func (p *Pipe) send(c *Chunk) {
	c.Hold()
	p.md5In <- c
	p.shaIn <- c
}

// Finish waits until every submitted byte is hashed and sunk, and returns
// the stream's Info (Key is the hex SHA-256), or the sink's error.
func (p *Pipe) Finish() (blob.Info, error) {
	if p.done {
		return blob.Info{}, ErrDone
	}
	p.stop()
	if err := p.err(); err != nil {
		return blob.Info{}, err
	}
	key := hex.EncodeToString(p.sha.Sum(nil))
	return blob.Info{Key: key, Size: p.size, MD5: hex.EncodeToString(p.md5.Sum(nil)), SHA256: key}, nil
}

// stop ends the pipe: it processes a lone first chunk here, or closes the
// stages and waits for them.
func (p *Pipe) stop() {
	p.done = true
	if !p.started {
		if c := p.first; c != nil {
			p.first = nil
			p.md5.Write(c.Data())
			p.stage2(c.Data())
			c.Release()
		}
		return
	}
	close(p.md5In)
	close(p.shaIn)
	p.wg.Wait()
}

// Abort ends the pipe without a result: the stages skip what is still
// queued, and Abort waits until they have let go of every chunk. It is a
// no-op after Finish or Abort.
func (p *Pipe) Abort() {
	if p.done {
		return
	}
	p.aborted.Store(true)
	if !p.started && p.first != nil {
		p.first.Release()
		p.first = nil
	}
	p.stop()
}
