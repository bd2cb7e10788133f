package s3_test

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/blob/blobtest"
	s3blob "github.com/clouddrive/clouddrive/internal/blob/s3"
	"github.com/clouddrive/clouddrive/internal/blob/s3/s3test"
)

func open(t *testing.T, cfg s3blob.Config) *s3blob.Store {
	t.Helper()
	s, err := s3blob.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open error: %v", err)
	}
	return s
}

// TestConformanceFake runs the suite on the in-process fake S3 server.
func TestConformanceFake(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return open(t, s3test.Fake(t)) })
}

// TestConformanceReal runs the suite on the real S3-compatible server of
// CLOUDDRIVE_TEST_S3 (versitygw in CI).
func TestConformanceReal(t *testing.T) {
	s3test.Endpoint(t)
	blobtest.Run(t, func(t *testing.T) blob.Store { return open(t, s3test.Real(t)) })
}

// TestConformancePrefix runs the suite on a store under a key prefix, on
// the fake server.
func TestConformancePrefix(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		cfg := s3test.Fake(t)
		cfg.Prefix = "some/prefix/"
		return open(t, cfg)
	})
}
