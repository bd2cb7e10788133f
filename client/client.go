package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultEndpointTTL is how long a discovered endpoint stays valid before
// account/endpoint is asked again: 3 days, as acd_cli did.
const DefaultEndpointTTL = 72 * time.Hour

// Client talks to one clouddrive (ACD-compatible) server on behalf of one
// token. It is safe for concurrent use. Build it with New.
type Client struct {
	bootstrap   *url.URL // metadata URL used to ask account/endpoint
	hc          *http.Client
	ts          oauth2.TokenSource
	retry       Retry
	log         *slog.Logger
	cache       EndpointCache
	endpointTTL time.Duration
	now         func() time.Time
	userAgent   string
	tus         tusState // resumable uploads (tus.go)

	mu       sync.Mutex
	metadata *url.URL
	content  *url.URL
	fetched  time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (its Transport, proxy, TLS
// settings). Its Timeout should be 0: downloads and the changes feed
// stream for as long as they need; use contexts for deadlines. The default
// is a new client on a clone of http.DefaultTransport.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithRetry sets the retry and back-off policy.
func WithRetry(r Retry) Option { return func(c *Client) { c.retry = r } }

// WithLogger sets the logger for retries and endpoint discovery (debug and
// warn levels). The default discards.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithEndpointCache keeps discovered endpoints somewhere that outlives the
// Client, e.g. a FileEndpointCache.
func WithEndpointCache(ec EndpointCache) Option { return func(c *Client) { c.cache = ec } }

// WithEndpointTTL sets how long a discovered endpoint is used before it is
// asked again (default DefaultEndpointTTL).
func WithEndpointTTL(d time.Duration) Option { return func(c *Client) { c.endpointTTL = d } }

// WithClock replaces time.Now (endpoint expiry, Retry-After dates).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithEndpoints fixes the metadata and content URLs and skips discovery.
func WithEndpoints(metadataURL, contentURL string) Option {
	return func(c *Client) {
		m, err1 := parseBase(metadataURL)
		ct, err2 := parseBase(contentURL)
		if err1 == nil && err2 == nil {
			c.metadata, c.content = m, ct
			c.fetched = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
	}
}

// New returns a Client for the server at baseURL, e.g.
// "https://drive.example.com". baseURL may also be a metadata URL ending
// in /drive/v1/. The metadata and content URLs are discovered with GET
// account/endpoint on first use and cached (see WithEndpointCache). ts
// supplies bearer tokens and is asked before every request, so an
// oauth2.Config.TokenSource refreshes them automatically; nil sends no
// Authorization header.
func New(baseURL string, ts oauth2.TokenSource, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client.New: base URL %q must be an absolute http(s) URL", baseURL)
	}
	u.RawQuery, u.Fragment = "", ""
	p := strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(p, "/drive/v1") {
		p += "/drive/v1"
	}
	u.Path, u.RawPath = p+"/", ""
	c := &Client{bootstrap: u, ts: ts, endpointTTL: DefaultEndpointTTL, now: time.Now,
		userAgent: "clouddrive-go"}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.cache == nil {
		c.cache = noCache{}
	}
	c.retry = c.retry.withDefaults()
	return c, nil
}

// BaseURL returns the bootstrap metadata URL (ends with /drive/v1/).
func (c *Client) BaseURL() string { return c.bootstrap.String() }

func parseBase(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q is not an absolute http(s) URL", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/" // relative paths resolve under it, as go-acd requires
	}
	return u, nil
}

// base selects the URL a request path is resolved against.
type base int

const (
	metadataBase base = iota
	contentBase
	bootstrapBase
	absoluteURL
)

// request describes one API call. do turns it into attempts.
type request struct {
	op     string
	method string
	base   base
	path   string // relative to the base; or the absolute URL for absoluteURL
	query  url.Values
	header http.Header
	// in is marshalled as the JSON body.
	in any
	// body returns the body of attempt n (0-based) and its Content-Type.
	// It returns ErrNotRewindable when it cannot produce the body again.
	body func(attempt int) (io.Reader, string, error)
	// noAuth sends no Authorization header (temp links).
	noAuth bool
	// idempotent requests are retried after any transient failure. Others
	// are retried only when they surely did not reach the server (429,
	// refused connection), or when confirm says the earlier attempt did
	// not take effect.
	idempotent bool
	// confirm is asked, before another attempt of a non-idempotent request
	// that may have reached the server, whether the earlier attempt took
	// effect; done=true ends do with success (the confirm func stores
	// the result where its caller reads it).
	confirm func(ctx context.Context) (done bool, err error)
	// sent reports whether the body of the last attempt was wholly sent;
	// nil means yes. A failure before the body was complete cannot have
	// taken effect on an ACD server (a cut-off upload creates nothing).
	sent func() bool
}

// call runs req and decodes a JSON reply into out (nil discards it).
func (c *Client) call(ctx context.Context, req *request, out any) error {
	resp, err := c.do(ctx, req, func(resp *http.Response) error {
		if out == nil {
			_, err := io.Copy(io.Discard, resp.Body)
			return err
		}
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.ContentLength >= 0 && int64(len(raw)) < resp.ContentLength {
			return errTruncated
		}
		if err := decodeJSON(raw, out); err != nil {
			// A reply cut short is a transport failure, worth a retry.
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return errTruncated
			}
			return fmt.Errorf("%s: decode reply: %w", req.op, err)
		}
		return nil
	})
	if resp != nil {
		resp.Body.Close()
	}
	return err
}

// decodeJSON decodes one JSON value whatever the reply's Content-Type.
func decodeJSON(raw []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(out); err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// do runs req, retrying per the policy. For a 2xx reply it calls read
// (if non-nil) on the response; an error from read that classify deems
// transient (a truncated body) makes the attempt fail and be retried like
// a transport error. It returns the response of the successful attempt,
// whose body the caller closes; when read is nil the body is unread.
func (c *Client) do(ctx context.Context, req *request, read func(*http.Response) error) (*http.Response, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, req, attempt)
		if err == nil && read != nil {
			if err = read(resp); err != nil {
				resp.Body.Close()
				resp = nil
			}
		}
		if err == nil {
			return resp, nil
		}
		if errors.Is(err, ErrNotRewindable) && lastErr != nil {
			return nil, lastErr
		}
		lastErr = err
		class := classify(ctx, err)
		if class == maybeActed && req.sent != nil && !req.sent() {
			class = notSent
		}
		if class == permanent || attempt+1 >= c.retry.MaxAttempts {
			return nil, c.finalError(req, err)
		}
		if class == maybeActed && !req.idempotent {
			if req.confirm == nil {
				return nil, err
			}
			done, cerr := req.confirm(ctx)
			if cerr != nil {
				c.log.WarnContext(ctx, "could not check whether a failed request took effect", "op", req.op, "err", cerr)
				return nil, err
			}
			if done {
				c.log.DebugContext(ctx, "failed request had taken effect", "op", req.op, "err", err)
				return nil, nil
			}
		}
		var retryAfter time.Duration
		var ae *Error
		if errors.As(err, &ae) {
			retryAfter = ae.RetryAfter
		}
		if retryAfter > c.retry.MaxRetryAfter {
			return nil, c.finalError(req, err)
		}
		wait := c.retry.Delay(attempt, retryAfter)
		c.log.DebugContext(ctx, "retrying", "op", req.op, "attempt", attempt+1, "wait", wait, "err", err)
		if serr := c.retry.Sleep(ctx, wait); serr != nil {
			return nil, err
		}
	}
}

// finalError wraps a transport error with the operation name.
func (c *Client) finalError(req *request, err error) error {
	var ae *Error
	var ce *ConflictError
	if errors.As(err, &ae) || errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if strings.HasPrefix(err.Error(), req.op+":") {
		return err
	}
	return fmt.Errorf("%s: %w", req.op, err)
}

// once makes one attempt. A non-2xx reply is returned as an error (its
// body read and closed).
func (c *Client) once(ctx context.Context, req *request, attempt int) (*http.Response, error) {
	u, err := c.resolve(ctx, req)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	ctype := ""
	switch {
	case req.body != nil:
		if body, ctype, err = req.body(attempt); err != nil {
			return nil, err
		}
	case req.in != nil:
		raw, err := json.Marshal(req.in)
		if err != nil {
			return nil, fmt.Errorf("%s: encode body: %w", req.op, err)
		}
		body, ctype = bytes.NewReader(raw), "application/json"
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.op, err)
	}
	for k, vs := range req.header {
		hreq.Header[k] = vs
	}
	if ctype != "" {
		hreq.Header.Set("Content-Type", ctype)
	}
	if c.userAgent != "" {
		hreq.Header.Set("User-Agent", c.userAgent)
	}
	if c.ts != nil && !req.noAuth {
		tok, err := c.ts.Token()
		if err != nil {
			return nil, &authError{op: req.op, err: err}
		}
		tok.SetAuthHeader(hreq)
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return nil, apiError(req.op, req.method, resp.StatusCode, resp.Header, raw, c.now())
}

// authError is a failure to get a token from the TokenSource, e.g. a
// refresh token the server no longer accepts.
type authError struct {
	op  string
	err error
}

func (e *authError) Error() string { return e.op + ": get token: " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// Is matches ErrUnauthorized.
func (e *authError) Is(target error) bool { return target == ErrUnauthorized }

func (c *Client) resolve(ctx context.Context, req *request) (*url.URL, error) {
	var b *url.URL
	switch req.base {
	case absoluteURL:
		u, err := url.Parse(req.path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", req.op, err)
		}
		return u, nil
	case bootstrapBase:
		b = c.bootstrap
	default:
		m, ct, err := c.endpoints(ctx)
		if err != nil {
			return nil, err
		}
		b = m
		if req.base == contentBase {
			b = ct
		}
	}
	ref, err := url.Parse(req.path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.op, err)
	}
	u := b.ResolveReference(ref)
	if len(req.query) > 0 {
		u.RawQuery = req.query.Encode()
	}
	return u, nil
}

// seg escapes one path segment (node ids may start with '-', property
// keys may hold anything).
func seg(s string) string { return url.PathEscape(s) }
