package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/bytesize"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/ratelimit"
)

func newServe(stdout, stderr io.Writer) *cobra.Command {
	var addr, data, publicURL, contentURL, logFormat, logLevel, tlsCert, tlsKey string
	var shutdown, gcInterval, gcGrace, tokenTTL, webhookTimeout, trashRetention, uploadExpiry time.Duration
	var webhookInternal, anyHost, keepGPS bool
	var defaultQuota string
	var limits ratelimit.Limits
	var perToken, perUser float64
	var guard *limitSettings
	var metricsFlags *metricsSettings
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API server",
		Long: `Run the ACD-compatible API server. By default it uses the embedded stores,
SQLite metadata and a local blob directory under --data, and needs no other
setup. With --db postgres://... and --blobs s3://... any number of replicas
serve one PostgreSQL database and one bucket (see the README).

Metadata API:  <public-url>/drive/v1/   Content API:  <public-url>/cdproxy/

--content-url https://content.example.com gives user content an origin
of its own, as ACD's content host: contentUrl and temp links point there,
and requests to that host name (routed to this same server by DNS or a
reverse proxy) reach only /cdproxy/... and share-link files, never the web
UI, the OAuth pages or /drive/v1/. It needs --public-url, on another host
name (preferably another site, e.g. drive.example.com and
example-content.net).

Settings come from, lowest precedence first: the defaults below, a TOML
file (--config or CLOUDDRIVE_CONFIG; keys named like the flags, e.g.
public-url = "https://drive.example.com"), environment variables
CLOUDDRIVE_<FLAG> (CLOUDDRIVE_PUBLIC_URL), then the flags. --print-config
shows the effective settings and where each came from, secrets masked.

With --tls-cert and --tls-key the server speaks HTTPS; SIGHUP reloads the
certificate and key from the same files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			src, err := applySettings(cmd, os.Getenv)
			if err != nil {
				return err
			}
			if p, _ := cmd.Flags().GetBool("print-config"); p {
				printSettings(stdout, cmd, src)
				return nil
			}
			log, err := newLogger(stderr, logFormat, logLevel)
			if err != nil {
				return err
			}
			if publicURL != "" && !strings.HasPrefix(publicURL, "http://") && !strings.HasPrefix(publicURL, "https://") {
				return fmt.Errorf("setting public-url: must start with http:// or https://, not %q", publicURL)
			}
			if err := checkListenAddr(addr, publicURL, anyHost); err != nil {
				return err
			}
			if err := app.CheckContentURL(publicURL, contentURL); err != nil {
				return fmt.Errorf("setting content-url: %s", drive.AsError(err).Message)
			}
			quota, err := bytesize.Parse(defaultQuota)
			if err != nil {
				return fmt.Errorf("setting default-quota: %w", err)
			}
			for _, r := range []struct {
				name string
				v    float64
			}{{"rate-per-token", perToken}, {"rate-burst-token", float64(limits.PerTokenBurst)},
				{"rate-per-user", perUser}, {"rate-burst-user", float64(limits.PerUserBurst)}} {
				if r.v < 0 {
					return fmt.Errorf("setting %s: must not be negative", r.name)
				}
			}
			limits.PerToken, limits.PerUser = rate.Limit(perToken), rate.Limit(perUser)
			cfg := storeConfig(cmd, data)
			httpLimits, err := guard.apply(&cfg)
			if err != nil {
				return err
			}
			if err := metricsFlags.apply(&cfg); err != nil {
				return err
			}
			if tokenTTL < time.Minute {
				return fmt.Errorf("setting access-token-ttl: must be at least %s, not %s", time.Minute, tokenTTL)
			}
			if shutdown < 0 || gcInterval < 0 || gcGrace < 0 {
				return fmt.Errorf("setting shutdown-timeout, gc-interval and gc-grace: must not be negative")
			}
			var certs *certReloader
			if (tlsCert == "") != (tlsKey == "") {
				return fmt.Errorf("setting tls-cert and tls-key: give both or neither")
			}
			if tlsCert != "" {
				if certs, err = newCertReloader(tlsCert, tlsKey); err != nil {
					return err
				}
			}
			cfg.ContentURL = contentURL
			cfg.PublicURL, cfg.Logger, cfg.GCGrace, cfg.DefaultQuota, cfg.RateLimits = publicURL, log, gcGrace, quota, limits
			cfg.AccessTokenTTL, cfg.AllowAnyHost, cfg.GCInterval = tokenTTL, anyHost, gcInterval
			if webhookTimeout < time.Second || webhookTimeout > 5*time.Minute {
				return fmt.Errorf("setting webhook-timeout: must be between 1s and 5m, not %s", webhookTimeout)
			}
			cfg.WebhookTimeout, cfg.WebhookAllowInternal = webhookTimeout, webhookInternal
			if trashRetention < 0 {
				return fmt.Errorf("setting trash-retention: must not be negative (0 keeps the trash for ever)")
			}
			cfg.TrashRetention = trashRetention
			if uploadExpiry < time.Minute {
				return fmt.Errorf("setting upload-expiry: must be at least %s, not %s", time.Minute, uploadExpiry)
			}
			cfg.UploadExpiry = uploadExpiry
			cfg.KeepGPS = keepGPS
			a, err := app.Open(ctx, cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			ln, err := net.Listen("tcp", addr)
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("%s is already in use, perhaps by another clouddrive serve: stop that one, "+
					"or pick a free port with --addr HOST:PORT (e.g. --addr 127.0.0.1:8081; port 0 picks any): %w", addr, err)
			}
			if err != nil {
				return fmt.Errorf("cannot listen on %s (--addr): %w", addr, err)
			}
			srv := a.HTTPServer(httpLimits, slog.NewLogLogger(log.Handler(), slog.LevelWarn))
			scheme := "http"
			if certs != nil {
				scheme, srv.TLSConfig = "https", certs.tlsConfig()
			}
			log.Info("clouddrive serving", "addr", ln.Addr().String(), "scheme", scheme, "data", data, "db", describeDB(cfg), "blobs", describeBlobs(cfg))
			stopMetrics, err := metricsFlags.serve(a, log)
			if err != nil {
				ln.Close()
				return err
			}
			defer stopMetrics(context.Background())
			errc := make(chan error, 1)
			go func() {
				if certs != nil {
					errc <- srv.ServeTLS(ln, "", "")
					return
				}
				errc <- srv.Serve(ln)
			}()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
		wait:
			for {
				select {
				case err := <-errc:
					return err
				case <-hup:
					if certs == nil {
						log.Info("SIGHUP: nothing to reload (no TLS certificate)")
						continue
					}
					if err := certs.reload(); err != nil {
						log.Error("SIGHUP: TLS certificate not reloaded; keeping the previous one", "err", err)
						continue
					}
					log.Info("SIGHUP: TLS certificate reloaded", "cert", tlsCert)
				case <-ctx.Done():
					break wait
				}
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
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	dataFlag(cmd, &data)
	cmd.Flags().StringVar(&publicURL, "public-url", "",
		"external base URL for metadataUrl/contentUrl, temp links and OAuth redirects; unset: from each request's Host and scheme, "+
			"and only loopback names (localhost, 127.0.0.0/8, [::1]) are served; needed with an --addr beyond loopback")
	cmd.Flags().BoolVar(&anyHost, "allow-any-host", false,
		"without --public-url, serve any Host header and build URLs from it (only behind a proxy that sets Host, or on a trusted network)")
	cmd.Flags().StringVar(&contentURL, "content-url", "",
		"separate origin for user content (another host name routed to this server; needs --public-url): contentUrl and temp links use it, and it serves content routes only")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().DurationVar(&shutdown, "shutdown-timeout", 30*time.Second, "how long in-flight requests may run after SIGTERM/SIGINT")
	cmd.Flags().StringVar(&defaultQuota, "default-quota", "0",
		"storage quota of new users, e.g. 10GiB or 500MB; 0 is unlimited")
	cmd.Flags().Float64Var(&perToken, "rate-per-token", 500, "requests per second allowed per access token; 0 disables")
	cmd.Flags().IntVar(&limits.PerTokenBurst, "rate-burst-token", 1000, "burst size of the per-token limit")
	cmd.Flags().Float64Var(&perUser, "rate-per-user", 1000, "requests per second allowed per user over all tokens; 0 disables")
	cmd.Flags().IntVar(&limits.PerUserBurst, "rate-burst-user", 2000, "burst size of the per-user limit")
	cmd.Flags().DurationVar(&gcInterval, "gc-interval", time.Hour, "how often unreferenced blobs are garbage collected; 0 disables")
	cmd.Flags().DurationVar(&gcGrace, "gc-grace", time.Hour, "minimum age of an unreferenced blob before it is deleted")
	cmd.Flags().DurationVar(&tokenTTL, "access-token-ttl", time.Hour, "lifetime of OAuth access tokens (refresh tokens renew them)")
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "PEM certificate (chain) file; with --tls-key the server speaks HTTPS, and SIGHUP reloads both")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	cmd.Flags().DurationVar(&trashRetention, "trash-retention", 30*24*time.Hour,
		"purge nodes that stayed this long in the trash, as ACD did after 30 days (checked hourly, one replica at a time); 0 keeps them")
	cmd.Flags().DurationVar(&uploadExpiry, "upload-expiry", 24*time.Hour,
		"how long a resumable upload (/cdproxy/uploads/, tus) that receives no bytes is kept before it and its staged bytes are removed, and how long a completed one still answers HEAD with its node")
	cmd.Flags().DurationVar(&webhookTimeout, "webhook-timeout", 10*time.Second, "how long one webhook delivery attempt may take")
	cmd.Flags().BoolVar(&webhookInternal, "webhook-allow-internal", false,
		"let webhooks deliver to loopback, private and link-local addresses (refused by default, against SSRF)")
	cmd.Flags().BoolVar(&keepGPS, "keep-gps", false,
		"keep the GPS position (contentProperties.image latitude/longitude) of uploaded photos; by default it is dropped, since it says where the owner was")
	guard = addLimitFlags(cmd)
	metricsFlags = addMetricsFlags(cmd)
	cmd.Flags().Bool("print-config", false, "print the effective settings (secrets masked) with their sources, then exit")
	return cmd
}
