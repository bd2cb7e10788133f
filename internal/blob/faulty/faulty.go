// Package faulty wraps a blob.Store and injects the faults of a real disk,
// for tests: a full disk or an I/O error part-way through a write, a slow
// disk, and failing reads and stats.
//
// Write faults are injected into the content stream that the wrapped store
// reads, so the wrapped store's own failure path runs (its temporary file
// is written part-way, then removed) exactly as when its disk fails; the
// error the store returns wraps the injected one. ErrDiskFull carries the
// kind a full disk has in every store (drive.Unavailable, as localdir
// reports ENOSPC); ErrIO is a plain I/O error (drive.Internal).
//
// A Store is safe for concurrent use; Set changes the faults of the Puts,
// Opens and Stats that start afterwards.
package faulty

import (
	"context"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/drive"
)

// Errors to inject.
var (
	// ErrDiskFull is what a store reports when its disk is full.
	ErrDiskFull error = drive.E("faulty", drive.Unavailable, "blob storage is full", syscall.ENOSPC)
	// ErrIO is an I/O error of the disk.
	ErrIO error = &fs.PathError{Op: "write", Path: "faulty", Err: syscall.EIO}
)

// Faults selects what goes wrong. The zero value injects nothing.
type Faults struct {
	// PutErr, when set, fails every Put once more than PutAfter bytes of
	// content have been read.
	PutErr   error
	PutAfter int64
	// Delay is added to every read of content of up to 64 KiB (a slow
	// disk). The delay honours the Put's context.
	Delay time.Duration
	// OpenErr fails Open; StatErr fails Stat; DeleteErr fails Delete.
	OpenErr, StatErr, DeleteErr error
}

// Store is a blob.Store with injected faults.
type Store struct {
	blob.Store
	mu sync.Mutex
	f  Faults

	puts, failedPuts atomic.Int64
}

var _ blob.Store = (*Store)(nil)

// New wraps inner with no faults set.
func New(inner blob.Store) *Store { return &Store{Store: inner} }

// Set replaces the faults.
func (s *Store) Set(f Faults) {
	s.mu.Lock()
	s.f = f
	s.mu.Unlock()
}

func (s *Store) faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f
}

// Puts returns how many Puts were attempted and how many failed.
func (s *Store) Puts() (attempted, failed int64) { return s.puts.Load(), s.failedPuts.Load() }

// Put implements blob.Putter, injecting write faults into the content
// stream.
func (s *Store) Put(ctx context.Context, r io.Reader, check blob.Check) (blob.Info, error) {
	f := s.faults()
	s.puts.Add(1)
	if f.PutErr != nil || f.Delay > 0 {
		r = &faultReader{ctx: ctx, r: r, f: f}
	}
	info, err := s.Store.Put(ctx, r, check)
	if err != nil {
		s.failedPuts.Add(1)
	}
	return info, err
}

// Open implements blob.Opener.
func (s *Store) Open(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if err := s.faults().OpenErr; err != nil {
		return nil, drive.Wrap("faulty.Open", err)
	}
	return s.Store.Open(ctx, key, off, length)
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Entry, error) {
	if err := s.faults().StatErr; err != nil {
		return blob.Entry{}, drive.Wrap("faulty.Stat", err)
	}
	return s.Store.Stat(ctx, key)
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.faults().DeleteErr; err != nil {
		return drive.Wrap("faulty.Delete", err)
	}
	return s.Store.Delete(ctx, key)
}

// faultReader delivers content slowly and fails after a number of bytes.
type faultReader struct {
	ctx  context.Context
	r    io.Reader
	f    Faults
	read int64
}

func (fr *faultReader) Read(p []byte) (int, error) {
	if fr.f.Delay > 0 {
		t := time.NewTimer(fr.f.Delay)
		select {
		case <-fr.ctx.Done():
			t.Stop()
			return 0, fr.ctx.Err()
		case <-t.C:
		}
	}
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	if fr.f.PutErr != nil {
		left := fr.f.PutAfter - fr.read
		if left <= 0 {
			// The disk is full: any byte more fails, the end does not.
			var one [1]byte
			if n, err := io.ReadFull(fr.r, one[:]); n == 0 && err == io.EOF {
				return 0, io.EOF
			}
			return 0, fr.f.PutErr
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := fr.r.Read(p)
	fr.read += int64(n)
	return n, err
}
