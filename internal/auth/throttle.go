package auth

import (
	"strings"
	"sync"
	"time"
)

// FailureThrottle slows password guessing. argon2id makes each guess cost
// the server ~50 ms, but on its own it lets an attacker try a password
// every few milliseconds from many connections. After freeFailures wrong
// passwords for one key (a user name, known or not, so a lock does not
// reveal which names exist; a share link; a client address), further attempts for that key
// are refused without checking the password for a lock time that doubles
// from lockBase up to lockMax. A correct password resets the count; so
// does an hour without failures.
//
// The counts live in each server's memory: N replicas allow N times the
// attempts, and a restart forgets them. A lock also stops the real user
// for its duration, which is why it is short and grows slowly. The zero
// value is ready to use and safe for concurrent use; Free, Base and Max
// tune it (a throttle per client address allows more failures, since
// several people may share one address).
const (
	freeFailures   = 5
	lockBase       = 30 * time.Second
	lockMax        = 15 * time.Minute
	failureMemory  = time.Hour
	maxTrackedName = 10000
)

type FailureThrottle struct {
	// Free is how many failures a key has before the first lock
	// (default 5); Base is the first lock (default 30 s), and every
	// further failure doubles it up to Max (default 15 minutes).
	Free      int
	Base, Max time.Duration

	mu    sync.Mutex
	names map[string]*failures
}

type failures struct {
	count       int
	last        time.Time
	lockedUntil time.Time
}

func throttleKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Wait returns how long attempts for name are refused, or 0.
func (l *FailureThrottle) Wait(name string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.names[throttleKey(name)]
	if f == nil || !now.Before(f.lockedUntil) {
		return 0
	}
	return f.lockedUntil.Sub(now)
}

// Failed records a wrong password for name.
func (l *FailureThrottle) Failed(name string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.names == nil {
		l.names = map[string]*failures{}
	}
	k := throttleKey(name)
	f := l.names[k]
	if f != nil && now.Sub(f.last) > failureMemory {
		f = nil
	}
	if f == nil {
		l.evict(now)
		f = &failures{}
		l.names[k] = f
	}
	f.count++
	f.last = now
	free, base, most := freeFailures, lockBase, lockMax
	if l.Free > 0 {
		free = l.Free
	}
	if l.Base > 0 {
		base = l.Base
	}
	if l.Max > 0 {
		most = l.Max
	}
	if over := f.count - free; over > 0 {
		d := most
		if over < 16 {
			d = min(base<<(over-1), most)
		}
		f.lockedUntil = now.Add(d)
	}
}

// Succeeded forgets name's failures.
func (l *FailureThrottle) Succeeded(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.names, throttleKey(name))
}

// evict keeps the table bounded: it drops forgotten entries, and when the
// table is still full, arbitrary unlocked ones. Called with mu held.
func (l *FailureThrottle) evict(now time.Time) {
	if len(l.names) < maxTrackedName {
		return
	}
	for k, f := range l.names {
		if now.Sub(f.last) > failureMemory {
			delete(l.names, k)
		}
	}
	for k, f := range l.names {
		if len(l.names) < maxTrackedName {
			return
		}
		if !now.Before(f.lockedUntil) {
			delete(l.names, k)
		}
	}
}
