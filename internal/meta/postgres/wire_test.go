package postgres_test

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/httpapi"
	"github.com/clouddrive/clouddrive/internal/meta/metatest"
	"github.com/clouddrive/clouddrive/internal/meta/postgres"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
)

func TestWire(t *testing.T) {
	pgtest.BaseDSN(t)
	metatest.RunWire(t, func(t *testing.T) metatest.WireStore {
		s, err := postgres.Open(t.Context(), pgtest.Schema(t))
		if err != nil {
			t.Fatalf("Open error: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		s.SetWire(httpapi.NodeWire)
		return s
	}, httpapi.NodeWire)
}
