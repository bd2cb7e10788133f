// Package blobtest is the conformance suite for blob.Store implementations.
// Every backend's tests call Run; any new behaviour of the contract goes
// into this suite first.
//
// The suite treats keys as opaque: it only uses keys returned by Put or
// List, plus a few arbitrary strings that must be reported as missing.
//
// Beyond the doc comments in package blob, the suite pins down these
// behaviours, which every backend must share:
//
//   - Open with off == size returns an empty reader; off > size gives a
//     drive.RangeNotSatisfiable error; a negative off is an error; a length
//     running past the end is cut at the end.
//   - An unknown key, including one that is not in the store's key format
//     (such as "" or "../../etc/passwd"), gives drive.NotFound from Open and
//     Stat, and Delete of it returns nil.
//   - When the reader given to Put fails, Put returns an error that wraps
//     the reader's error (errors.Is), so callers can classify it.
//   - Storing bytes identical to an existing blob, including a Put rejected
//     by its check, never disturbs the existing blob.
package blobtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/testbytes"
)

// Run runs the conformance suite against the stores returned by newStore.
// newStore is called once per subtest and must return an empty store; it
// registers any cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"EmptyList", testEmptyList},
		{"PutOpen", testPutOpen},
		{"CheckInfo", testCheckInfo},
		{"OpenRange", testOpenRange},
		{"OpenRangeEmptyBlob", testOpenRangeEmptyBlob},
		{"OpenMissing", testOpenMissing},
		{"Stat", testStat},
		{"StatMissing", testStatMissing},
		{"Delete", testDelete},
		{"DeleteMissing", testDeleteMissing},
		{"PutDuplicate", testPutDuplicate},
		{"CheckReject", testCheckReject},
		{"CheckRejectKeepsExisting", testCheckRejectKeepsExisting},
		{"ReaderError", testReaderError},
		{"ContextCanceled", testContextCanceled},
		{"ContextCanceledMidway", testContextCanceledMidway},
		{"ListPagination", testListPagination},
		{"ConcurrentPut", testConcurrentPut},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// wantInfo returns the Info (without Key) that storing data must produce.
func wantInfo(data []byte) blob.Info {
	m := md5.Sum(data)
	s := sha256.Sum256(data)
	return blob.Info{
		Size:   int64(len(data)),
		MD5:    hex.EncodeToString(m[:]),
		SHA256: hex.EncodeToString(s[:]),
	}
}

func checkInfo(t *testing.T, what string, got blob.Info, data []byte) {
	t.Helper()
	want := wantInfo(data)
	if got.Size != want.Size || got.MD5 != want.MD5 || got.SHA256 != want.SHA256 {
		t.Errorf("%s = {Size:%d MD5:%s SHA256:%s}, want {Size:%d MD5:%s SHA256:%s}",
			what, got.Size, got.MD5, got.SHA256, want.Size, want.MD5, want.SHA256)
	}
}

func put(t *testing.T, s blob.Store, data []byte) blob.Info {
	t.Helper()
	info, err := s.Put(t.Context(), bytes.NewReader(data), nil)
	if err != nil {
		t.Fatalf("Put(%d bytes) error: %v", len(data), err)
	}
	if info.Key == "" {
		t.Fatalf("Put(%d bytes) returned an empty key", len(data))
	}
	checkInfo(t, "Put info", info, data)
	return info
}

func read(t *testing.T, s blob.Store, key string, off, length int64) ([]byte, error) {
	t.Helper()
	rc, err := s.Open(t.Context(), key, off, length)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading Open(%q, %d, %d): %v", key, off, length, err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("Close of Open(%q, %d, %d): %v", key, off, length, err)
	}
	return b, nil
}

func checkContent(t *testing.T, s blob.Store, key string, want []byte) {
	t.Helper()
	got, err := read(t, s, key, 0, -1)
	if err != nil {
		t.Fatalf("Open(%q, 0, -1) error: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Open(%q, 0, -1) read %d bytes that differ from the %d stored", key, len(got), len(want))
	}
}

// listAll returns every entry, paging with limit.
func listAll(t *testing.T, s blob.Store, limit int) []blob.Entry {
	t.Helper()
	var all []blob.Entry
	after := ""
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatalf("List did not end after %d pages", page)
		}
		es, err := s.List(t.Context(), after, limit)
		if err != nil {
			t.Fatalf("List(%q, %d) error: %v", after, limit, err)
		}
		if len(es) == 0 {
			return all
		}
		if len(es) > limit {
			t.Fatalf("List(%q, %d) returned %d entries", after, limit, len(es))
		}
		for _, e := range es {
			if e.Key <= after {
				t.Fatalf("List(%q, %d) returned key %q, not after %q", after, limit, e.Key, after)
			}
			after = e.Key
		}
		all = append(all, es...)
	}
}

func listKeys(t *testing.T, s blob.Store) []string {
	t.Helper()
	var keys []string
	for _, e := range listAll(t, s, 1000) {
		keys = append(keys, e.Key)
	}
	return keys
}

func checkNoBlobs(t *testing.T, s blob.Store, before []string) {
	t.Helper()
	if after := listKeys(t, s); !slices.Equal(after, before) {
		t.Errorf("List after a failed Put = %q, want %q", after, before)
	}
}

func testEmptyList(t *testing.T, s blob.Store) {
	es, err := s.List(t.Context(), "", 100)
	if err != nil {
		t.Fatalf("List error: %v", err)
	}
	if len(es) != 0 {
		t.Errorf("List of an empty store = %v, want none", es)
	}
}

func testPutOpen(t *testing.T, s blob.Store) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"Empty", []byte{}},
		{"Small", []byte("hello, world\n")},
		{"Large", testbytes.Random(10<<20+7, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := put(t, s, tc.data)
			checkContent(t, s, info.Key, tc.data)
			e, err := s.Stat(t.Context(), info.Key)
			if err != nil {
				t.Fatalf("Stat(%q) error: %v", info.Key, err)
			}
			if e.Size != int64(len(tc.data)) {
				t.Errorf("Stat(%q).Size = %d, want %d", info.Key, e.Size, len(tc.data))
			}
			if !slices.Contains(listKeys(t, s), info.Key) {
				t.Errorf("List does not contain key %q", info.Key)
			}
		})
	}
}

func testCheckInfo(t *testing.T, s blob.Store) {
	data := testbytes.Random(300<<10, 2)
	var got blob.Info
	calls := 0
	info, err := s.Put(t.Context(), bytes.NewReader(data), func(i blob.Info) error {
		calls++
		got = i
		return nil
	})
	if err != nil {
		t.Fatalf("Put error: %v", err)
	}
	if calls != 1 {
		t.Errorf("check called %d times, want 1", calls)
	}
	checkInfo(t, "Info passed to check", got, data)
	checkInfo(t, "Put info", info, data)
	checkContent(t, s, info.Key, data)
}

func testOpenRange(t *testing.T, s blob.Store) {
	data := testbytes.Random(1000, 3)
	key := put(t, s, data).Key
	for _, tc := range []struct {
		off, length int64
		lo, hi      int // want data[lo:hi]
	}{
		{0, -1, 0, 1000},
		{0, 1000, 0, 1000},
		{0, 0, 0, 0},
		{10, 100, 10, 110},
		{1, 1, 1, 2},
		{500, -1, 500, 1000},
		{990, 100, 990, 1000},
		{999, -1, 999, 1000},
		{1000, -1, 1000, 1000},
		{1000, 5, 1000, 1000},
	} {
		got, err := read(t, s, key, tc.off, tc.length)
		if err != nil {
			t.Errorf("Open(key, %d, %d) error: %v", tc.off, tc.length, err)
			continue
		}
		if want := data[tc.lo:tc.hi]; !bytes.Equal(got, want) {
			t.Errorf("Open(key, %d, %d) read %d bytes, want data[%d:%d]", tc.off, tc.length, len(got), tc.lo, tc.hi)
		}
	}
	for _, off := range []int64{1001, 5000} {
		if _, err := read(t, s, key, off, -1); !drive.Is(drive.RangeNotSatisfiable, err) {
			t.Errorf("Open(key, %d, -1) error = %v, want kind %v", off, err, drive.RangeNotSatisfiable)
		}
	}
	if _, err := read(t, s, key, -1, -1); err == nil {
		t.Errorf("Open(key, -1, -1) succeeded, want an error")
	}

	large := testbytes.Random(3<<20, 4)
	key = put(t, s, large).Key
	off, n := int64(1<<20+3), int64(1<<20)
	got, err := read(t, s, key, off, n)
	if err != nil {
		t.Fatalf("Open(large, %d, %d) error: %v", off, n, err)
	}
	if !bytes.Equal(got, large[off:off+n]) {
		t.Errorf("Open(large, %d, %d) read %d bytes that differ from the stored range", off, n, len(got))
	}
}

func testOpenRangeEmptyBlob(t *testing.T, s blob.Store) {
	key := put(t, s, nil).Key
	for _, length := range []int64{-1, 0, 10} {
		got, err := read(t, s, key, 0, length)
		if err != nil || len(got) != 0 {
			t.Errorf("Open(empty, 0, %d) = %d bytes, %v; want 0 bytes, nil", length, len(got), err)
		}
	}
	if _, err := read(t, s, key, 1, -1); !drive.Is(drive.RangeNotSatisfiable, err) {
		t.Errorf("Open(empty, 1, -1) error = %v, want kind %v", err, drive.RangeNotSatisfiable)
	}
}

// unknownKeys returns keys no store holds. They need not be in the store's
// key format.
func unknownKeys() []string {
	return []string{
		"",
		"no-such-key",
		"../../etc/passwd",
		"/etc/passwd",
		"0000000000000000000000000000000000000000000000000000000000000000",
	}
}

// deletedKey returns a key in the store's own format that is not stored.
func deletedKey(t *testing.T, s blob.Store) string {
	t.Helper()
	key := put(t, s, []byte("soon gone")).Key
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete(%q) error: %v", key, err)
	}
	return key
}

func testOpenMissing(t *testing.T, s blob.Store) {
	for _, key := range append([]string{deletedKey(t, s)}, unknownKeys()...) {
		if _, err := read(t, s, key, 0, -1); !drive.Is(drive.NotFound, err) {
			t.Errorf("Open(%q, 0, -1) error = %v, want kind %v", key, err, drive.NotFound)
		}
		if _, err := read(t, s, key, 10, 5); !drive.Is(drive.NotFound, err) {
			t.Errorf("Open(%q, 10, 5) error = %v, want kind %v", key, err, drive.NotFound)
		}
	}
}

func testStat(t *testing.T, s blob.Store) {
	data := testbytes.Random(12345, 5)
	key := put(t, s, data).Key
	e, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q) error: %v", key, err)
	}
	if e.Key != key || e.Size != int64(len(data)) || e.ModTime.IsZero() {
		t.Errorf("Stat(%q) = %+v, want key %q, size %d and a mod time", key, e, key, len(data))
	}
	es := listAll(t, s, 10)
	if len(es) != 1 || es[0].Key != key || es[0].Size != int64(len(data)) {
		t.Errorf("List = %+v, want one entry with key %q and size %d", es, key, len(data))
	}
}

func testStatMissing(t *testing.T, s blob.Store) {
	for _, key := range append([]string{deletedKey(t, s)}, unknownKeys()...) {
		if _, err := s.Stat(t.Context(), key); !drive.Is(drive.NotFound, err) {
			t.Errorf("Stat(%q) error = %v, want kind %v", key, err, drive.NotFound)
		}
	}
}

func testDelete(t *testing.T, s blob.Store) {
	keep := put(t, s, []byte("keep me"))
	gone := put(t, s, []byte("delete me"))
	if err := s.Delete(t.Context(), gone.Key); err != nil {
		t.Fatalf("Delete(%q) error: %v", gone.Key, err)
	}
	if _, err := read(t, s, gone.Key, 0, -1); !drive.Is(drive.NotFound, err) {
		t.Errorf("Open(%q) after Delete error = %v, want kind %v", gone.Key, err, drive.NotFound)
	}
	if _, err := s.Stat(t.Context(), gone.Key); !drive.Is(drive.NotFound, err) {
		t.Errorf("Stat(%q) after Delete error = %v, want kind %v", gone.Key, err, drive.NotFound)
	}
	if keys := listKeys(t, s); !slices.Equal(keys, []string{keep.Key}) {
		t.Errorf("List after Delete = %q, want %q", keys, []string{keep.Key})
	}
	checkContent(t, s, keep.Key, []byte("keep me"))
}

func testDeleteMissing(t *testing.T, s blob.Store) {
	for _, key := range append([]string{deletedKey(t, s)}, unknownKeys()...) {
		if err := s.Delete(t.Context(), key); err != nil {
			t.Errorf("Delete(%q) of a missing key error: %v", key, err)
		}
	}
}

func testPutDuplicate(t *testing.T, s blob.Store) {
	data := testbytes.Random(100<<10, 6)
	a := put(t, s, data)
	b := put(t, s, data)
	checkContent(t, s, a.Key, data)
	checkContent(t, s, b.Key, data)
	keys := listKeys(t, s)
	for _, k := range []string{a.Key, b.Key} {
		if !slices.Contains(keys, k) {
			t.Errorf("List = %q, missing %q", keys, k)
		}
	}
}

var errRejected = errors.New("blobtest: rejected by check")

func testCheckReject(t *testing.T, s blob.Store) {
	before := listKeys(t, s)
	data := testbytes.Random(200<<10, 7)
	var seen blob.Info
	_, err := s.Put(t.Context(), bytes.NewReader(data), func(i blob.Info) error {
		seen = i
		return errRejected
	})
	if !errors.Is(err, errRejected) {
		t.Fatalf("Put with a rejecting check error = %v, want %v", err, errRejected)
	}
	checkNoBlobs(t, s, before)
	if seen.Key != "" {
		if _, err := read(t, s, seen.Key, 0, -1); !drive.Is(drive.NotFound, err) {
			t.Errorf("Open(%q) of a rejected blob error = %v, want kind %v", seen.Key, err, drive.NotFound)
		}
	}
}

func testCheckRejectKeepsExisting(t *testing.T, s blob.Store) {
	data := testbytes.Random(50<<10, 8)
	info := put(t, s, data)
	_, err := s.Put(t.Context(), bytes.NewReader(data), func(blob.Info) error { return errRejected })
	if !errors.Is(err, errRejected) {
		t.Fatalf("Put with a rejecting check error = %v, want %v", err, errRejected)
	}
	checkContent(t, s, info.Key, data)
	if keys := listKeys(t, s); !slices.Equal(keys, []string{info.Key}) {
		t.Errorf("List = %q, want %q", keys, []string{info.Key})
	}
}

// failingReader returns n bytes of data, then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

var errRead = errors.New("blobtest: read failed")

func testReaderError(t *testing.T, s blob.Store) {
	before := listKeys(t, s)
	// io.ErrUnexpectedEOF is how a multipart body cut before its closing
	// boundary ends: it must fail the Put like any other error, never
	// pass for the end of the content.
	for _, want := range []error{errRead, io.ErrUnexpectedEOF} {
		for _, n := range []int{0, 10, 1 << 20} {
			r := &failingReader{r: bytes.NewReader(testbytes.Random(n, 9)), err: want}
			called := false
			_, err := s.Put(t.Context(), r, func(blob.Info) error {
				called = true
				return nil
			})
			if !errors.Is(err, want) {
				t.Errorf("Put of a reader failing with %v after %d bytes error = %v", want, n, err)
			}
			if called {
				t.Errorf("Put of a reader failing with %v after %d bytes called check", want, n)
			}
		}
	}
	checkNoBlobs(t, s, before)
}

func testContextCanceled(t *testing.T, s blob.Store) {
	before := listKeys(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Put(ctx, bytes.NewReader([]byte("never stored")), nil); err == nil {
		t.Errorf("Put with a canceled context succeeded")
	}
	checkNoBlobs(t, s, before)
}

// cancelingReader cancels its context once after returning n bytes, and
// keeps returning data afterwards.
type cancelingReader struct {
	r      io.Reader
	n      int64 // bytes to return before canceling
	read   int64 // bytes returned so far
	cancel context.CancelFunc
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	if c.read >= c.n {
		c.cancel()
	}
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

func testContextCanceledMidway(t *testing.T, s blob.Store) {
	before := listKeys(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// A long body, generated as it is read. A store honouring cancellation
	// stops reading long before its end.
	const size = 256 << 20
	r := &cancelingReader{
		r:      io.LimitReader(rand.NewChaCha8([32]byte{10}), size),
		n:      1 << 20,
		cancel: cancel,
	}
	if _, err := s.Put(ctx, r, nil); err == nil {
		t.Errorf("Put canceled midway succeeded")
	}
	if r.read >= size {
		t.Errorf("Put canceled after 1 MiB read all %d bytes of the body", r.read)
	}
	checkNoBlobs(t, s, before)
}

func testListPagination(t *testing.T, s blob.Store) {
	const n = 25
	sizes := make(map[string]int64)
	for i := range n {
		data := fmt.Appendf(nil, "blob number %d %s", i, bytes.Repeat([]byte{'x'}, i))
		sizes[put(t, s, data).Key] = int64(len(data))
	}
	var want []string
	for k := range sizes {
		want = append(want, k)
	}
	slices.Sort(want)

	for _, limit := range []int{1, 2, 3, 7, 24, 25, 26, 1000} {
		es := listAll(t, s, limit)
		var got []string
		for _, e := range es {
			got = append(got, e.Key)
			if e.Size != sizes[e.Key] {
				t.Errorf("List(limit %d) entry %q size = %d, want %d", limit, e.Key, e.Size, sizes[e.Key])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("List pages of %d = %q, want %q", limit, got, want)
		}
	}

	// Starting after an arbitrary key in the middle.
	mid := want[n/2]
	es, err := s.List(t.Context(), mid, n)
	if err != nil {
		t.Fatalf("List(%q, %d) error: %v", mid, n, err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Key)
	}
	if w := want[n/2+1:]; !slices.Equal(got, w) {
		t.Errorf("List(%q, %d) = %q, want %q", mid, n, got, w)
	}
	last := want[n-1]
	if es, err := s.List(t.Context(), last, n); err != nil || len(es) != 0 {
		t.Errorf("List(last key, %d) = %v, %v; want none, nil", n, es, err)
	}
}

func testConcurrentPut(t *testing.T, s blob.Store) {
	const workers = 16
	same := testbytes.Random(512<<10, 11)
	datas := make([][]byte, workers)
	for i := range datas {
		if i%2 == 0 {
			datas[i] = same
		} else {
			datas[i] = testbytes.Random(256<<10+i, uint64(100+i))
		}
	}
	infos := make([]blob.Info, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			infos[i], errs[i] = s.Put(t.Context(), bytes.NewReader(datas[i]), nil)
		})
	}
	wg.Wait()
	for i := range workers {
		if errs[i] != nil {
			t.Fatalf("concurrent Put %d error: %v", i, errs[i])
		}
		checkInfo(t, fmt.Sprintf("concurrent Put %d info", i), infos[i], datas[i])
	}
	for i := range workers {
		checkContent(t, s, infos[i].Key, datas[i])
	}
	keys := listKeys(t, s)
	for i := range workers {
		if !slices.Contains(keys, infos[i].Key) {
			t.Errorf("List does not contain key %q of concurrent Put %d", infos[i].Key, i)
		}
	}
}

func testPing(t *testing.T, s blob.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping error: %v", err)
	}
}
