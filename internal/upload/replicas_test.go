package upload_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/testbytes"
)

// bucketContents lists what the uploads staging holds in a server's
// bucket: objects and unfinished multipart uploads under uploads/.
func bucketContents(t *testing.T, s *drivetest.Server) []string {
	t.Helper()
	b, ok := s.App.Blobs.(interface {
		Client() *s3.Client
		Bucket() string
		Prefix() string
	})
	if !ok {
		t.Fatal("blob store is not S3")
	}
	ctx := context.Background()
	prefix := b.Prefix() + "uploads/"
	var names []string
	objs, err := b.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Bucket()), Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs.Contents {
		names = append(names, aws.ToString(o.Key))
	}
	mps, err := b.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b.Bucket()), Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range mps.Uploads {
		names = append(names, "multipart:"+aws.ToString(u.Key))
	}
	return names
}

// TestReplicas runs two servers on one PostgreSQL schema and one bucket
// (skipped unless the test PostgreSQL and S3 servers are configured, as
// scripts/test.sh does): an upload begun on one replica is resumed and
// finished on the other, also after a connection cut on the first, and
// expiry on either collects the staged parts in the bucket.
func TestReplicas(t *testing.T) {
	clk := &clock{t: time.Now()}
	dir := t.TempDir()
	r1 := drivetest.New(t, drivetest.Options{DataDir: dir, Stores: "postgres+s3", Now: clk.Now})
	r2 := drivetest.New(t, drivetest.Options{DataDir: dir, Stores: "postgres+s3", Now: clk.Now})
	tok := foreverToken(t, r1, "alice")
	c1, c2 := tus{t: t, base: r1.URL, tok: tok}, tus{t: t, base: r2.URL, tok: tok}
	on2 := func(loc string) string { return r2.URL + strings.TrimPrefix(loc, r1.URL) }
	// The largest upload is the blob store's largest blob (10,000 parts
	// of 8 MiB).
	if opt := c1.do("OPTIONS", "/cdproxy/uploads/", nil, nil); opt.Header.Get("Tus-Max-Size") != strconv.Itoa(10000*8<<20) {
		t.Errorf("Tus-Max-Size = %q", opt.Header.Get("Tus-Max-Size"))
	}
	wantError(t, c1.create(10000*8<<20+1, map[string]string{"name": "huge.bin"}), http.StatusRequestEntityTooLarge, "MAX_SIZE_EXCEEDED")

	// More than one S3 part (5 MiB at least each) and a partial one.
	data := testbytes.Random(6<<20+300_000, 7)
	loc := c1.mustCreate(int64(len(data)), map[string]string{"name": "replicated.bin", "md5": md5hex(data)})
	if resp := c1.patch(loc, 0, data[:5<<20+1000], nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH on r1 = %d %s", resp.StatusCode, body(resp))
	}
	off := c2.offset(on2(loc))
	if off != 5<<20+1000 {
		t.Fatalf("offset on r2 = %d", off)
	}
	// A request cut on r2 holds the upload's lock there until r2 notices;
	// r1 waits for it (the lock is PostgreSQL's) and resumes after it.
	cutPatch(t, c2, on2(loc), off, data[off:], 100_000)
	resp := c1.resume(loc, data, 1<<20)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Clouddrive-Node-Id") == "" {
		t.Fatalf("finish on r1 = %d %s", resp.StatusCode, body(resp))
	}
	id := resp.Header.Get("Clouddrive-Node-Id")
	if _, got := c2.node(id); !bytes.Equal(got, data) {
		t.Fatal("content read on r2 differs")
	}
	if h := c2.do("HEAD", on2(loc), nil, nil); h.StatusCode != http.StatusOK || h.Header.Get("Clouddrive-Node-Id") != id {
		t.Fatalf("HEAD on r2 of the completed upload = %d %v", h.StatusCode, h.Header)
	}

	// Expiry: an abandoned upload with a staged part and a partial one.
	stale := c2.mustCreate(6<<20, map[string]string{"name": "stale.bin"})
	if resp := c2.patch(stale, 0, data[:5<<20+10], nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH = %d", resp.StatusCode)
	}
	if len(bucketContents(t, r1)) == 0 {
		t.Fatal("nothing staged in the bucket")
	}
	// An upload its server created without the record (stopped between
	// the two): a multipart upload under uploads/ that no record names.
	b := r1.App.Blobs.(interface {
		Client() *s3.Client
		Bucket() string
		Prefix() string
	})
	if _, err := b.Client().CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{
		Bucket: aws.String(b.Bucket()), Key: aws.String(b.Prefix() + "uploads/orphan00000000000000")}); err != nil {
		t.Fatal(err)
	}
	clk.Add(25 * time.Hour)
	if n, err := r1.App.Uploads.Collect(context.Background()); err != nil || n != 3 {
		t.Fatalf("Collect = %d, %v; want 3 (the stale upload, the completed one's record, the orphan)", n, err)
	}
	if left := bucketContents(t, r1); len(left) != 0 {
		t.Fatalf("bucket keeps %v", left)
	}
	if h := c2.do("HEAD", stale, nil, nil); h.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD of expired upload = %d", h.StatusCode)
	}
}

// TestReplicaInterruptsStalledRequest: a PATCH stalled on one replica (its
// client's network went away without closing the connection, so nothing
// tells that replica) holds the upload's lock there. A resume on the
// other replica asks it to let go (a PostgreSQL notification): the
// stalled request is answered, and the resume finishes, instead of
// waiting for the lock timeout and getting 503.
func TestReplicaInterruptsStalledRequest(t *testing.T) {
	dir := t.TempDir()
	r1 := drivetest.New(t, drivetest.Options{DataDir: dir, Stores: "postgres+s3"})
	r2 := drivetest.New(t, drivetest.Options{DataDir: dir, Stores: "postgres+s3"})
	tok := foreverToken(t, r1, "alice")
	c1, c2 := tus{t: t, base: r1.URL, tok: tok}, tus{t: t, base: r2.URL, tok: tok}
	on2 := func(loc string) string { return r2.URL + strings.TrimPrefix(loc, r1.URL) }
	data := testbytes.Random(300_000, 11)
	loc := c1.mustCreate(int64(len(data)), map[string]string{"name": "stalled.bin", "md5": md5hex(data)})
	if resp := c1.patch(loc, 0, data[:100_000], nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH on r1 = %d %s", resp.StatusCode, body(resp))
	}

	// The stalled request: headers and 1,000 bytes of the rest, then
	// nothing, the connection left open.
	u, _ := url.Parse(on2(loc))
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\n"+
		"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 100000\r\nContent-Length: %d\r\n\r\n",
		u.Path, u.Host, tok, len(data)-100_000)
	if _, err := conn.Write(data[100_000:101_000]); err != nil {
		t.Fatal(err)
	}
	answered := make(chan int, 1)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	time.Sleep(500 * time.Millisecond) // r2 takes the lock and reads the body

	resp := c1.resume(loc, data, 100_000)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Clouddrive-Node-Id") == "" {
		t.Fatalf("resume on r1 = %d %s", resp.StatusCode, body(resp))
	}
	if _, got := c2.node(resp.Header.Get("Clouddrive-Node-Id")); !bytes.Equal(got, data) {
		t.Fatal("content read on r2 differs")
	}
	select {
	case st := <-answered:
		if st != http.StatusLocked {
			t.Errorf("the stalled request on r2 was answered %d, want 423 (interrupted by r1)", st)
		}
	case <-time.After(30 * time.Second):
		t.Error("the stalled request on r2 was never answered")
	}
}
