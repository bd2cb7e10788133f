// Package ratelimit throttles API requests with token buckets
// (golang.org/x/time/rate): one bucket per access token and one per user,
// so one client's flood is stopped at its own token, a user with many
// tokens is still bounded, and other users are never slowed.
//
// By default buckets live in this process, which is exact for one server.
// With several replicas, NewShared keeps them in a store every replica
// shares (PostgreSQL, see shared.go), so a token's limit holds across the
// load balancer. Idle in-process buckets are dropped so memory stays
// bounded by the number of recently active tokens and users.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits configures the buckets. A zero rate disables that bucket.
type Limits struct {
	PerToken      rate.Limit // requests per second per access token
	PerTokenBurst int
	PerUser       rate.Limit // requests per second per user, all tokens together
	PerUserBurst  int
}

// Limiter decides whether a request may proceed. It is safe for
// concurrent use.
type Limiter struct {
	limits Limits
	now    func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time

	// shared, if set (NewShared), holds the buckets instead; the map
	// above serves only while it fails.
	shared  Shared
	onError func(error)
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// idle is how long an untouched bucket is kept; a full bucket refills well
// within it for any sane configuration.
const idle = 10 * time.Minute

// New returns a limiter. now is the clock (time.Now in production).
func New(l Limits, now func() time.Time) *Limiter {
	return &Limiter{limits: l, now: now, buckets: map[string]*bucket{}, lastSweep: now()}
}

// Allow takes one request from the token's and the user's buckets. When
// either is empty it takes nothing and returns false with how long to wait.
func (l *Limiter) Allow(tokenID, userID string) (bool, time.Duration) {
	if l.shared != nil {
		if allowed, wait, ok := l.allowShared(tokenID, userID); ok {
			return allowed, wait
		}
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > idle {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idle {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	var rs []*rate.Reservation
	for _, c := range []struct {
		key   string
		r     rate.Limit
		burst int
	}{{"t:" + tokenID, l.limits.PerToken, l.limits.PerTokenBurst}, {"u:" + userID, l.limits.PerUser, l.limits.PerUserBurst}} {
		if c.r <= 0 {
			continue
		}
		b := l.buckets[c.key]
		if b == nil {
			b = &bucket{lim: rate.NewLimiter(c.r, max(c.burst, 1))}
			l.buckets[c.key] = b
		}
		b.seen = now
		res := b.lim.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			for _, r := range rs {
				r.CancelAt(now)
			}
			return false, d
		}
		rs = append(rs, res)
	}
	return true, 0
}
