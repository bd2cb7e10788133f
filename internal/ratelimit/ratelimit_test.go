package ratelimit_test

import (
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func allowN(l *ratelimit.Limiter, tok, user string, n int) (ok int) {
	for i := 0; i < n; i++ {
		if a, _ := l.Allow(tok, user); a {
			ok++
		}
	}
	return ok
}

func TestPerToken(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := ratelimit.New(ratelimit.Limits{PerToken: 10, PerTokenBurst: 5}, c.now)
	if got := allowN(l, "a", "u1", 20); got != 5 {
		t.Errorf("burst: allowed %d of 20, want 5", got)
	}
	ok, wait := l.Allow("a", "u1")
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Errorf("Allow after burst = %v, %v; want false and ~100ms", ok, wait)
	}
	if got := allowN(l, "b", "u2", 5); got != 5 {
		t.Errorf("another token was slowed: allowed %d of 5", got)
	}
	c.advance(time.Second)
	if got := allowN(l, "a", "u1", 20); got != 5 {
		t.Errorf("after refill: allowed %d, want 5 (burst)", got)
	}
}

func TestPerUserAcrossTokens(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := ratelimit.New(ratelimit.Limits{PerToken: 100, PerTokenBurst: 100, PerUser: 1, PerUserBurst: 6}, c.now)
	got := allowN(l, "t1", "u", 4) + allowN(l, "t2", "u", 4)
	if got != 6 {
		t.Errorf("user with two tokens allowed %d, want 6", got)
	}
	if got := allowN(l, "t3", "other", 6); got != 6 {
		t.Errorf("another user was slowed: %d of 6", got)
	}
}

func TestDenialTakesNothing(t *testing.T) {
	// A request refused by the user bucket must not drain the token bucket.
	c := &clock{t: time.Unix(1000, 0)}
	l := ratelimit.New(ratelimit.Limits{PerToken: 1, PerTokenBurst: 3, PerUser: 1, PerUserBurst: 1}, c.now)
	allowN(l, "t", "u", 10)
	c.advance(time.Second) // user bucket refills 1, token bucket had 2 left
	if got := allowN(l, "t", "u", 1); got != 1 {
		t.Errorf("allowed %d after refill, want 1", got)
	}
}

func TestConcurrent(t *testing.T) {
	l := ratelimit.New(ratelimit.Limits{PerToken: 1, PerTokenBurst: 50}, func() time.Time { return time.Unix(5, 0) })
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := allowN(l, "t", "u", 20)
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 50 {
		t.Errorf("concurrent allowed %d, want exactly the burst 50", total)
	}
}

func TestPerKey(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	p := &ratelimit.PerKey{Rate: 2, Burst: 3, Now: c.now}
	allowed := func(key string, n int) (ok int) {
		for range n {
			if a, _ := p.Allow(key); a {
				ok++
			}
		}
		return ok
	}
	if got := allowed("10.0.0.1", 10); got != 3 {
		t.Errorf("burst: allowed %d of 10, want 3", got)
	}
	if ok, wait := p.Allow("10.0.0.1"); ok || wait <= 0 || wait > 500*time.Millisecond {
		t.Errorf("Allow after the burst = %v, %v; want false and at most 500ms", ok, wait)
	}
	if got := allowed("10.0.0.2", 3); got != 3 {
		t.Errorf("another key was slowed: %d of 3", got)
	}
	c.advance(time.Second)
	if got := allowed("10.0.0.1", 10); got != 2 {
		t.Errorf("after 1 s: allowed %d, want 2 (the rate)", got)
	}
	// Refilled buckets are dropped: memory follows active keys only.
	c.advance(2 * time.Minute)
	allowed("10.0.0.3", 1)
	if n := p.Len(); n != 1 {
		t.Errorf("%d buckets kept after the others refilled, want 1", n)
	}
	var off *ratelimit.PerKey
	if ok, _ := off.Allow("x"); !ok {
		t.Error("a nil PerKey refused")
	}
}
