// Package s3test gives tests empty buckets: on an in-process fake S3
// server (gofakes3, always available) or on the real S3-compatible server
// named by the CLOUDDRIVE_TEST_S3 environment variable, which
// scripts/s3-test-start.sh prints (with AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY) and scripts/test.sh exports.
//
// Without the variable, tests that need the real server skip, so that go
// test ./... passes on a laptop; when CI is set they fail instead.
//
// Dependency: github.com/johannesboyne/gofakes3 is an in-memory S3
// server, used only by tests, so the S3 store's unit tests need no
// process.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	s3blob "github.com/clouddrive/clouddrive/internal/blob/s3"
)

// EnvEndpoint names the environment variable holding the real test
// server's endpoint URL.
const EnvEndpoint = "CLOUDDRIVE_TEST_S3"

// Region is the region tests sign for.
const Region = "us-east-1"

// Endpoint returns the real test server's endpoint, skipping (or, under
// CI, failing) the test when it is not configured.
func Endpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv(EnvEndpoint)
	if ep == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; CI must run scripts/s3-test-start.sh (scripts/test.sh does)", EnvEndpoint)
		}
		t.Skipf("%s not set; run scripts/s3-test-start.sh to test a real S3 server", EnvEndpoint)
	}
	return ep
}

// Real returns the configuration of a new, empty bucket on the real test
// server; the bucket and everything in it are deleted when the test ends.
// Credentials come from the AWS environment variables.
func Real(t testing.TB) s3blob.Config {
	t.Helper()
	cfg := s3blob.Config{Bucket: NewBucketName(), Endpoint: Endpoint(t), Region: Region, PathStyle: true}
	c, err := s3blob.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	CreateBucket(t, c, cfg.Bucket)
	t.Cleanup(func() { DeleteBucket(t, c, cfg.Bucket) })
	return cfg
}

// URL returns a --blobs URL for cfg (an endpoint, path-style).
func URL(cfg s3blob.Config) string {
	q := url.Values{}
	if cfg.Endpoint != "" {
		q.Set("endpoint", cfg.Endpoint)
	}
	if cfg.Region != "" {
		q.Set("region", cfg.Region)
	}
	return (&url.URL{Scheme: "s3", Host: cfg.Bucket, Path: "/" + cfg.Prefix, RawQuery: q.Encode()}).String()
}

// Fake starts an in-process fake S3 server for the test and returns the
// configuration of an empty bucket on it, with static credentials.
func Fake(t testing.TB) s3blob.Config {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	cfg := s3blob.Config{Bucket: NewBucketName(), Endpoint: srv.URL, Region: Region, PathStyle: true,
		AccessKey: "fake", SecretKey: "fake-secret"}
	c, err := s3blob.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	CreateBucket(t, c, cfg.Bucket)
	return cfg
}

// NewBucketName returns a random valid bucket name.
func NewBucketName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "cdtest-" + hex.EncodeToString(b[:])
}

// CreateBucket creates a bucket.
func CreateBucket(t testing.TB, c *s3.Client, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("CreateBucket(%s): %v", bucket, err)
	}
}

// DeleteBucket aborts the bucket's multipart uploads, deletes its objects
// and then the bucket.
func DeleteBucket(t testing.TB, c *s3.Client, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err == nil {
		for _, u := range ups.Uploads {
			_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: u.Key, UploadId: u.UploadId})
		}
	}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Errorf("DeleteBucket(%s): list: %v", bucket, err)
			return
		}
		for _, o := range page.Contents {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: o.Key}); err != nil {
				t.Errorf("DeleteBucket(%s): delete %s: %v", bucket, aws.ToString(o.Key), err)
			}
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket}); err != nil {
		t.Errorf("DeleteBucket(%s): %v", bucket, err)
	}
}
