package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/clouddrive/clouddrive/internal/blob"
	s3blob "github.com/clouddrive/clouddrive/internal/blob/s3"
	"github.com/clouddrive/clouddrive/internal/blob/s3/s3test"
	"github.com/clouddrive/clouddrive/internal/drive"
)

// backends runs fn on the fake server and, when configured, the real one.
func backends(t *testing.T, fn func(t *testing.T, cfg s3blob.Config)) {
	t.Run("Fake", func(t *testing.T) { fn(t, s3test.Fake(t)) })
	t.Run("Real", func(t *testing.T) { fn(t, s3test.Real(t)) })
}

func randomReader(n int64, seed byte) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{seed}), n)
}

func randomBytes(n int64, seed byte) []byte {
	b, _ := io.ReadAll(randomReader(n, seed))
	return b
}

// objects lists every object name in the bucket.
func objects(t *testing.T, s *s3blob.Store) []string {
	t.Helper()
	var names []string
	p := s3.NewListObjectsV2Paginator(s.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket())})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		for _, o := range page.Contents {
			names = append(names, aws.ToString(o.Key))
		}
	}
	return names
}

// uploads lists the bucket's unfinished multipart uploads.
func uploads(t *testing.T, s *s3blob.Store) []string {
	t.Helper()
	out, err := s.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket())})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// TestLayout checks the object names: blobs/<sha256>, and no temp
// objects left after small and multipart Puts.
func TestLayout(t *testing.T) {
	backends(t, func(t *testing.T, cfg s3blob.Config) {
		cfg.Prefix = "cd/"
		s := open(t, cfg)
		small := []byte("hello, world\n")
		large := randomBytes(s3blob.DefaultPartSize*2+123, 1)
		for _, data := range [][]byte{small, large} {
			info, err := s.Put(t.Context(), bytes.NewReader(data), nil)
			if err != nil {
				t.Fatalf("Put(%d bytes) error: %v", len(data), err)
			}
			sum := sha256.Sum256(data)
			if want := hex.EncodeToString(sum[:]); info.Key != want {
				t.Errorf("Put(%d bytes) key = %s, want the SHA-256 %s", len(data), info.Key, want)
			}
		}
		got := objects(t, s)
		if len(got) != 2 {
			t.Fatalf("objects = %q, want two blobs", got)
		}
		for _, name := range got {
			if !strings.HasPrefix(name, "cd/blobs/") {
				t.Errorf("object %q is not under cd/blobs/", name)
			}
		}
		if u := uploads(t, s); len(u) != 0 {
			t.Errorf("unfinished uploads after Puts: %q", u)
		}
	})
}

// TestMultipartCopy stores a blob through the multipart copy path used
// beyond CopyObject's 5 GiB limit.
func TestMultipartCopy(t *testing.T) {
	t.Run("Real", func(t *testing.T) {
		s := open(t, s3test.Real(t))
		s3blob.SetCopyLimits(s, s3blob.MinPartSize, s3blob.MinPartSize)
		data := randomBytes(s3blob.DefaultPartSize*2+s3blob.MinPartSize/2, 2)
		info, err := s.Put(t.Context(), bytes.NewReader(data), nil)
		if err != nil {
			t.Fatalf("Put error: %v", err)
		}
		rc, err := s.Open(t.Context(), info.Key, 0, -1)
		if err != nil {
			t.Fatalf("Open error: %v", err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("read back %d bytes, %v; want the %d stored", len(got), err, len(data))
		}
		if objs := objects(t, s); len(objs) != 1 {
			t.Errorf("objects = %q, want the blob only", objs)
		}
	})
}

// cancelAfter cancels a context once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	k, err := c.r.Read(p[:min(len(p), 64<<10)])
	c.n -= int64(k)
	return k, err
}

// TestCancelMultipart cancels a Put after several parts were uploaded:
// nothing is visible and the multipart upload is aborted.
func TestCancelMultipart(t *testing.T) {
	backends(t, func(t *testing.T, cfg s3blob.Config) {
		s := open(t, cfg)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		r := &cancelAfter{r: randomReader(1<<30, 3), n: 3 * s3blob.DefaultPartSize, cancel: cancel}
		if _, err := s.Put(ctx, r, nil); err == nil {
			t.Fatal("Put canceled midway succeeded")
		}
		if objs := objects(t, s); len(objs) != 0 {
			t.Errorf("objects after a canceled Put = %q, want none", objs)
		}
		if u := uploads(t, s); len(u) != 0 {
			t.Errorf("unfinished uploads after a canceled Put = %q, want none", u)
		}
		if n := s.Active(); n != 0 {
			t.Errorf("Active() after the Put = %d, want 0", n)
		}
	})
}

// TestSweepUploads checks that what a killed process leaves (an
// unfinished multipart upload, a temp object) is swept once older than
// the cutoff, and blobs are not.
func TestSweepUploads(t *testing.T) {
	backends(t, func(t *testing.T, cfg s3blob.Config) {
		s := open(t, cfg)
		ctx := t.Context()
		c, bucket := s.Client(), aws.String(s.Bucket())
		if _, err := s.Put(ctx, strings.NewReader("a blob"), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("tmp/left-by-a-crash")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("tmp/assembled-then-crashed"), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.SweepUploads(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("SweepUploads(an hour ago) = %d, %v; want 0, nil", n, err)
		}
		if n, err := s.SweepUploads(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
			t.Errorf("SweepUploads(in an hour) = %d, %v; want 2, nil", n, err)
		}
		if objs := objects(t, s); len(objs) != 1 || !strings.HasPrefix(objs[0], "blobs/") {
			t.Errorf("objects after the sweep = %q, want the blob only", objs)
		}
		if u := uploads(t, s); len(u) != 0 {
			t.Errorf("unfinished uploads after the sweep = %q", u)
		}
	})
}

// TestPutBoundedMemory streams a blob many times larger than a part
// through Put and checks that the bytes allocated stay near
// (Concurrency+2) parts, not the blob's size. It runs on the real server
// only: the fake one keeps objects in this process's memory.
func TestPutBoundedMemory(t *testing.T) {
	s := open(t, s3test.Real(t))
	const size = 96 << 20
	// Warm the buffer pool and the connection.
	if _, err := s.Put(t.Context(), randomReader(s3blob.DefaultPartSize+1, 4), nil); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	info, err := s.Put(t.Context(), randomReader(size, 5), nil)
	if err != nil {
		t.Fatalf("Put error: %v", err)
	}
	runtime.ReadMemStats(&after)
	if info.Size != size {
		t.Fatalf("Put size = %d, want %d", info.Size, size)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Put of %d MiB allocated %d MiB", size>>20, alloc>>20)
	if limit := uint64(48 << 20); alloc > limit {
		t.Errorf("Put of %d MiB allocated %d MiB, want under %d MiB", size>>20, alloc>>20, limit>>20)
	}
}

// TestOpenErrors checks the error kinds of reads that cannot succeed.
func TestOpenErrors(t *testing.T) {
	backends(t, func(t *testing.T, cfg s3blob.Config) {
		s := open(t, cfg)
		info, err := s.Put(t.Context(), strings.NewReader("0123456789"), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			off, length int64
			want        drive.Kind
		}{{11, -1, drive.RangeNotSatisfiable}, {11, 0, drive.RangeNotSatisfiable}, {11, 3, drive.RangeNotSatisfiable}, {-1, 2, drive.Invalid}} {
			if _, err := s.Open(t.Context(), info.Key, tc.off, tc.length); !drive.Is(tc.want, err) {
				t.Errorf("Open(key, %d, %d) error = %v, want kind %v", tc.off, tc.length, err, tc.want)
			}
		}
		for _, tc := range []struct{ off, length int64 }{{10, -1}, {10, 0}, {10, 3}, {0, 0}} {
			rc, err := s.Open(t.Context(), info.Key, tc.off, tc.length)
			if err != nil {
				t.Errorf("Open(key, %d, %d) error: %v", tc.off, tc.length, err)
				continue
			}
			if b, _ := io.ReadAll(rc); len(b) != 0 {
				t.Errorf("Open(key, %d, %d) read %q, want nothing", tc.off, tc.length, b)
			}
			rc.Close()
		}
	})
}

// TestUnreachable checks that a store whose server is down reports
// drive.Unavailable, which the API turns into a 503.
func TestUnreachable(t *testing.T) {
	cfg := s3blob.Config{Bucket: "nowhere", Endpoint: "http://127.0.0.1:1", Region: s3test.Region, PathStyle: true,
		AccessKey: "k", SecretKey: "s"}
	s := open(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := s.Ping(ctx); !drive.Is(drive.Unavailable, err) {
		t.Errorf("Ping error = %v, want kind %v", err, drive.Unavailable)
	}
	if _, err := s.Stat(ctx, strings.Repeat("a", 64)); !drive.Is(drive.Unavailable, err) {
		t.Errorf("Stat error = %v, want kind %v", err, drive.Unavailable)
	}
	if _, err := s.Put(ctx, strings.NewReader("x"), func(blob.Info) error { return nil }); !drive.Is(drive.Unavailable, err) {
		t.Errorf("Put error = %v, want kind %v", err, drive.Unavailable)
	}
}
