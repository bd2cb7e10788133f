package storeconfig

import (
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/meta/postgres"
	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

// This file answers what only some opened backends can do, so that the
// rest of the server asks here instead of knowing the adapters' types.

// Shared reports whether m is a metadata store that several server
// replicas may share (PostgreSQL): state kept in one process (rate-limit
// buckets, upload locks) must then live in the store.
func Shared(m meta.Store) bool {
	s, ok := m.(*sqlstore.Store)
	return ok && s.Dialect.Name == Postgres
}

// SharedRateLimits returns rate-limit buckets kept in m for every replica
// (PostgreSQL), or nil when m keeps none (SQLite: one server, buckets in
// its process).
func SharedRateLimits(m meta.Store) ratelimit.Shared {
	if !Shared(m) {
		return nil
	}
	return postgres.NewRateLimiter(m.(*sqlstore.Store))
}
