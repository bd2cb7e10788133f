package httpapi

import (
	"context"
	"io"
	"net/http"
	"time"
)

// healthz reports that the process is alive.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// readyz reports whether the metadata store and the blob store answer;
// 503 otherwise, so a load balancer stops sending traffic.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status := map[string]string{"metadata": "ok", "blobs": "ok"}
	code := http.StatusOK
	if err := s.Nodes.Meta.Ping(ctx); err != nil {
		status["metadata"], code = err.Error(), http.StatusServiceUnavailable
	}
	if err := s.Nodes.Blobs.Ping(ctx); err != nil {
		status["blobs"], code = err.Error(), http.StatusServiceUnavailable
	}
	writeJSON(w, code, status)
}
