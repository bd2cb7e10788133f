package postgres_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/meta/postgres"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// replicas opens two stores on one schema, as two server replicas do,
// and returns a shared limiter on each.
func replicas(t *testing.T, l ratelimit.Limits, c *clock) (*ratelimit.Limiter, *ratelimit.Limiter) {
	t.Helper()
	dsn := pgtest.Schema(t)
	var lims []*ratelimit.Limiter
	for range 2 {
		s := open(t, dsn).(*sqlstore.Store)
		lims = append(lims, ratelimit.NewShared(l, c.now, postgres.NewRateLimiter(s), func(err error) {
			t.Errorf("shared limiter error: %v", err)
		}))
	}
	return lims[0], lims[1]
}

// TestSharedRateLimit checks that a token's burst is shared by two
// replicas, that a denial takes nothing, and that buckets refill.
func TestSharedRateLimit(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	a, b := replicas(t, ratelimit.Limits{PerToken: 1, PerTokenBurst: 5, PerUser: 2, PerUserBurst: 8}, c)
	allowed := 0
	for i := range 10 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if ok, wait := l.Allow("tok1", "u1"); ok {
			allowed++
		} else if wait <= 0 || wait > time.Second {
			t.Errorf("denied request %d: wait %v, want (0, 1s]", i, wait)
		}
	}
	if allowed != 5 {
		t.Errorf("token with burst 5 over two replicas: %d of 10 allowed, want 5", allowed)
	}
	// The user bucket (burst 8) has 3 left: a second token gets 3, and
	// its denials do not drain its own token bucket.
	got := 0
	for range 6 {
		if ok, _ := b.Allow("tok2", "u1"); ok {
			got++
		}
	}
	if got != 3 {
		t.Errorf("second token of the user: %d allowed, want 3 (the user's remaining burst)", got)
	}
	c.advance(2 * time.Second) // the user bucket gains 4, tok2's still has 2 of 5 left
	got = 0
	for range 6 {
		if ok, _ := a.Allow("tok2", "u1"); ok {
			got++
		}
	}
	if got != 4 {
		t.Errorf("after 2 s: %d allowed, want 4 (the user's refill)", got)
	}
	if ok, _ := a.Allow("tok3", "u2"); !ok {
		t.Error("another user was slowed")
	}
}

// TestSharedRateLimitConcurrent floods one token from both replicas at
// once: exactly the burst gets through.
func TestSharedRateLimitConcurrent(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	a, b := replicas(t, ratelimit.Limits{PerToken: 0.001, PerTokenBurst: 10}, c)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			if allowed, _ := l.Allow("flood", "u"); allowed {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if n := ok.Load(); n != 10 {
		t.Errorf("40 concurrent requests over two replicas, burst 10: %d allowed", n)
	}
}
