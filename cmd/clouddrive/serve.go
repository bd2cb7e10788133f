package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

func newServe(stderr io.Writer) *cobra.Command {
	var addr, data, publicURL, logFormat, logLevel string
	var shutdown, gcInterval, gcGrace, tokenTTL time.Duration
	var defaultQuota string
	var limits ratelimit.Limits
	var perToken, perUser float64
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API server",
		Long: `Run the ACD-compatible API server. By default it uses the embedded stores,
SQLite metadata and a local blob directory under --data, and needs no other
setup. With --db postgres://... and --blobs s3://... any number of replicas
serve one PostgreSQL database and one bucket (see the README).

Metadata API:  <public-url>/drive/v1/   Content API:  <public-url>/cdproxy/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log, err := newLogger(stderr, logFormat, logLevel)
			if err != nil {
				return err
			}
			if publicURL != "" && !strings.HasPrefix(publicURL, "http://") && !strings.HasPrefix(publicURL, "https://") {
				return fmt.Errorf("--public-url must start with http:// or https://")
			}
			quota, err := parseSize(defaultQuota)
			if err != nil {
				return fmt.Errorf("--default-quota: %w", err)
			}
			if perToken < 0 || perUser < 0 || limits.PerTokenBurst < 0 || limits.PerUserBurst < 0 {
				return fmt.Errorf("--rate-* settings must not be negative")
			}
			limits.PerToken, limits.PerUser = rate.Limit(perToken), rate.Limit(perUser)
			cfg := storeConfig(cmd, data)
			if tokenTTL < time.Minute {
				return fmt.Errorf("--access-token-ttl must be at least 1m")
			}
			cfg.PublicURL, cfg.Logger, cfg.GCGrace, cfg.DefaultQuota, cfg.RateLimits = publicURL, log, gcGrace, quota, limits
			cfg.AccessTokenTTL = tokenTTL
			a, err := app.Open(ctx, cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
				ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
			log.Info("clouddrive serving", "addr", ln.Addr().String(), "data", data, "db", describeDB(cfg), "blobs", describeBlobs(cfg))
			if gcInterval > 0 {
				go gcLoop(ctx, a.GC, gcInterval)
			}
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			log.Info("shutting down", "deadline", shutdown)
			sctx, cancel := context.WithTimeout(context.Background(), shutdown)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", envOr("CLOUDDRIVE_ADDR", "127.0.0.1:8080"), "listen address (env CLOUDDRIVE_ADDR)")
	dataFlag(cmd, &data)
	cmd.Flags().StringVar(&publicURL, "public-url", envOr("CLOUDDRIVE_PUBLIC_URL", ""),
		"external base URL for metadataUrl/contentUrl and temp links; default: from each request's Host (env CLOUDDRIVE_PUBLIC_URL)")
	cmd.Flags().StringVar(&logFormat, "log-format", envOr("CLOUDDRIVE_LOG_FORMAT", "text"), "log format: text or json (env CLOUDDRIVE_LOG_FORMAT)")
	cmd.Flags().StringVar(&logLevel, "log-level", envOr("CLOUDDRIVE_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env CLOUDDRIVE_LOG_LEVEL)")
	cmd.Flags().DurationVar(&shutdown, "shutdown-timeout", 30*time.Second, "how long in-flight requests may run after SIGTERM/SIGINT")
	cmd.Flags().StringVar(&defaultQuota, "default-quota", envOr("CLOUDDRIVE_DEFAULT_QUOTA", "0"),
		"storage quota of new users, e.g. 10GiB or 500MB; 0 is unlimited (env CLOUDDRIVE_DEFAULT_QUOTA)")
	cmd.Flags().Float64Var(&perToken, "rate-per-token", 500, "requests per second allowed per access token; 0 disables")
	cmd.Flags().IntVar(&limits.PerTokenBurst, "rate-burst-token", 1000, "burst size of the per-token limit")
	cmd.Flags().Float64Var(&perUser, "rate-per-user", 1000, "requests per second allowed per user over all tokens; 0 disables")
	cmd.Flags().IntVar(&limits.PerUserBurst, "rate-burst-user", 2000, "burst size of the per-user limit")
	cmd.Flags().DurationVar(&gcInterval, "gc-interval", time.Hour, "how often unreferenced blobs are garbage collected; 0 disables")
	cmd.Flags().DurationVar(&gcGrace, "gc-grace", time.Hour, "minimum age of an unreferenced blob before it is deleted")
	cmd.Flags().DurationVar(&tokenTTL, "access-token-ttl", time.Hour, "lifetime of OAuth access tokens (refresh tokens renew them)")
	return cmd
}
