// Package drivetest boots a real clouddrive server for tests: the same
// wiring as `clouddrive serve` (package app) on a temporary data directory,
// listening on a random loopback port, so clients talk real HTTP.
package drivetest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

// Server is a running test server.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234 (no trailing slash).
	URL string
	// DataDir is the server's data directory.
	DataDir string
	App     *app.App
	cfg     app.Config
	srv     *http.Server
	t       testing.TB
}

// Options tune a test server.
type Options struct {
	// DataDir reuses a directory (restart tests); empty uses t.TempDir().
	DataDir string
	// Now replaces the clock.
	Now func() time.Time
	// NewID replaces the id generator.
	NewID func() string
	// DefaultQuota for new users.
	DefaultQuota int64
	// RateLimits throttle requests; zero disables.
	RateLimits ratelimit.Limits
}

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := opts.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	level := slog.LevelWarn
	if os.Getenv("CLOUDDRIVE_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	cfg := app.Config{DataDir: dir, Logger: log, Now: opts.Now, NewID: opts.NewID, DefaultQuota: opts.DefaultQuota, RateLimits: opts.RateLimits}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("app.Open: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.Close()
		t.Fatalf("listen: %v", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), DataDir: dir, App: a, cfg: cfg, t: t,
		srv: &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and closes its stores; calling it twice is fine.
func (s *Server) Close() {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	_ = s.App.Close()
	s.srv = nil
}

// Token returns a bearer token for user, creating the user if needed.
func (s *Server) Token(user string) string {
	s.t.Helper()
	tok, err := app.AdminToken(context.Background(), s.cfg, s.App.Meta, user, time.Hour)
	if err != nil {
		s.t.Fatalf("AdminToken(%q): %v", user, err)
	}
	return tok
}

// MetadataURL and ContentURL are the API bases with trailing slashes.
func (s *Server) MetadataURL() string { return s.URL + "/drive/v1/" }

// ContentURL is the content API base with a trailing slash.
func (s *Server) ContentURL() string { return s.URL + "/cdproxy/" }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
