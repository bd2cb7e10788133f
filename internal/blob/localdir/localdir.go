package localdir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/blob/hashpipe"
	"github.com/clouddrive/clouddrive/internal/drive"
)

const (
	// chunkSize and chunks size the ring of buffers a Put copies through
	// (see hashpipe): 1 MiB per Put, pooled.
	chunkSize = 256 << 10
	chunks    = 4
	// writebackEvery is how many bytes Put writes between two requests to
	// start writing back (sync_file_range on Linux).
	writebackEvery = 8 << 20
	// tmpName is the directory, under the root, of uploads in progress.
	tmpName = "tmp"
	// keyLen is the length of a key: hex SHA-256.
	keyLen = 2 * sha256.Size
)

// Store is a blob.Store in a local directory. Create it with New.
type Store struct {
	dir   string
	tmp   string
	rings sync.Pool // *hashpipe.Ring of chunks × chunkSize
	// synced has one bit per second-level shard directory (the first four
	// hex digits of a key): set once this process has made sure the
	// directory exists and its entry, and its parent's, are on disk.
	synced [1 << 16 / 64]atomic.Uint64
	// synced1 is the same for the first-level directories (the first two
	// hex digits), whose entries live in dir.
	synced1 [256 / 64]atomic.Uint64
}

var _ blob.Store = (*Store)(nil)

// New returns a Store keeping its blobs in dir, creating dir if needed.
// It removes everything in dir/tmp: a directory belongs to one process, so
// any temp file there is left over from a crash.
func New(dir string) (*Store, error) {
	const op = "localdir.New"
	s := &Store{dir: dir, tmp: filepath.Join(dir, tmpName)}
	s.rings.New = func() any { return hashpipe.NewRing(chunks, chunkSize, nil) }
	if err := os.MkdirAll(s.tmp, 0o700); err != nil {
		return nil, drive.Wrap(op, err)
	}
	stale, err := os.ReadDir(s.tmp)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	for _, e := range stale {
		if err := os.RemoveAll(filepath.Join(s.tmp, e.Name())); err != nil {
			return nil, drive.Wrap(op, fmt.Errorf("removing stale temp file: %w", err))
		}
	}
	return s, nil
}

// validKey reports whether key is 64 lowercase hex characters.
func validKey(key string) bool {
	if len(key) != keyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if !isHex(key[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// isShard reports whether name is a shard directory name: two lowercase hex
// characters.
func isShard(name string) bool { return len(name) == 2 && isHex(name[0]) && isHex(name[1]) }

// path returns the file of a valid key.
func (s *Store) path(key string) string {
	return filepath.Join(s.dir, key[0:2], key[2:4], key)
}

// ioError classifies an unexpected file system error.
func ioError(op string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return drive.E(op, drive.Unavailable, "blob storage is full", err)
	}
	return drive.Wrap(op, err)
}

// Put implements blob.Putter. The key is the hex SHA-256 of the content.
// If r fails, the returned error wraps r's error.
func (s *Store) Put(ctx context.Context, r io.Reader, check blob.Check) (blob.Info, error) {
	const op = "localdir.Put"
	if err := ctx.Err(); err != nil {
		return blob.Info{}, drive.Wrap(op, err)
	}
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return blob.Info{}, ioError(op, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()

	info, err := s.copy(ctx, f, r)
	if err != nil {
		return blob.Info{}, err
	}
	if check != nil {
		if err := check(info); err != nil {
			return blob.Info{}, err // unchanged, as blob.Check says
		}
	}
	// The shard directories are made now and, if new, synced while the
	// file is: the two fsyncs do not depend on each other.
	shard, err := s.makeShard(info.Key)
	if err != nil {
		return blob.Info{}, ioError(op, err)
	}
	if err := shard.syncWith(f.Sync); err != nil {
		return blob.Info{}, ioError(op, err)
	}
	if err := f.Close(); err != nil {
		return blob.Info{}, ioError(op, err)
	}
	// Last chance to honour cancellation: after the rename the blob is
	// visible.
	if err := ctx.Err(); err != nil {
		return blob.Info{}, drive.Wrap(op, err)
	}
	dst := s.path(info.Key)
	if err := os.Rename(f.Name(), dst); err != nil {
		return blob.Info{}, ioError(op, err)
	}
	renamed = true
	// If this fails the blob is visible but perhaps not durable. It is not
	// removed, as a concurrent Put of the same bytes may have returned its
	// key; unreferenced, it is garbage collected.
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return blob.Info{}, ioError(op, err)
	}
	shard.done()
	return info, nil
}

// copy copies r to f through a ring of pooled chunks, hashing the bytes
// in a hashpipe.Pipe (MD5 on one goroutine, SHA-256 and the file write on
// another) and checking ctx between chunks.
func (s *Store) copy(ctx context.Context, f *os.File, r io.Reader) (blob.Info, error) {
	const op = "localdir.Put"
	ring := s.rings.Get().(*hashpipe.Ring)
	w := &fileSink{f: f}
	p := hashpipe.New(w.write)
	defer func() {
		p.Abort() // after Finish, a no-op; otherwise it waits for the chunks
		if ring.Full() {
			s.rings.Put(ring)
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return blob.Info{}, drive.Wrap(op, err)
		}
		c, err := ring.Get(ctx)
		if err != nil {
			return blob.Info{}, drive.Wrap(op, err)
		}
		// Fill the whole chunk, so that a body arriving in small reads
		// still costs one write per chunk.
		n, rerr := readFull(r, c.Buf)
		if n == 0 {
			c.Release()
		} else if err := p.Submit(c, n); err != nil {
			return blob.Info{}, ioError(op, err)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return blob.Info{}, drive.Wrap(op, fmt.Errorf("reading content: %w", rerr))
		}
	}
	info, err := p.Finish()
	if err != nil {
		return blob.Info{}, ioError(op, err)
	}
	return info, nil
}

// fileSink writes a Put's chunks to its temp file and starts the
// writeback of every writebackEvery bytes, so that the final fsync has
// little left to do.
type fileSink struct {
	f            *os.File
	off, flushed int64
}

func (w *fileSink) write(b []byte) error {
	if _, err := w.f.Write(b); err != nil {
		return err
	}
	w.off += int64(len(b))
	if w.off-w.flushed >= writebackEvery {
		startWriteback(w.f, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return nil
}

// shardSync is what a Put still has to sync to make the shard
// directories of its key durable: the root (for a first-level directory
// this process has not synced yet) and the first-level directory (for a
// second-level one). The zero value has nothing to sync.
type shardSync struct {
	s      *Store
	dirs   []string
	l1, l2 int // shard indexes to mark synced; -1 for none
}

// makeShard makes sure the shard directories of key exist and says which
// directory entries are still to be made durable. Each is synced once per
// process; a directory that already exists (made by a concurrent Put that
// has not synced it yet, or by an earlier process) is synced anyway the
// first time.
func (s *Store) makeShard(key string) (shardSync, error) {
	var idx [2]byte
	if _, err := hex.Decode(idx[:], []byte(key[:4])); err != nil {
		return shardSync{}, err
	}
	l1, l2 := int(idx[0]), int(idx[0])<<8|int(idx[1])
	if isSet(s.synced[:], l2) {
		return shardSync{}, nil
	}
	d1 := filepath.Join(s.dir, key[0:2])
	d2 := filepath.Join(d1, key[2:4])
	sh := shardSync{s: s, l1: -1, l2: l2}
	// A first-level directory this process synced exists (shard
	// directories are never removed): no mkdir to try.
	if !isSet(s.synced1[:], l1) {
		if err := os.Mkdir(d1, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return shardSync{}, err
		}
		sh.dirs, sh.l1 = append(sh.dirs, s.dir), l1
	}
	if err := os.Mkdir(d2, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return shardSync{}, err
	}
	sh.dirs = append(sh.dirs, d1)
	return sh, nil
}

// syncWith runs fsync (the blob file's) and the directory syncs at the
// same time, and returns the first error.
func (sh shardSync) syncWith(fsync func() error) error {
	if len(sh.dirs) == 0 {
		return fsync()
	}
	errc := make(chan error, 1)
	go func() {
		var err error
		for _, d := range sh.dirs {
			if err = syncDir(d); err != nil {
				break
			}
		}
		errc <- err
	}()
	err := fsync()
	if derr := <-errc; err == nil {
		err = derr
	}
	return err
}

// done records that the shard's directories are durable.
func (sh shardSync) done() {
	if sh.s == nil {
		return
	}
	if sh.l1 >= 0 {
		set(sh.s.synced1[:], sh.l1)
	}
	set(sh.s.synced[:], sh.l2)
}

func isSet(bits []atomic.Uint64, i int) bool { return bits[i/64].Load()&(1<<(i%64)) != 0 }
func set(bits []atomic.Uint64, i int)        { bits[i/64].Or(1 << (i % 64)) }

// syncDir fsyncs a directory, making the entries in it durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open implements blob.Opener. Reading from off == size gives an empty
// reader; off > size gives a drive.RangeNotSatisfiable error, and off < 0 a
// drive.Invalid error. The reader implements io.WriterTo so that copying
// it to a file or socket can use copy_file_range or sendfile.
func (s *Store) Open(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	const op = "localdir.Open"
	if err := ctx.Err(); err != nil {
		return nil, drive.Wrap(op, err)
	}
	if !validKey(key) {
		return nil, drive.E(op, drive.NotFound, "blob not found")
	}
	if off < 0 {
		return nil, drive.E(op, drive.Invalid, "negative offset")
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, drive.E(op, drive.NotFound, "blob not found", err)
	}
	if err != nil {
		return nil, ioError(op, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, ioError(op, err)
	}
	size := fi.Size()
	if off > size {
		_ = f.Close()
		return nil, drive.E(op, drive.RangeNotSatisfiable, "offset past the end of the blob")
	}
	n := size - off
	if length >= 0 && length < n {
		n = length
	}
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			_ = f.Close()
			return nil, ioError(op, err)
		}
	}
	return &reader{LimitedReader: io.LimitedReader{R: f, N: n}, f: f}, nil
}

// reader reads a range of a blob file.
type reader struct {
	io.LimitedReader
	f *os.File
}

// WriteTo hands the *io.LimitedReader of the *os.File to io.Copy, where
// (*os.File).ReadFrom and the net/http response writer recognise it.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	return io.Copy(w, &r.LimitedReader)
}

func (r *reader) Close() error { return r.f.Close() }

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Entry, error) {
	const op = "localdir.Stat"
	if err := ctx.Err(); err != nil {
		return blob.Entry{}, drive.Wrap(op, err)
	}
	if !validKey(key) {
		return blob.Entry{}, drive.E(op, drive.NotFound, "blob not found")
	}
	fi, err := os.Stat(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return blob.Entry{}, drive.E(op, drive.NotFound, "blob not found", err)
	}
	if err != nil {
		return blob.Entry{}, ioError(op, err)
	}
	return blob.Entry{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete implements blob.Store. Shard directories are kept.
func (s *Store) Delete(ctx context.Context, key string) error {
	const op = "localdir.Delete"
	if err := ctx.Err(); err != nil {
		return drive.Wrap(op, err)
	}
	if !validKey(key) {
		return nil
	}
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ioError(op, err)
	}
	return nil
}

// List implements blob.Lister by walking the shard directories in order.
// A limit below 1 is a drive.Invalid error.
func (s *Store) List(ctx context.Context, after string, limit int) ([]blob.Entry, error) {
	const op = "localdir.List"
	if limit < 1 {
		return nil, drive.E(op, drive.Invalid, "limit must be positive")
	}
	entries := []blob.Entry{}
	top, err := shards(s.dir)
	if err != nil {
		return nil, ioError(op, err)
	}
	for _, a := range top {
		if before(a, after) {
			continue
		}
		subs, err := shards(filepath.Join(s.dir, a))
		if err != nil {
			return nil, ioError(op, err)
		}
		for _, b := range subs {
			if before(a+b, after) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, drive.Wrap(op, err)
			}
			dir := filepath.Join(s.dir, a, b)
			des, err := os.ReadDir(dir) // sorted by name
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, ioError(op, err)
			}
			for _, de := range des {
				key := de.Name()
				if key <= after || !validKey(key) || !strings.HasPrefix(key, a+b) {
					continue
				}
				fi, err := de.Info()
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted meanwhile
				}
				if err != nil {
					return nil, ioError(op, err)
				}
				if !fi.Mode().IsRegular() {
					continue
				}
				entries = append(entries, blob.Entry{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
				if len(entries) == limit {
					return entries, nil
				}
			}
		}
	}
	return entries, nil
}

// shards returns the sorted names of the shard directories in dir. A
// missing dir has none.
func shards(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, de := range des {
		if de.IsDir() && isShard(de.Name()) {
			names = append(names, de.Name())
		}
	}
	return names, nil
}

// before reports whether every string starting with prefix sorts before
// or at after, so that a shard named prefix has no key greater than after.
func before(prefix, after string) bool {
	return prefix < after && !strings.HasPrefix(after, prefix)
}

// Ping implements blob.Store: it creates and removes an empty file in
// dir/tmp, so a missing, unreadable or read-only directory is reported as
// drive.Unavailable.
func (s *Store) Ping(ctx context.Context) error {
	const op = "localdir.Ping"
	if err := ctx.Err(); err != nil {
		return drive.Wrap(op, err)
	}
	f, err := os.CreateTemp(s.tmp, "ping-*")
	if err != nil {
		return drive.E(op, drive.Unavailable, "blob directory not writable", err)
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return drive.E(op, drive.Unavailable, "blob directory not writable", err)
	}
	return nil
}

// readFull reads into buf until it is full or r returns an error. Unlike
// io.ReadFull it returns r's error unchanged: an io.ErrUnexpectedEOF from r
// (a multipart body cut before its closing boundary) must fail the Put, not
// pass for a clean end.
func readFull(r io.Reader, buf []byte) (n int, err error) {
	for n < len(buf) && err == nil {
		var k int
		k, err = r.Read(buf[n:])
		n += k
	}
	return n, err
}
