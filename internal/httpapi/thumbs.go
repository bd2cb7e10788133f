package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/thumbnail"
)

// wantsThumbnail reports whether a download asks for a thumbnail
// (?viewBox=N, as acd_cli's download_thumbnail sends it).
func (s *Server) wantsThumbnail(r *http.Request) bool {
	return s.Thumbs != nil && r.URL.Query().Has("viewBox")
}

// serveThumbnail answers a download with viewBox: 200 and a JPEG fitting
// the box (never ranged; a frame for a video when the server has ffmpeg),
// 304 when If-None-Match matches, 400 for a viewBox that is not a size or
// content that is not a supported image or video, 404 for a video when
// ffmpeg is not installed.
// A thumbnail is made from user bytes: it has their headers
// (usercontent.go), and is always a JPEG this server encoded, inline.
func (s *Server) serveThumbnail(w http.ResponseWriter, r *http.Request, n *drive.Node) {
	sandboxUserBytes(w.Header())
	box, err := thumbnail.ParseViewBox(r.URL.Query().Get("viewBox"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if n.Kind != drive.KindFile || n.Content == nil {
		s.writeError(w, r, &drive.Error{Op: "httpapi.thumbnail", Kind: drive.Invalid, Param: "id", Message: "node is not a file"})
		return
	}
	h := w.Header()
	tag := `"` + n.Content.MD5 + "-" + thumbnail.Variant(box) + `"`
	h.Set("ETag", tag)
	h.Set("Cache-Control", "private, no-cache")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	rc, size, err := s.Thumbs.Open(r.Context(), n, box)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer rc.Close()
	h.Set("Content-Type", thumbnail.ContentType)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	sent, err := io.Copy(w, rc)
	if s.Metrics != nil {
		s.Metrics.Downloaded(sent)
	}
	if err != nil && !errors.Is(err, io.ErrClosedPipe) {
		s.Logger.DebugContext(r.Context(), "thumbnail interrupted", "request_id", requestID(r.Context()), "err", err)
	}
}
