package ratelimit

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// Bucket is one token bucket of a request: its key ("t:" + token id or
// "u:" + user id), refill rate and burst.
type Bucket struct {
	Key   string
	Rate  rate.Limit
	Burst int
}

// Shared keeps buckets where every replica of a server sees them (package
// meta/postgres implements it in the database), so a token's limit holds
// across the load balancer instead of per process.
type Shared interface {
	// Take takes one request from every bucket, or from none: when any
	// bucket is empty it returns false and how long to wait.
	Take(ctx context.Context, now time.Time, buckets []Bucket) (ok bool, wait time.Duration, err error)
}

// sharedTimeout bounds one Take, so a slow database cannot stall
// requests behind the limiter.
const sharedTimeout = 2 * time.Second

// NewShared returns a limiter whose buckets live in s. If s fails, the
// request is judged by buckets in this process instead (each replica then
// enforces the full limit on its own share of the traffic) and onError,
// if not nil, is told.
func NewShared(l Limits, now func() time.Time, s Shared, onError func(error)) *Limiter {
	lim := New(l, now)
	lim.shared, lim.onError = s, onError
	return lim
}

// allowShared is Allow with shared buckets; ok is false when s failed.
func (l *Limiter) allowShared(tokenID, userID string) (allowed bool, wait time.Duration, ok bool) {
	var bs []Bucket
	if l.limits.PerToken > 0 {
		bs = append(bs, Bucket{Key: "t:" + tokenID, Rate: l.limits.PerToken, Burst: max(l.limits.PerTokenBurst, 1)})
	}
	if l.limits.PerUser > 0 {
		bs = append(bs, Bucket{Key: "u:" + userID, Rate: l.limits.PerUser, Burst: max(l.limits.PerUserBurst, 1)})
	}
	if len(bs) == 0 {
		return true, 0, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	allowed, wait, err := l.shared.Take(ctx, l.now(), bs)
	if err != nil {
		if l.onError != nil {
			l.onError(err)
		}
		return false, 0, false
	}
	return allowed, wait, true
}
