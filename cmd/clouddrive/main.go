// Command clouddrive is a self-hosted server that speaks the Amazon Cloud
// Drive REST API, plus its admin commands.
//
//	clouddrive serve [--addr HOST:PORT] [--data DIR] [--public-url URL]
//	clouddrive admin token [--data DIR] [--ttl DURATION] USER
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

	"github.com/clouddrive/clouddrive/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "clouddrive:", err)
		os.Exit(1)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "clouddrive",
		Short: "A self-hosted server for the Amazon Cloud Drive API",
		Long: `clouddrive is a self-hosted server that speaks the Amazon Cloud Drive REST API,
so existing ACD clients (rclone's acd backend, go-acd, acd_cli) work against it.

Start a server with no configuration:   clouddrive serve
Get a bearer token for a user:          clouddrive admin token alice`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServe(stderr), newAdmin(stdout))
	return root
}

func dataFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "data", envOr("CLOUDDRIVE_DATA", app.DefaultDataDir()),
		"data directory: meta.db (SQLite) and blobs/ (env CLOUDDRIVE_DATA)")
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

func newServe(stderr io.Writer) *cobra.Command {
	var addr, data, publicURL, logFormat, logLevel string
	var shutdown, gcInterval, gcGrace time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API server",
		Long: `Run the ACD-compatible API server on the embedded stores: SQLite metadata and
a local blob directory under --data. No other setup is needed.

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
			a, err := app.Open(ctx, app.Config{DataDir: data, PublicURL: publicURL, Logger: log, GCGrace: gcGrace})
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
			log.Info("clouddrive serving", "addr", ln.Addr().String(), "data", data)
			if gcInterval > 0 {
				go a.GC.Loop(ctx, gcInterval)
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
	cmd.Flags().DurationVar(&gcInterval, "gc-interval", time.Hour, "how often unreferenced blobs are garbage collected; 0 disables")
	cmd.Flags().DurationVar(&gcGrace, "gc-grace", time.Hour, "minimum age of an unreferenced blob before it is deleted")
	return cmd
}

func newAdmin(stdout io.Writer) *cobra.Command {
	admin := &cobra.Command{Use: "admin", Short: "Administer users and tokens (works while the server runs)"}
	var data string
	var ttl time.Duration
	token := &cobra.Command{
		Use:   "token USER",
		Short: "Print a new bearer access token for USER, creating the user (with a root folder) if absent",
		Long: `Print a new bearer access token for USER as the only line on stdout. The user is
created, with an empty root folder, if it does not exist. The token has the
scopes clouddrive:read_all and clouddrive:write.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := app.Config{DataDir: data}
			m, err := app.OpenMeta(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer m.Close()
			tok, err := app.AdminToken(cmd.Context(), cfg, m, args[0], ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, tok)
			return nil
		},
	}
	dataFlag(token, &data)
	token.Flags().DurationVar(&ttl, "ttl", 30*24*time.Hour, "token lifetime; 0 never expires")
	admin.AddCommand(token)
	return admin
}
