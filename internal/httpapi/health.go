package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// healthz reports that the process is alive.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// readyz reports whether the metadata store and the blob store answer;
// 503 otherwise, so a load balancer stops sending traffic. The endpoint is
// public, so the body says only which store failed; the cause (which may
// name hosts and paths) goes to the log.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status := map[string]string{"metadata": "ok", "blobs": "ok"}
	code := http.StatusOK
	for name, ping := range map[string]func(context.Context) error{"metadata": s.Nodes.Meta.Ping, "blobs": s.Nodes.Blobs.Ping} {
		if err := ping(ctx); err != nil {
			status[name], code = "unavailable", http.StatusServiceUnavailable
			s.Logger.LogAttrs(ctx, slog.LevelWarn, "not ready", slog.String("store", name), slog.Any("err", err))
		}
	}
	writeJSON(w, code, status)
}
