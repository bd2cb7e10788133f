package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// PerKey is one token bucket per key, such as a client address, for
// requests that carry no token to limit by (the OAuth endpoints). The
// buckets live in this process: N replicas allow N times the rate.
// Memory stays bounded: a bucket that has refilled is the same as none and
// is dropped, and at most maxKeys are kept. The zero value allows
// everything; it is safe for concurrent use, and its fields must not change
// after the first call.
type PerKey struct {
	Rate  rate.Limit // requests per second per key; 0 disables
	Burst int        // bucket size (at least 1)
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

// maxKeys bounds the buckets kept; past it, refilled ones are dropped
// first, then arbitrary ones (a dropped bucket starts full again).
const maxKeys = 100000

// Allow takes one request from key's bucket, or reports false and how
// long to wait.
func (p *PerKey) Allow(key string) (bool, time.Duration) {
	if p == nil || p.Rate <= 0 {
		return true, 0
	}
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	burst := max(p.Burst, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buckets == nil {
		p.buckets = map[string]*rate.Limiter{}
	}
	if len(p.buckets) >= maxKeys || now.Sub(p.lastSweep) > time.Minute {
		p.sweep(now, burst)
	}
	b := p.buckets[key]
	if b == nil {
		b = rate.NewLimiter(p.Rate, burst)
		p.buckets[key] = b
	}
	res := b.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops refilled buckets, and arbitrary ones while there are too
// many. Called with mu held.
func (p *PerKey) sweep(now time.Time, burst int) {
	p.lastSweep = now
	for k, b := range p.buckets {
		if b.TokensAt(now) >= float64(burst) {
			delete(p.buckets, k)
		}
	}
	for k := range p.buckets {
		if len(p.buckets) < maxKeys {
			break
		}
		delete(p.buckets, k)
	}
}

// Len returns the number of buckets kept (tests).
func (p *PerKey) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.buckets)
}
