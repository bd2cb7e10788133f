package postgres_test

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/meta/metatest"
	"github.com/clouddrive/clouddrive/internal/meta/postgres"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
)

// open opens a store on dsn and closes it when the test ends.
func open(t *testing.T, dsn string) meta.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open error: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close error: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	pgtest.BaseDSN(t)
	metatest.Run(t, func(t *testing.T) meta.Store {
		return open(t, pgtest.Schema(t))
	})
}
