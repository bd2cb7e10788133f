package client

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// Retry is the retry and back-off policy. The zero value means the
// defaults. Waits use "full jitter": before retry n (0-based) the client
// sleeps a uniformly random duration in [0, min(MaxDelay, BaseDelay·2ⁿ)),
// and at least the server's Retry-After.
type Retry struct {
	// MaxAttempts is the number of attempts, the first included. 0 means
	// 6; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the ceiling of the first wait; 0 means 250ms.
	BaseDelay time.Duration
	// MaxDelay caps the jittered part of one wait; 0 means 30s.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After that is honoured; a longer
	// one ends the retries with the error. 0 means 5 minutes.
	MaxRetryAfter time.Duration
	// Sleep waits for d or until ctx is done. nil sleeps on a timer; tests
	// inject a fake that records the waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1). nil uses math/rand/v2.
	Rand func() float64
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 6
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 250 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 30 * time.Second
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = 5 * time.Minute
	}
	if r.Sleep == nil {
		r.Sleep = sleep
	}
	if r.Rand == nil {
		r.Rand = rand.Float64
	}
	return r
}

// Delay returns the wait before retry number attempt (0 for the first
// retry), given the server's Retry-After (0 if none).
func (r Retry) Delay(attempt int, retryAfter time.Duration) time.Duration {
	r = r.withDefaults()
	ceil := r.MaxDelay
	if attempt < 30 {
		ceil = min(r.MaxDelay, r.BaseDelay<<attempt)
	}
	d := time.Duration(r.Rand() * float64(ceil))
	return max(d, retryAfter)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryClass says how an attempt failed.
type retryClass int

const (
	permanent  retryClass = iota // do not retry
	notSent                      // the server did not act on the request: retry any request
	maybeActed                   // the server may have acted: retry idempotent requests, confirm others
)

// classify decides whether err, the failure of one attempt, is worth
// another attempt.
func classify(ctx context.Context, err error) retryClass {
	if ctx.Err() != nil {
		return permanent
	}
	var ae *Error
	if errors.As(err, &ae) {
		switch ae.StatusCode {
		case http.StatusTooManyRequests:
			// Throttled requests are refused before they run.
			return notSent
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
			http.StatusGatewayTimeout, http.StatusRequestTimeout:
			return maybeActed
		}
		return permanent
	}
	if errors.Is(err, ErrNotRewindable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return permanent
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return notSent
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return notSent
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, errTruncated) {
		return maybeActed
	}
	return permanent
}

// errTruncated marks a reply body that ended before its Content-Length.
var errTruncated = errors.New("reply body truncated")

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
