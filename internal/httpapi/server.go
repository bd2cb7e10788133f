package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/metrics"
	"github.com/clouddrive/clouddrive/internal/nodes"
	"github.com/clouddrive/clouddrive/internal/oauth"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
	"github.com/clouddrive/clouddrive/internal/share"
	"github.com/clouddrive/clouddrive/internal/templink"
	"github.com/clouddrive/clouddrive/internal/thumbnail"
	"github.com/clouddrive/clouddrive/internal/webhook"
)

// Server is the ACD-compatible HTTP API. All fields are required unless
// noted.
type Server struct {
	Nodes  *nodes.Service
	Feed   *changes.Feed
	Tokens *auth.Tokens
	Links  *templink.Signer
	Logger *slog.Logger
	Now    drive.Clock
	// PublicURL is the external base URL (scheme://host[:port][/prefix])
	// used for metadataUrl, contentUrl and temp links. Empty: derived
	// from each request's Host.
	PublicURL string
	// ContentURL, if set, is the external base URL of a separate content
	// origin (another host name answered by this same server): contentUrl
	// and temp links point there, and SplitContentHost serves only content
	// routes to that host. Empty: content is on PublicURL.
	ContentURL string
	// AllowAnyHost, when PublicURL is empty, trusts every request's Host
	// header; otherwise CheckHost serves loopback names only.
	AllowAnyHost bool
	// TempLinkTTL is how long temp links stay valid (default 1 hour).
	TempLinkTTL time.Duration
	// Limiter, if set, throttles authenticated requests per token and
	// per user (429 with Retry-After).
	Limiter *ratelimit.Limiter
	// Metrics, if set, records requests. GET /metrics serves them only
	// with MetricsToken (to requests bearing it) or MetricsPublic.
	Metrics *metrics.Metrics
	// MetricsToken, if set, serves /metrics to requests with
	// Authorization: Bearer <MetricsToken>.
	MetricsToken string
	// MetricsPublic serves /metrics to anyone.
	MetricsPublic bool
	// Thumbs, if set, answers downloads with ?viewBox=N with thumbnails;
	// without it viewBox is ignored.
	Thumbs *thumbnail.Service
	// Shares, if set, serves share links (/drive/v1/.../links and the
	// public /s/{token}); without it those routes are 404.
	Shares *share.Service
	// Webhooks, if set, serves /drive/v1/webhooks.
	Webhooks *webhook.Service
	// Apps, if set, serves POST /drive/v1/apps.
	Apps *oauth.Apps
	// Uploads, if set, serves resumable uploads (tus, package upload)
	// under /cdproxy/uploads/; without it those paths are 404.
	Uploads http.Handler
}

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	return s.withRequestID(s.withRecover(s.emptyOwner(mux)))
}

// emptyOwner answers 404 for a properties path with an empty owner
// segment (…/properties//key), as ACD did. Left to the mux, the path would
// be cleaned and redirected to a different, valid route.
func (s *Server) emptyOwner(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/drive/v1/nodes/") && strings.Contains(r.URL.Path, "/properties//") {
			s.writeError(w, r, drive.E("httpapi", drive.NotFound, "unknown operation"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const requestIDKey ctxKey = iota

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// newRequestID returns a UUID-shaped random id, like ACD's logrefs.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush lets streaming handlers flush through the recorder.
func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ReadFrom keeps sendfile/copy_file_range fast paths for downloads.
func (w *statusRecorder) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += n
	return n, err
}

func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		w.Header().Set("x-amzn-RequestId", id)
		rec := &statusRecorder{ResponseWriter: w}
		start := s.Now()
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := s.Now().Sub(start)
		if s.Metrics != nil {
			// The mux records the matched pattern on r.
			s.Metrics.Observe(r.Pattern, r.Method, rec.status, elapsed)
		}
		path := r.URL.Path
		if strings.HasPrefix(path, "/cdproxy/templink/") {
			path = "/cdproxy/templink/…" // the token is a credential
		} else if strings.HasPrefix(path, "/s/") {
			path = "/s/…" // so is a share link's
		}
		s.Logger.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", path),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", elapsed))
	})
}

func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.LogAttrs(r.Context(), slog.LevelError, "panic", slog.String("request_id", requestID(r.Context())), slog.Any("panic", v))
				s.writeError(w, r, drive.Errorf("httpapi", drive.Internal, "panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// authed wraps a handler that needs a bearer token.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		scheme, tok, ok := strings.Cut(authz, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			s.writeError(w, r, drive.E("httpapi", drive.Unauthorized, "missing bearer token"))
			return
		}
		p, err := s.Tokens.Authenticate(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if s.Limiter != nil {
			if ok, wait := s.Limiter.Allow(p.TokenID, p.UserID); !ok {
				if s.Metrics != nil {
					s.Metrics.RateLimited.Inc()
				}
				s.writeError(w, r, &drive.Error{Op: "httpapi.ratelimit", Kind: drive.RateLimited, Message: "Rate exceeded", RetryAfter: wait})
				return
			}
		}
		h(w, r.WithContext(drive.NewContext(r.Context(), p)))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 1 << 20

// readJSON decodes a JSON request body whatever its Content-Type (ACD
// clients send none). An empty body leaves v untouched.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		return classify(err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	return decodeJSON("body", body, v)
}

// baseURL is the public base URL for r, without a trailing slash.
func (s *Server) baseURL(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimSuffix(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
