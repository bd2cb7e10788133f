package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/app"
)

// metricsSettings are the serve flags that say where /metrics is served
// (README: Metrics, health, logs). By default nowhere: the API port
// answers 404.
type metricsSettings struct {
	addr      string
	tokenFile string
	public    bool
}

// minMetricsToken is the shortest metrics token accepted, in bytes.
const minMetricsToken = 16

func addMetricsFlags(cmd *cobra.Command) *metricsSettings {
	s := &metricsSettings{}
	f := cmd.Flags()
	f.StringVar(&s.addr, "metrics-addr", "",
		"serve GET /metrics (no authentication) on this separate listen address, e.g. 127.0.0.1:9090; empty: no metrics listener")
	f.StringVar(&s.tokenFile, "metrics-token-file", "",
		"file holding a token (at least 16 bytes) that also serves GET /metrics on the API port to Authorization: Bearer <token>")
	f.BoolVar(&s.public, "metrics-public", false,
		"serve GET /metrics on the API port to anyone, without a token (the metrics name routes and request counts)")
	return s
}

// apply checks the settings and sets the API's metrics access in cfg.
func (s *metricsSettings) apply(cfg *app.Config) error {
	if s.public && s.tokenFile != "" {
		return errors.New("setting metrics-public and metrics-token-file: give one or neither")
	}
	cfg.MetricsPublic = s.public
	if s.tokenFile == "" {
		return nil
	}
	b, err := os.ReadFile(s.tokenFile)
	if err != nil {
		return fmt.Errorf("setting metrics-token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < minMetricsToken || strings.ContainsAny(tok, " \t\r\n") {
		return fmt.Errorf("setting metrics-token-file: %s must hold one token of at least %d bytes, without spaces", s.tokenFile, minMetricsToken)
	}
	cfg.MetricsToken = tok
	return nil
}

// serve starts the metrics listener when --metrics-addr is set and
// returns the function that stops it (a no-op without one).
func (s *metricsSettings) serve(a *app.App, log *slog.Logger) (func(context.Context) error, error) {
	if s.addr == "" {
		return func(context.Context) error { return nil }, nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("setting metrics-addr: %w", err)
	}
	srv := &http.Server{Handler: a.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("metrics serving", "listen", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener failed", "err", err)
		}
	}()
	return srv.Shutdown, nil
}
