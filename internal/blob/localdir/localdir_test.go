package localdir

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/blob/blobtest"
	"github.com/clouddrive/clouddrive/internal/drive"
)

func newStore(t testing.TB) *Store {
	t.Helper()
	s, err := New(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatalf("New error: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

func tmpFiles(t *testing.T, s *Store) []string {
	t.Helper()
	des, err := os.ReadDir(s.tmp)
	if err != nil {
		t.Fatalf("ReadDir(tmp) error: %v", err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestNewRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatalf("New error: %v", err)
	}
	info, err := s.Put(t.Context(), bytes.NewReader([]byte("kept")), nil)
	if err != nil {
		t.Fatalf("Put error: %v", err)
	}
	// What a crash in the middle of Puts leaves behind.
	if err := os.WriteFile(filepath.Join(dir, "tmp", "put-123"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp", "junk", "deeper"), 0o700); err != nil {
		t.Fatal(err)
	}

	s, err = New(dir)
	if err != nil {
		t.Fatalf("New error: %v", err)
	}
	if names := tmpFiles(t, s); len(names) != 0 {
		t.Errorf("tmp after New = %q, want empty", names)
	}
	if _, err := s.Stat(t.Context(), info.Key); err != nil {
		t.Errorf("Stat(%q) after New error: %v", info.Key, err)
	}
}

func TestFailedPutLeavesNoTempFile(t *testing.T) {
	s := newStore(t)
	errCheck := errors.New("rejected")
	if _, err := s.Put(t.Context(), bytes.NewReader([]byte("data")), func(blob.Info) error { return errCheck }); !errors.Is(err, errCheck) {
		t.Fatalf("Put error = %v, want %v", err, errCheck)
	}
	errRead := errors.New("read failed")
	if _, err := s.Put(t.Context(), io.MultiReader(bytes.NewReader([]byte("data")), errReader{errRead}), nil); !errors.Is(err, errRead) {
		t.Fatalf("Put error = %v, want %v", err, errRead)
	}
	if names := tmpFiles(t, s); len(names) != 0 {
		t.Errorf("tmp after failed Puts = %q, want empty", names)
	}
}

// errReader fails every Read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestKeyLayout(t *testing.T) {
	s := newStore(t)
	data := []byte("hello, world\n")
	info, err := s.Put(t.Context(), bytes.NewReader(data), nil)
	if err != nil {
		t.Fatalf("Put error: %v", err)
	}
	const want = "853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020"
	if info.Key != want || info.SHA256 != want {
		t.Errorf("Put(%q) = key %q, sha256 %q; want both %q", data, info.Key, info.SHA256, want)
	}
	got, err := os.ReadFile(filepath.Join(s.dir, want[0:2], want[2:4], want))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("reading the blob file = %q, %v; want %q, nil", got, err, data)
	}
}

func TestInvalidKeys(t *testing.T) {
	dir := t.TempDir()
	s, err := New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatalf("New error: %v", err)
	}
	// Files a path traversal could reach.
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blobs", "tmp", "x"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"../../etc/passwd",
		"../secret",
		"../../secret",
		"tmp/x",
		"/etc/passwd",
		"",
		".",
		"..",
		"853FF93762A06DDBF722C4EBE9DDD66D8F63DDAEA97F521C3ECC20DA7C976020",  // upper case
		"853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c97602",   // short
		"853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c9760200", // long
	} {
		if _, err := s.Open(t.Context(), key, 0, -1); !drive.Is(drive.NotFound, err) {
			t.Errorf("Open(%q) error = %v, want kind %v", key, err, drive.NotFound)
		}
		if _, err := s.Stat(t.Context(), key); !drive.Is(drive.NotFound, err) {
			t.Errorf("Stat(%q) error = %v, want kind %v", key, err, drive.NotFound)
		}
		if err := s.Delete(t.Context(), key); err != nil {
			t.Errorf("Delete(%q) error: %v", key, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "secret")); err != nil {
		t.Errorf("secret file after Delete: %v", err)
	}
}

func TestListSkipsForeignFiles(t *testing.T) {
	s := newStore(t)
	info, err := s.Put(t.Context(), bytes.NewReader([]byte("x")), nil)
	if err != nil {
		t.Fatalf("Put error: %v", err)
	}
	for _, p := range []string{"README", "zz/file", "ab/notes", info.Key[0:2] + "/" + info.Key[2:4] + "/stray"} {
		p = filepath.Join(s.dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	es, err := s.List(t.Context(), "", 100)
	if err != nil {
		t.Fatalf("List error: %v", err)
	}
	if len(es) != 1 || es[0].Key != info.Key {
		t.Errorf("List = %+v, want only %q", es, info.Key)
	}
}

func TestPingMissingDir(t *testing.T) {
	s := newStore(t)
	if err := os.RemoveAll(s.dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); !drive.Is(drive.Unavailable, err) {
		t.Errorf("Ping of a removed directory error = %v, want kind %v", err, drive.Unavailable)
	}
}

const benchSize = 64 << 20

func benchData() []byte {
	b := make([]byte, benchSize)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

func BenchmarkPut(b *testing.B) {
	s := newStore(b)
	data := benchData()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Put(b.Context(), bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s := newStore(b)
	info, err := s.Put(b.Context(), bytes.NewReader(benchData()), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		rc, err := s.Open(b.Context(), info.Key, 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		if err := rc.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
