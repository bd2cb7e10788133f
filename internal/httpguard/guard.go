// Package httpguard keeps slow and anonymous clients from holding the
// server's connections: it bounds how long a request body may take to
// arrive, cuts off uploads that fall below a minimum rate, and caps the
// number of requests in flight without valid credentials, so that an
// attacker with many slow connections cannot starve health checks and
// signed-in users.
//
// Body deadlines are set per request with http.ResponseController, so they
// cover only the body: a download or a long poll that reads no body is not
// cut off, and the deadline is cleared as soon as the body has been read.
package httpguard

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
)

// Limits are the bounds a Guard enforces. Zero fields take the defaults
// named on each (see WithDefaults).
type Limits struct {
	// MaxUnauthenticated is the most requests in flight at once without
	// valid credentials (default 256); negative disables the cap. Beyond
	// it requests get 503 with Retry-After and Connection: close.
	MaxUnauthenticated int
	// BodyTimeout is how long a request body other than an upload may
	// take to arrive, counted from the end of the headers (default 30 s).
	BodyTimeout time.Duration
	// UploadMinRate is the slowest an upload body may arrive, in bytes
	// per second, averaged over UploadWindow (default 1 KiB/s).
	UploadMinRate int64
	// UploadWindow is the grace an upload starts with and the longest it
	// may stall (default 60 s): a body that stops arriving is cut off
	// after this long, and one that trickles below UploadMinRate a little
	// later.
	UploadWindow time.Duration
	// ReadHeaderTimeout bounds reading a request's headers (default 10 s).
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds an idle keep-alive connection (default 120 s).
	IdleTimeout time.Duration
}

// Default values of Limits.
const (
	DefaultMaxUnauthenticated = 256
	DefaultBodyTimeout        = 30 * time.Second
	DefaultUploadMinRate      = 1 << 10
	DefaultUploadWindow       = 60 * time.Second
	DefaultReadHeaderTimeout  = 10 * time.Second
	DefaultIdleTimeout        = 120 * time.Second
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	l.defaults()
	return l
}

func (l *Limits) defaults() {
	if l.MaxUnauthenticated == 0 {
		l.MaxUnauthenticated = DefaultMaxUnauthenticated
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = DefaultBodyTimeout
	}
	if l.UploadMinRate <= 0 {
		l.UploadMinRate = DefaultUploadMinRate
	}
	if l.UploadWindow <= 0 {
		l.UploadWindow = DefaultUploadWindow
	}
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
}

// Guard is the middleware. Its fields must not change after the first
// request.
type Guard struct {
	Limits Limits
	// Authenticated reports whether r carries valid credentials; nil
	// counts every request as unauthenticated.
	Authenticated func(r *http.Request) bool
	// Upload reports whether r is an upload, whose body is held to the
	// minimum rate instead of BodyTimeout. Only authenticated requests
	// are treated as uploads.
	Upload func(r *http.Request) bool
	// Exempt reports requests that are never refused (health checks); they
	// must not read a body.
	Exempt func(r *http.Request) bool
	// Refused, if set, is told of each request refused for the cap.
	Refused func(r *http.Request)

	unauth atomic.Int64
}

// Wrap returns next behind the guard.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	l := g.Limits
	l.defaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.Exempt != nil && g.Exempt(r) {
			next.ServeHTTP(w, r)
			return
		}
		authed := g.Authenticated != nil && g.Authenticated(r)
		if !authed && l.MaxUnauthenticated > 0 {
			if g.unauth.Add(1) > int64(l.MaxUnauthenticated) {
				g.unauth.Add(-1)
				g.refuse(w, r)
				return
			}
			defer g.unauth.Add(-1)
		}
		if hasBody(r) {
			rc := http.NewResponseController(w)
			if authed && g.Upload != nil && g.Upload(r) {
				r.Body = newRateBody(r.Body, rc, float64(l.UploadMinRate), l.UploadWindow)
			} else {
				r.Body = newTimedBody(r.Body, rc, l.BodyTimeout)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// hasBody reports whether r has a request body to read.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// refuse answers a request over the cap: 503 in the API's error format,
// and the connection is closed so its descriptor is released. The body is
// not read.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request) {
	if g.Refused != nil {
		g.Refused(r)
	}
	if hasBody(r) {
		// Whatever of the body the server would read to keep the
		// connection alive must not wait for a slow client.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	h := w.Header()
	h.Set("Retry-After", "5")
	if r.ProtoMajor == 1 {
		h.Set("Connection", "close")
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(acd.Error{Logref: logref(),
		Message: "The server is busy with too many requests without credentials; try again later"})
}

func logref() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// errSlow is what a body read returns once its deadline has passed.
func errSlow(why string, cause error) error {
	return drive.E("httpguard", drive.Invalid, why, cause)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// timedBody is a body that must arrive within a fixed time.
type timedBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	done    bool
}

func newTimedBody(b io.ReadCloser, rc *http.ResponseController, d time.Duration) io.ReadCloser {
	_ = rc.SetReadDeadline(time.Now().Add(d))
	return &timedBody{ReadCloser: b, rc: rc, timeout: d}
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		b.finish()
	case isTimeout(err):
		err = errSlow("request body did not arrive within "+b.timeout.String(), err)
	}
	return n, err
}

// finish clears the deadline once the body is read, so that a handler
// that runs on (a download, a long poll) is not cut off by it.
func (b *timedBody) finish() {
	if !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
}

// rateBody is an upload body held to a minimum rate. It keeps a credit of
// time: it starts at window, every byte adds 1/rate seconds, time spent
// waiting in Read takes it away, and it never exceeds window. Each Read
// may wait as long as the credit lasts, so a body that stalls is cut off
// after window, one slower than rate somewhat later, and time the
// handler spends between reads (writing to the blob store) is not
// counted against the client.
type rateBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	rate   float64 // bytes per second
	window time.Duration
	credit time.Duration
	done   bool
}

func newRateBody(b io.ReadCloser, rc *http.ResponseController, rate float64, window time.Duration) io.ReadCloser {
	_ = rc.SetReadDeadline(time.Now().Add(window))
	return &rateBody{ReadCloser: b, rc: rc, rate: rate, window: window, credit: window}
}

func (b *rateBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	start := time.Now()
	_ = b.rc.SetReadDeadline(start.Add(b.credit))
	n, err := b.ReadCloser.Read(p)
	b.credit -= time.Since(start)
	b.credit = min(b.credit+time.Duration(float64(n)/b.rate*float64(time.Second)), b.window)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case isTimeout(err):
		err = errSlow("upload arrived slower than "+strconv.FormatFloat(b.rate, 'f', -1, 64)+
			" bytes per second (or stalled for "+b.window.String()+")", err)
	}
	return n, err
}
