// Package drivetest boots a real clouddrive server for tests: the same
// wiring as `clouddrive serve` (package app) on a temporary data directory,
// listening on a random loopback port, so clients talk real HTTP.
//
// # Backends
//
// By default a server runs on the embedded stores (SQLite and a local
// blob directory in its data directory). When the environment variable
// CLOUDDRIVE_TEST_STORES names "postgres" and/or "s3" (scripts/test.sh
// runs the end-to-end suite a second time with "postgres+s3"), each server
// instead gets a fresh PostgreSQL schema on CLOUDDRIVE_TEST_PG_DSN and/or
// a fresh bucket on the S3-compatible server of CLOUDDRIVE_TEST_S3, so the
// same tests run unchanged on the scale-out stores. A server started again
// on the same DataDir (restart tests) finds the schema and bucket of the
// first one through a file in the directory; they are dropped when the
// test that created them ends.
package drivetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/blob/localdir"
	"github.com/clouddrive/clouddrive/internal/blob/s3/s3test"
	"github.com/clouddrive/clouddrive/internal/httpguard"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

// EnvStores names the environment variable that selects the backends.
const EnvStores = "CLOUDDRIVE_TEST_STORES"

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
	// Stores overrides CLOUDDRIVE_TEST_STORES for this server, e.g.
	// "embedded" for a test that needs the embedded stores whatever the
	// environment selects.
	Stores string
	// WebhookPoll sets app.Config.WebhookPoll; negative starts no webhook
	// dispatcher, so the test drives it with App.Webhooks.RunOnce.
	WebhookPoll time.Duration
	// WebhookRefuseInternal keeps the production default of refusing
	// webhook deliveries to internal addresses; test servers otherwise
	// allow them, since their receivers listen on loopback.
	WebhookRefuseInternal bool
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
	cfg := app.Config{DataDir: dir, Logger: log, Now: opts.Now, NewID: opts.NewID, DefaultQuota: opts.DefaultQuota, RateLimits: opts.RateLimits,
		WebhookPoll: opts.WebhookPoll, WebhookAllowInternal: !opts.WebhookRefuseInternal}
	sel := opts.Stores
	if sel == "" {
		sel = os.Getenv(EnvStores)
	}
	cfg.DB, cfg.Blobs = Stores(t, dir, sel)
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
		// The server serve runs, slow-client guard included, with its
		// default limits.
		srv: a.HTTPServer(httpguard.Limits{}, stdlog.New(io.Discard, "", 0))}
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

// storesFile records, in a data directory, the schema and bucket a server
// on it uses, for a second server on the same directory.
const storesFile = "drivetest-stores.json"

// Stores returns the app.Config DB and Blobs settings for a server on
// dir, as sel (the syntax of CLOUDDRIVE_TEST_STORES) selects: "" and ""
// for the embedded stores, or a fresh PostgreSQL schema and S3 bucket,
// created on first use of dir and dropped when t ends.
func Stores(t testing.TB, dir, sel string) (db, blobs string) {
	t.Helper()
	if sel == "" {
		return "", ""
	}
	path := filepath.Join(dir, storesFile)
	var saved struct{ DB, Blobs string }
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &saved); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return saved.DB, saved.Blobs
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, b := range strings.FieldsFunc(sel, func(r rune) bool { return r == '+' || r == ',' || r == ' ' }) {
		switch b {
		case "postgres":
			saved.DB = pgtest.Schema(t)
		case "s3":
			saved.Blobs = s3test.URL(s3test.Real(t))
		case "embedded", "sqlite", "local":
		default:
			t.Fatalf("%s=%q: unknown backend %q (want postgres, s3 or embedded)", EnvStores, sel, b)
		}
	}
	raw, _ := json.Marshal(saved)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return saved.DB, saved.Blobs
}

// BlobDir returns the server's local blob directory, or "" when its blobs
// are elsewhere (S3).
func (s *Server) BlobDir() string {
	if _, ok := s.App.Blobs.(*localdir.Store); !ok {
		return ""
	}
	return filepath.Join(s.DataDir, "blobs")
}

// BlobCount returns how many blobs the server's blob store holds.
func (s *Server) BlobCount() int {
	s.t.Helper()
	n, after := 0, ""
	for {
		es, err := s.App.Blobs.List(context.Background(), after, 1000)
		if err != nil {
			s.t.Fatalf("listing blobs: %v", err)
		}
		if len(es) == 0 {
			return n
		}
		n += len(es)
		after = es[len(es)-1].Key
	}
}

// PendingUploads names the blob uploads in progress: the temp files of a
// local blob directory, or the Puts running in this process on S3.
func (s *Server) PendingUploads() []string {
	s.t.Helper()
	if a, ok := s.App.Blobs.(interface{ Active() int }); ok {
		var names []string
		for i := range a.Active() {
			names = append(names, fmt.Sprintf("put-%d", i))
		}
		return names
	}
	es, err := os.ReadDir(filepath.Join(s.DataDir, "blobs", "tmp"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
