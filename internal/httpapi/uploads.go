package httpapi

import (
	"bytes"
	"context"
	"net/http"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// resumable serves /cdproxy/uploads/ (tus resumable uploads, package
// upload) with Server.Uploads: OPTIONS, the protocol discovery browsers
// send without credentials, as it is; every other request authenticated
// like any content call and with the write scope.
func (s *Server) resumable(w http.ResponseWriter, r *http.Request) {
	if s.Uploads == nil {
		s.unknownOperation(w, r)
		return
	}
	if r.Method == http.MethodOptions {
		s.Uploads.ServeHTTP(w, r)
		return
	}
	s.authed(func(w http.ResponseWriter, r *http.Request) {
		if p, _ := drive.FromContext(r.Context()); !p.CanWrite() {
			s.writeError(w, r, &drive.Error{Op: "httpapi.uploads", Kind: drive.Forbidden,
				Message: "Insufficient permissions granted for operation: resumable upload"})
			return
		}
		s.Uploads.ServeHTTP(w, r)
	})(w, r)
}

// UploadsURL is the absolute URL of /cdproxy/uploads/ for r, on the
// content origin (Location of a created upload).
func (s *Server) UploadsURL(r *http.Request) string {
	return s.contentBaseURL(r) + "/cdproxy/uploads/"
}

// ErrorResponse renders err as writeError would reply for a request with
// ctx: the status, the headers and the {"code","message","logref"} body.
// Package upload hands it to tusd, which writes the reply itself.
func (s *Server) ErrorResponse(ctx context.Context, err error) (int, http.Header, []byte) {
	rec := &bufferedReply{header: http.Header{}}
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	s.writeError(rec, r, err)
	return rec.status, rec.header, rec.body.Bytes()
}

// bufferedReply is a ResponseWriter that keeps a small reply in memory.
type bufferedReply struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedReply) Header() http.Header { return b.header }

func (b *bufferedReply) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedReply) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
