// Package app wires the server together: it opens the metadata and blob
// stores named by a Config, builds the services and the HTTP handler, and
// closes everything again. cmd/clouddrive and the end-to-end tests both
// use it, so tests boot exactly what the binary runs.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/gc"
	"github.com/clouddrive/clouddrive/internal/httpapi"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/metrics"
	"github.com/clouddrive/clouddrive/internal/nodes"
	"github.com/clouddrive/clouddrive/internal/oauth"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
	"github.com/clouddrive/clouddrive/internal/retention"
	"github.com/clouddrive/clouddrive/internal/share"
	"github.com/clouddrive/clouddrive/internal/storeconfig"
	"github.com/clouddrive/clouddrive/internal/templink"
	"github.com/clouddrive/clouddrive/internal/thumbnail"
	"github.com/clouddrive/clouddrive/internal/upload"
	"github.com/clouddrive/clouddrive/internal/webhook"
	"github.com/clouddrive/clouddrive/internal/webui"
)

// Config selects the stores and settings of a server.
type Config struct {
	// DataDir holds meta.db (SQLite) and blobs/ (local blob store) when
	// DB and Blobs leave them at their defaults.
	DataDir string
	// DB selects the metadata store: "" for SQLite in DataDir, or a URL
	// such as postgres://... (see package storeconfig).
	DB string
	// Blobs selects the blob store: "" for DataDir/blobs, or a URL such
	// as s3://bucket?endpoint=... (see package storeconfig).
	Blobs string
	// PublicURL is the external base URL; empty derives it per request
	// from the Host header, and then only loopback names are served
	// (httpapi.Server.CheckHost) unless AllowAnyHost.
	PublicURL string
	// AllowAnyHost trusts every request's Host header when PublicURL is
	// empty.
	AllowAnyHost bool
	// MetricsToken, if set, serves GET /metrics on the API to requests
	// with Authorization: Bearer <MetricsToken>; MetricsPublic serves it
	// to anyone. Neither: the API does not serve /metrics (MetricsHandler
	// does, for a listener of its own).
	MetricsToken  string
	MetricsPublic bool
	// ContentURL, if set, is the base URL of a separate content origin
	// (another host name routed to this server; PublicURL must be set):
	// contentUrl, temp links and the UI's downloads use it, and that host
	// serves content routes only (httpapi.Server.SplitContentHost).
	ContentURL string
	// DefaultQuota for new users, in bytes; 0 is unlimited.
	DefaultQuota int64
	// KeepGPS keeps the GPS position of uploaded photos in
	// contentProperties.image (serve --keep-gps); off by default.
	KeepGPS bool
	Logger  *slog.Logger
	// Now defaults to time.Now.
	Now drive.Clock
	// NewID defaults to drive.NewID (tests inject deterministic ids).
	NewID drive.IDGen
	// RateLimits throttle API requests; the zero value disables limits.
	RateLimits ratelimit.Limits
	// GCGrace is the minimum age of an unreferenced blob before garbage
	// collection deletes it (default 1 hour).
	GCGrace time.Duration
	// GCInterval is how often Open's background loop collects garbage
	// (one replica at a time, package lease); 0 runs no loop.
	GCInterval time.Duration
	// AccessTokenTTL is the lifetime of OAuth access tokens (default 1
	// hour).
	AccessTokenTTL time.Duration
	// WebhookPoll is how often the webhook dispatcher looks for due
	// deliveries besides being woken by commits (default 1 s); negative
	// starts no dispatcher (tests call App.Webhooks.RunOnce).
	WebhookPoll time.Duration
	// WebhookAllowInternal lets webhook deliveries go to loopback, private
	// and link-local addresses (refused by default: see webhook.NewClient).
	WebhookAllowInternal bool
	// WebhookTimeout bounds one delivery attempt (default 10 s).
	WebhookTimeout time.Duration
	// TrashRetention purges nodes that stayed in the trash this long
	// (checked hourly, on one replica at a time); 0 keeps them for ever.
	TrashRetention time.Duration
	// PasswordHashes bounds the argon2id hashes of sign-in and share-link
	// passwords that run at once (auth.Hasher.Max; default 4).
	PasswordHashes int
	// Clients limits requests per client address where there is no token
	// to limit by (the OAuth endpoints); the zero value disables that.
	Clients ClientLimits
	// UploadExpiry is how long a resumable upload that receives no bytes
	// is kept, and a completed one's record (default 24 hours).
	UploadExpiry time.Duration
}

// App is an opened server.
type App struct {
	Meta   meta.Store
	Blobs  blob.Store
	Nodes  *nodes.Service
	Tokens *auth.Tokens
	API    *httpapi.Server
	GC     *gc.Collector
	OAuth  *oauth.Server
	UI     *webui.Handler
	// Webhooks sends webhook deliveries; Open starts it unless
	// Config.WebhookPoll is negative, and Close stops it.
	Webhooks *webhook.Dispatcher
	// Retention empties expired trash; Open starts its loop when
	// Config.TrashRetention is set, and Close stops it.
	Retention *retention.Purger
	// Uploads serves resumable uploads (/cdproxy/uploads/); Open starts
	// its expiry loop.
	Uploads *upload.Handler

	// stopLoops stop the background loops Open started.
	stopLoops []func()
}

// DefaultDataDir is where the embedded stores live when --data is not
// given: $XDG_DATA_HOME/clouddrive, or ~/.local/share/clouddrive.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "clouddrive")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "clouddrive-data"
	}
	return filepath.Join(home, ".local", "share", "clouddrive")
}

func (c *Config) defaults() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewID == nil {
		c.NewID = drive.NewID
	}
	if c.GCGrace <= 0 {
		c.GCGrace = time.Hour
	}
}

// OpenMeta opens only the metadata store (admin commands use it while a
// server may be running on the same stores). The store keeps each node's
// changes-feed JSON (httpapi.NodeWire) beside its row.
func OpenMeta(ctx context.Context, cfg Config) (meta.Store, error) {
	cfg.defaults()
	s, err := storeconfig.OpenMeta(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.SetWire(httpapi.NodeWire)
	return s, nil
}

// OpenBlobs opens only the blob store.
func OpenBlobs(ctx context.Context, cfg Config) (blob.Store, error) {
	cfg.defaults()
	return storeconfig.OpenBlobs(ctx, cfg.Blobs, cfg.DataDir)
}

// NewNodes returns the node service over the given stores.
func NewNodes(cfg Config, m meta.Store, b blob.Store) *nodes.Service {
	cfg.defaults()
	return &nodes.Service{Meta: m, Blobs: b, Now: cfg.Now, NewID: cfg.NewID,
		Logger: cfg.Logger.With("component", "nodes"), DefaultQuota: cfg.DefaultQuota,
		Events: &webhook.Outbox{NewID: cfg.NewID, Render: httpapi.NodeJSON},
		Media:  cfg.mediaExtractor()}
}

// CheckContentURL reports whether contentURL may serve as the separate
// content origin beside publicURL: an http(s) URL with a host and nothing
// after its path, with publicURL set and on another host name (another
// port is not enough: cookies are shared across ports).
func CheckContentURL(publicURL, contentURL string) error {
	const op = "app.contentURL"
	if contentURL == "" {
		return nil
	}
	c, err := url.Parse(contentURL)
	if err != nil || (c.Scheme != "http" && c.Scheme != "https") || c.Host == "" || c.User != nil ||
		c.RawQuery != "" || c.Fragment != "" || c.Opaque != "" {
		return drive.Errorf(op, drive.Invalid, "must be an http:// or https:// URL with a host and no query, not %q", contentURL)
	}
	if publicURL == "" {
		return drive.E(op, drive.Invalid, "needs public-url too, so the server can tell its two host names apart")
	}
	p, err := url.Parse(publicURL)
	if err != nil || p.Host == "" {
		return drive.Errorf(op, drive.Invalid, "public-url %q has no host", publicURL)
	}
	if strings.EqualFold(p.Hostname(), c.Hostname()) {
		return drive.Errorf(op, drive.Invalid, "must be on another host name than public-url (%s), not only another port or path", p.Hostname())
	}
	return nil
}

// Open opens the stores and builds the server.
func Open(ctx context.Context, cfg Config) (*App, error) {
	cfg.defaults()
	if err := CheckContentURL(cfg.PublicURL, cfg.ContentURL); err != nil {
		return nil, err
	}
	m, err := OpenMeta(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b, err := OpenBlobs(ctx, cfg)
	if err != nil {
		m.Close()
		return nil, err
	}
	key, err := linkKey(ctx, m)
	if err != nil {
		m.Close()
		return nil, err
	}
	// Requests reach the stores through timing wrappers (store operation
	// latencies in /metrics); App.Meta and App.Blobs stay the raw stores.
	mx := metrics.New()
	tm, tb := mx.Meta(m), mx.Blobs(b)
	svc := NewNodes(cfg, tm, tb)
	notifier := changes.NewNotifier()
	tokens := &auth.Tokens{Meta: m, Now: cfg.Now}
	hooks := &webhook.Dispatcher{Meta: tm, Now: cfg.Now, Client: webhook.NewClient(cfg.WebhookAllowInternal),
		Timeout: cfg.WebhookTimeout, Logger: cfg.Logger.With("component", "webhook"), Observer: mx.NewWebhooks()}
	outbox, _ := svc.Events.(*webhook.Outbox)
	svc.Committed = func(userID string) {
		notifier.Notify(userID)
		if outbox != nil && outbox.TakeRecorded() {
			hooks.Wake()
		}
	}
	api := &httpapi.Server{
		Nodes:     svc,
		Feed:      &changes.Feed{Meta: m, Notifier: notifier, Render: httpapi.NodeWire},
		Tokens:    tokens,
		Links:     &templink.Signer{Key: key},
		Logger:    cfg.Logger.With("component", "httpapi"),
		Now:       cfg.Now,
		PublicURL: cfg.PublicURL,
	}
	api.AllowAnyHost = cfg.AllowAnyHost
	api.MetricsToken, api.MetricsPublic = cfg.MetricsToken, cfg.MetricsPublic
	api.ContentURL = cfg.ContentURL
	api.Metrics = mx
	api.Thumbs = &thumbnail.Service{Meta: tm, Blobs: tb, Now: cfg.Now, Logger: cfg.Logger.With("component", "thumbnail"),
		FFmpeg: ffmpegPath()}
	hasher := &auth.Hasher{Max: cfg.PasswordHashes}
	api.Shares = &share.Service{Meta: tm, Nodes: svc, Now: cfg.Now, NewID: cfg.NewID, Key: key, Hasher: hasher}
	api.Webhooks = &webhook.Service{Meta: tm, Now: cfg.Now, NewID: cfg.NewID, Wake: hooks.Wake}
	api.Apps = &oauth.Apps{Meta: tm, Now: cfg.Now}
	if cfg.RateLimits != (ratelimit.Limits{}) {
		api.Limiter = newLimiter(cfg, m)
	}
	collector := &gc.Collector{Meta: m, Blobs: b, Now: cfg.Now, Grace: cfg.GCGrace, Logger: cfg.Logger.With("component", "gc"),
		Observe: api.Metrics.GCRun}
	oa, err := oauth.New(ctx, oauth.Config{Meta: m, Tokens: tokens, Logger: cfg.Logger.With("component", "oauth"),
		Now: cfg.Now, PublicURL: cfg.PublicURL, AccessTTL: cfg.AccessTokenTTL, Hasher: hasher,
		ClientAddr: cfg.Clients.clientAddr(), PerAddress: cfg.Clients.OAuthRate, PerAddressBurst: cfg.Clients.OAuthBurst})
	if err != nil {
		m.Close()
		return nil, err
	}
	ui, err := webui.New(api.Apps, cfg.PublicURL, cfg.ContentURL, cfg.Logger.With("component", "webui"))
	if err != nil {
		m.Close()
		return nil, err
	}
	a := &App{Meta: m, Blobs: b, Nodes: svc, Tokens: tokens, API: api, GC: collector, OAuth: oa, UI: ui, Webhooks: hooks}
	if err := a.openUploads(ctx, cfg, m, b, svc, api); err != nil {
		a.Close()
		return nil, err
	}
	if cfg.WebhookPoll >= 0 {
		a.background(ctx, func(ctx context.Context) { hooks.Run(ctx, cfg.WebhookPoll) })
	}
	if s, ok := m.(meta.WireBackfiller); ok {
		// Rows written before the wire column, or without it, get theirs;
		// until then the feed renders them itself.
		log := cfg.Logger.With("component", "meta")
		a.background(ctx, func(ctx context.Context) {
			if n, err := s.BackfillWire(ctx, 1000); err != nil && ctx.Err() == nil {
				log.Warn("rendering stored node JSON failed; the changes feed renders those nodes itself", "err", err)
			} else if n > 0 {
				log.Info("rendered stored node JSON", "nodes", n)
			}
		})
	}
	if cfg.GCInterval > 0 {
		a.background(ctx, func(ctx context.Context) { collector.Loop(ctx, cfg.GCInterval) })
	}
	a.Retention = &retention.Purger{Meta: m, Nodes: svc, Now: cfg.Now, Period: cfg.TrashRetention,
		Logger: cfg.Logger.With("component", "retention")}
	if cfg.TrashRetention > 0 {
		a.background(ctx, func(ctx context.Context) { a.Retention.Loop(ctx, time.Hour) })
	}
	return a, nil
}

// linkKey returns the temp-link signing key shared by every replica,
// creating it on first start.
func linkKey(ctx context.Context, m meta.Store) ([]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	var v string
	err := m.Update(ctx, func(tx meta.Tx) error {
		var err error
		v, err = tx.PutSettingIfAbsent(ctx, "templink_key", hex.EncodeToString(b[:]))
		return err
	})
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}

// Handler returns the HTTP handler: the OAuth endpoints (package oauth),
// the web UI and picker (package webui) and, for every other path, the ACD
// API. With Config.ContentURL, requests to the content host reach only
// the API's content routes. Without Config.PublicURL only loopback Host
// names are served (httpapi.Server.CheckHost).
func (a *App) Handler() http.Handler {
	api := a.API.Handler()
	return a.API.CheckHost(a.API.SplitContentHost(a.OAuth.Wrap(a.UI.Wrap(api)), api))
}

// background runs loop until Close.
func (a *App) background(ctx context.Context, loop func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop(ctx)
	}()
	a.stopLoops = append(a.stopLoops, func() { cancel(); <-done })
}

// Close stops the background loops and closes the stores.
func (a *App) Close() error {
	for _, stop := range a.stopLoops {
		stop()
	}
	return errors.Join(a.Meta.Close())
}

// AdminToken creates user name if needed and mints an access token with
// full scopes for the admin app. ttl 0 never expires.
func AdminToken(ctx context.Context, cfg Config, m meta.Store, name string, ttl time.Duration) (string, error) {
	cfg.defaults()
	svc := NewNodes(cfg, m, nil)
	u, err := svc.EnsureUser(ctx, name)
	if err != nil {
		return "", err
	}
	t := &auth.Tokens{Meta: m, Now: cfg.Now}
	return t.Mint(ctx, u.ID, auth.AdminClientID, drive.ScopeReadAll+" "+drive.ScopeWrite, ttl)
}

// newLimiter returns the rate limiter: buckets in this process for the
// embedded store (one server), or in the database every replica shares
// when the metadata store is PostgreSQL.
func newLimiter(cfg Config, m meta.Store) *ratelimit.Limiter {
	if shared := storeconfig.SharedRateLimits(m); shared != nil {
		log := cfg.Logger.With("component", "ratelimit")
		return ratelimit.NewShared(cfg.RateLimits, cfg.Now, shared, func(err error) {
			log.Warn("shared rate limit unavailable; limiting in this process", "err", err)
		})
	}
	return ratelimit.New(cfg.RateLimits, cfg.Now)
}
