package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/byterange"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/formdata"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// maxMetadataPart bounds the metadata part of an upload.
const maxMetadataPart = 64 << 10

// completeBody reads a content part and, at its end, requires the
// multipart body's closing boundary: a body cut off after the last byte of
// content but before "--boundary--" is as incomplete as one cut earlier,
// and must not create a file.
type completeBody struct {
	part *formdata.Part
	mr   *formdata.Reader
	done bool
	// counted, if set, is told how many content bytes arrived.
	counted func(int)
}

func (c *completeBody) Read(b []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	n, err := c.part.Read(b)
	if c.counted != nil && n > 0 {
		c.counted(n)
	}
	if err == io.EOF {
		c.done = true
		for {
			p, nerr := c.mr.NextPart()
			if nerr == io.EOF {
				return n, io.EOF
			}
			if nerr != nil {
				return n, nerr
			}
			// Extra parts after the content are read and ignored.
			if _, nerr := io.Copy(io.Discard, p); nerr != nil {
				return n, nerr
			}
		}
	}
	return n, err
}

// contentBody wraps a content part for the node service.
func (s *Server) contentBody(part *formdata.Part, mr *formdata.Reader) io.Reader {
	c := &completeBody{part: part, mr: mr}
	if s.Metrics != nil {
		c.counted = s.Metrics.Uploaded
	}
	return c
}

// uploadStarted counts an upload in progress; call the result when done.
func (s *Server) uploadStarted() func() {
	if s.Metrics == nil {
		return func() {}
	}
	s.Metrics.OpenUploads.Inc()
	return s.Metrics.OpenUploads.Dec
}

func uploadOptions(r *http.Request, part *formdata.Part) nodes.UploadOptions {
	q := r.URL.Query()
	return nodes.UploadOptions{
		SuppressDedup: strings.Contains(q.Get("suppress"), "deduplication"),
		LocalID:       q.Get("localId"),
		ContentType:   part.Header["content-type"],
	}
}

// parseModTime parses a modification time sent as mtime (a metadata
// field, a query parameter or a PATCH field): RFC 3339, any offset and
// number of fraction digits; kept in UTC at millisecond precision.
func parseModTime(op, s string) (time.Time, error) {
	t, err := acd.ParseTime(s)
	if err != nil || t.IsZero() {
		return time.Time{}, &drive.Error{Op: op, Kind: drive.Invalid, Param: "mtime",
			Message: "must be a date and time in RFC 3339 form, such as 2026-12-07T11:00:00.123Z"}
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// multipartReader opens the multipart body of r.
func multipartReader(r *http.Request) (*formdata.Reader, error) {
	b, err := formdata.Boundary(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	return formdata.NewReader(r.Body, b), nil
}

// upload is POST {content}/nodes: a metadata part, then a content part.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	const op = "httpapi.upload"
	mr, err := multipartReader(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in acd.NewNode
	var content *formdata.Part
	for content == nil {
		part, err := mr.NextPart()
		if err == io.EOF {
			s.writeError(w, r, &drive.Error{Op: op, Kind: drive.Invalid, Param: "content", Message: "the multipart body has no content part"})
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		switch part.FormName() {
		case "metadata":
			raw, err := io.ReadAll(io.LimitReader(part, maxMetadataPart+1))
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if len(raw) > maxMetadataPart {
				s.writeError(w, r, &drive.Error{Op: op, Kind: drive.Invalid, Param: "metadata", Message: "metadata part is too large"})
				return
			}
			if err := decodeJSON("metadata", raw, &in); err != nil {
				s.writeError(w, r, err)
				return
			}
		case "content":
			content = part
		default:
			if part.FileName() != "" {
				content = part
			} else if _, err := io.Copy(io.Discard, part); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
	}
	if in.Name == "" {
		s.writeError(w, r, &drive.Error{Op: op, Kind: drive.Invalid, Param: "metadata", Message: "the metadata part must come first and give a name"})
		return
	}
	opt := uploadOptions(r, content)
	if in.ModTime != "" {
		if opt.ModTime, err = parseModTime(op, in.ModTime); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	defer s.uploadStarted()()
	n, err := s.Nodes.Upload(r.Context(), toNewNode(in), s.contentBody(content, mr), opt)
	s.replyNode(w, r, http.StatusCreated, n, err)
}

// overwrite is PUT {content}/nodes/{id}/content: a content part only
// (other parts are skipped). The new content's modification time comes
// as the mtime query parameter; without one the file has none.
func (s *Server) overwrite(w http.ResponseWriter, r *http.Request) {
	const op = "httpapi.overwrite"
	var mtime time.Time
	if v := r.URL.Query().Get("mtime"); v != "" {
		var err error
		if mtime, err = parseModTime(op, v); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	mr, err := multipartReader(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			s.writeError(w, r, &drive.Error{Op: op, Kind: drive.Invalid, Param: "content", Message: "the multipart body has no content part"})
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if part.FormName() != "content" && part.FileName() == "" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				s.writeError(w, r, err)
				return
			}
			continue
		}
		defer s.uploadStarted()()
		opt := uploadOptions(r, part)
		opt.ModTime = mtime
		n, err := s.Nodes.Overwrite(r.Context(), r.PathValue("id"), s.contentBody(part, mr), opt)
		s.replyNode(w, r, http.StatusOK, n, err)
		return
	}
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	n, err := s.Nodes.Node(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.wantsThumbnail(r) {
		s.serveThumbnail(w, r, n)
		return
	}
	s.serveContent(w, r, n, false, func(off, length int64) (io.ReadCloser, error) {
		_, rc, err := s.Nodes.Open(r.Context(), n.ID, off, length)
		return rc, err
	})
}

func (s *Server) tempLinkDownload(w http.ResponseWriter, r *http.Request) {
	userID, nodeID, err := s.Links.Verify(r.PathValue("token"), s.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.Nodes.NodeByID(r.Context(), userID, nodeID)
	if err != nil || n.Status != drive.StatusAvailable {
		s.writeError(w, r, drive.E("httpapi.tempLink", drive.NotFound, "link not found or expired"))
		return
	}
	s.serveContent(w, r, n, true, func(off, length int64) (io.ReadCloser, error) {
		_, rc, err := s.Nodes.OpenByID(r.Context(), userID, nodeID, off, length)
		return rc, err
	})
}

// serveContent answers a download: 200 for the whole file, 206 for a
// range (the end clamped to the size), 416 when the range starts at or
// past the end, 304 when If-None-Match matches. Its headers are those of
// user content (usercontent.go); named puts the file name in an inline
// Content-Disposition too.
func (s *Server) serveContent(w http.ResponseWriter, r *http.Request, n *drive.Node, named bool, open func(off, length int64) (io.ReadCloser, error)) {
	const op = "httpapi.download"
	sandboxUserBytes(w.Header())
	if n.Kind != drive.KindFile || n.Content == nil {
		s.writeError(w, r, &drive.Error{Op: op, Kind: drive.Invalid, Param: "id", Message: "node is not a file"})
		return
	}
	size := n.Content.Size
	h := w.Header()
	tag := `"` + n.Content.MD5 + `"`
	h.Set("ETag", tag)
	h.Set("Accept-Ranges", "bytes")
	h.Set("Last-Modified", n.ModifiedAt.UTC().Format(http.TimeFormat))
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	start, length, partial, err := byterange.Parse(r.Header.Get("Range"), size)
	if err != nil {
		h.Set("Content-Range", byterange.Unsatisfied(size))
		s.writeError(w, r, err)
		return
	}
	if !partial {
		start, length = 0, size
	}
	var body io.ReadCloser = io.NopCloser(strings.NewReader(""))
	if length > 0 && r.Method != http.MethodHead {
		if body, err = open(start, length); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	defer body.Close()
	userFileHeaders(h, n.Name, n.Content.ContentType, boolParam(r, "download"), named)
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		h.Set("Content-Range", byterange.ContentRange(start, length, size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	sent, err := io.Copy(w, body)
	if s.Metrics != nil {
		s.Metrics.Downloaded(sent)
	}
	if err != nil && !errors.Is(err, io.ErrClosedPipe) {
		s.Logger.DebugContext(r.Context(), "download interrupted", "request_id", requestID(r.Context()), "err", err)
	}
}

func etagMatch(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/"))
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}
