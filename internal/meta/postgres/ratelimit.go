package postgres

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

// RateLimiter keeps the rate-limit buckets of every replica in the
// database (table rate_limits, function rate_take of migration 00003): one
// statement per request takes from the token's and the user's bucket, or
// from neither. It implements ratelimit.Shared.
type RateLimiter struct {
	s *sqlstore.Store

	mu        sync.Mutex
	lastSweep time.Time
}

var _ ratelimit.Shared = (*RateLimiter)(nil)

// NewRateLimiter returns the shared buckets of a store opened by Open.
func NewRateLimiter(s *sqlstore.Store) *RateLimiter { return &RateLimiter{s: s} }

// idle is how long an untouched bucket row is kept: far longer than any
// bucket takes to refill.
const idle = 10 * time.Minute

// Take implements ratelimit.Shared.
func (r *RateLimiter) Take(ctx context.Context, now time.Time, buckets []ratelimit.Bucket) (bool, time.Duration, error) {
	if len(buckets) == 0 {
		return true, 0, nil
	}
	nowUS := now.UnixMicro()
	keys := make([]string, len(buckets))
	intervals := make([]int64, len(buckets))
	bursts := make([]int64, len(buckets))
	for i, b := range buckets {
		if b.Rate <= 0 {
			return false, 0, fmt.Errorf("postgres: rate limit %q: rate must be positive", b.Key)
		}
		keys[i] = b.Key
		intervals[i] = int64(math.Ceil(1e6 / float64(b.Rate)))
		bursts[i] = intervals[i] * int64(max(b.Burst, 1))
	}
	var wait int64
	err := r.s.Write.QueryRowContext(ctx, `SELECT rate_take($1, $2, $3, $4)`, keys, intervals, bursts, nowUS).Scan(&wait)
	if err != nil {
		return false, 0, fmt.Errorf("postgres: rate limit: %w", err)
	}
	r.sweep(ctx, now)
	if wait > 0 {
		return false, time.Duration(wait) * time.Microsecond, nil
	}
	return true, 0, nil
}

// sweep deletes idle bucket rows, at most once per idle period per
// process.
func (r *RateLimiter) sweep(ctx context.Context, now time.Time) {
	r.mu.Lock()
	due := now.Sub(r.lastSweep) > idle
	if due {
		r.lastSweep = now
	}
	r.mu.Unlock()
	if due {
		_, _ = r.s.Write.ExecContext(ctx, `DELETE FROM rate_limits WHERE tat < $1`, now.Add(-idle).UnixMicro())
	}
}
