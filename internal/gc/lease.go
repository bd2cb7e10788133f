package gc

import (
	"context"
	"time"

	"github.com/clouddrive/clouddrive/internal/lease"
)

// LeaseSetting names the server setting that holds the collector lease.
const LeaseSetting = "gc_lease"

// Lead takes or renews the collection lease for holder until ttl from now,
// and reports whether holder has it. Replicas sharing one store each run a
// collection loop; the lease makes one of them collect while the others
// skip (see package lease).
func (c *Collector) Lead(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	return lease.Take(ctx, c.Meta, c.Now(), LeaseSetting, holder, ttl)
}
