package client

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// Resumable uploads speak tus 1.0 (https://tus.io/protocols/resumable-upload)
// to the server's {contentUrl}uploads/ route: the upload is created with its
// metadata (which the server checks at once: name, parent, quota), its bytes
// are sent in chunks by PATCH, and after a failure the client asks the
// server how far it got (HEAD) and carries on from there. The server
// creates the node when the last byte arrives.

const (
	// DefaultResumableThreshold is the smallest upload of known size sent
	// resumably when the server offers it: 64 MiB.
	DefaultResumableThreshold = 64 << 20
	// DefaultResumableChunkSize is the number of bytes one PATCH carries
	// (each with its own checksum): 64 MiB.
	DefaultResumableChunkSize = 64 << 20
)

// Resumable configures resumable (tus) uploads. The zero value means the
// defaults.
type Resumable struct {
	// Threshold is the size from which Upload and Overwrite send the bytes
	// resumably; 0 means DefaultResumableThreshold, a negative value
	// never.
	Threshold int64
	// ChunkSize is the number of bytes one PATCH request carries; 0 means
	// DefaultResumableChunkSize. A failure loses at most one chunk.
	ChunkSize int64
}

// WithResumable sets when and how uploads are resumable.
func WithResumable(r Resumable) Option { return func(c *Client) { c.tus.cfg = r } }

// tusState is the Client's resumable-upload configuration and what it
// learned of the server's tus support, per upload base URL.
type tusState struct {
	cfg    Resumable
	mu     sync.Mutex
	probed map[string]*tusServer
}

// tusServer is what OPTIONS said.
type tusServer struct {
	ok          bool
	checksum    string // "md5", "sha1" or "" (no checksum extension)
	termination bool
	maxSize     int64 // 0: no limit announced
}

const tusVersion = "1.0.0"

// errNoTus means the server has no tus route: use multipart.
var errNoTus = errors.New("server offers no resumable uploads")

// tusTarget is what a resumable upload creates or overwrites.
type tusTarget struct {
	op     string
	name   string // a new file called name in parent...
	parent string
	nodeID string // ...or an overwrite of this file
}

// resumableSource returns the bytes Upload would send resumably, as an
// io.ReaderAt over [start, start+o.Size) of r, or ok=false when they go
// by multipart: size unknown or below the threshold, fields tus metadata
// cannot carry, or a reader that cannot be read again from an offset.
func (c *Client) resumableSource(r io.Reader, o *UploadOptions, t tusTarget) (src io.ReaderAt, start int64, ok bool) {
	th := c.tus.cfg.Threshold
	if th == 0 {
		th = DefaultResumableThreshold
	}
	if th < 0 || o.Size <= 0 || (o.Size < th && o.ResumeURL == "") {
		return nil, 0, false
	}
	if t.nodeID == "" && (len(o.Labels) > 0 || o.Description != "" || len(o.Properties) > 0) {
		return nil, 0, false
	}
	start, _ = offsetOf(r)
	if ra, ok := r.(io.ReaderAt); ok {
		return ra, start, true
	}
	if rs, ok := r.(io.ReadSeeker); ok {
		return &seekReaderAt{rs: rs}, start, true
	}
	return nil, 0, false
}

// seekReaderAt reads an io.ReadSeeker at offsets (one reader at a time).
type seekReaderAt struct {
	mu sync.Mutex
	rs io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.rs.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(s.rs, p)
}

// tusBase is the upload collection URL, {contentUrl}uploads/.
func (c *Client) tusBase(ctx context.Context) (*url.URL, error) {
	_, ct, err := c.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	return ct.ResolveReference(&url.URL{Path: "uploads/"}), nil
}

// tusProbe asks OPTIONS whether base speaks tus 1.0, once per base. A
// 404 or 405 (a server from before resumable uploads) means no; other
// failures are not remembered and mean no for this upload.
func (c *Client) tusProbe(ctx context.Context, base *url.URL) *tusServer {
	key := base.String()
	c.tus.mu.Lock()
	s := c.tus.probed[key]
	c.tus.mu.Unlock()
	if s != nil {
		return s
	}
	resp, err := c.do(ctx, &request{op: "client.Upload", method: "OPTIONS", base: absoluteURL, path: key,
		header: http.Header{"Tus-Resumable": {tusVersion}}, idempotent: true}, nil)
	s = &tusServer{}
	var ae *Error
	switch {
	case err == nil:
		resp.Body.Close()
		h := resp.Header
		s.ok = hasToken(h.Get("Tus-Version"), tusVersion) && hasToken(h.Get("Tus-Extension"), "creation")
		if hasToken(h.Get("Tus-Extension"), "checksum") {
			for _, alg := range []string{"md5", "sha1"} {
				if hasToken(h.Get("Tus-Checksum-Algorithm"), alg) {
					s.checksum = alg
					break
				}
			}
		}
		s.termination = hasToken(h.Get("Tus-Extension"), "termination")
		s.maxSize, _ = strconv.ParseInt(h.Get("Tus-Max-Size"), 10, 64)
	case errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusMethodNotAllowed):
	default:
		c.log.DebugContext(ctx, "resumable uploads not probed: using multipart", "err", err)
		return s
	}
	c.tus.mu.Lock()
	if c.tus.probed == nil {
		c.tus.probed = map[string]*tusServer{}
	}
	c.tus.probed[key] = s
	c.tus.mu.Unlock()
	return s
}

func hasToken(list, tok string) bool {
	for f := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(f), tok) {
			return true
		}
	}
	return false
}

// tusUpload sends size bytes of src from start resumably and returns the
// node the server made of them; errNoTus when the server has no tus route.
func (c *Client) tusUpload(ctx context.Context, t tusTarget, src io.ReaderAt, start int64, o *UploadOptions) (*acd.Node, error) {
	base, err := c.tusBase(ctx)
	if err != nil {
		return nil, err
	}
	s := c.tusProbe(ctx, base)
	if !s.ok || (s.maxSize > 0 && o.Size > s.maxSize) {
		return nil, errNoTus
	}
	u := &tusUpload{c: c, t: t, srv: s, base: base, src: src, start: start, size: o.Size, o: o, file: md5.New()}
	u.chunk = c.tus.cfg.ChunkSize
	if u.chunk <= 0 {
		u.chunk = DefaultResumableChunkSize
	}
	id, err := u.run(ctx)
	if err != nil {
		if ctx.Err() == nil {
			return nil, err
		}
		if o.TerminateOnCancel && u.url != "" && s.termination {
			u.terminate(ctx)
		}
		if !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%s: %w", t.op, ctx.Err())
		}
		return nil, err
	}
	n, err := c.Node(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	name := t.name
	if name == "" {
		name = t.nodeID
	}
	if u.hashed == u.size && n.ContentProperties != nil && n.ContentProperties.MD5 != "" {
		if want := hex.EncodeToString(u.file.Sum(nil)); !strings.EqualFold(want, n.ContentProperties.MD5) {
			return n, &ChecksumError{Name: name, Want: want, Got: n.ContentProperties.MD5}
		}
	}
	return n, nil
}

// tusUpload is one resumable upload in progress.
type tusUpload struct {
	c           *Client
	t           tusTarget
	srv         *tusServer
	base        *url.URL
	src         io.ReaderAt
	start, size int64
	chunk       int64
	o           *UploadOptions

	url    string // the upload's URL once created
	off    int64  // the offset the server confirmed
	file   hash.Hash
	hashed int64 // file holds the MD5 state of [0, hashed)
}

// tusStatus is what HEAD or a PATCH reply says.
type tusStatus struct {
	offset, length int64
	nodeID         string
	meta           map[string]string
}

func (u *tusUpload) run(ctx context.Context) (string, error) {
	if ru := u.o.ResumeURL; ru != "" {
		if !strings.HasPrefix(ru, u.base.String()) {
			u.c.log.WarnContext(ctx, "resume URL is not on this server's upload route: starting a new upload", "url", ru)
		} else {
			st, err := u.head(ctx, ru)
			switch {
			case err == nil && st.length == u.size && u.sameTarget(st.meta):
				if st.nodeID != "" {
					u.report(u.size)
					return st.nodeID, nil
				}
				u.url, u.off = ru, st.offset
			case err == nil || errors.Is(err, ErrNotFound) || isGone(err):
				u.c.log.DebugContext(ctx, "upload to resume is gone or differs: starting a new one", "url", ru, "err", err)
			default:
				return "", err
			}
		}
	}
	for restarts := 0; ; restarts++ {
		if u.url == "" {
			if err := u.create(ctx); err != nil {
				return "", err
			}
		}
		if u.o.OnResumeURL != nil {
			u.o.OnResumeURL(u.url)
		}
		u.report(u.off)
		id, err := u.send(ctx)
		if err == nil {
			return id, nil
		}
		if restarts > 0 || ctx.Err() != nil || !(errors.Is(err, ErrNotFound) || isGone(err)) {
			return "", err
		}
		// The upload is gone (expired, or a server that lost its staging
		// area): start again, once.
		u.c.log.WarnContext(ctx, "upload vanished from the server: starting it again", "url", u.url, "err", err)
		u.url, u.off = "", 0
	}
}

// send PATCHes the chunks from the confirmed offset to the end and
// returns the node id. After a transient failure it asks HEAD for the
// offset and carries on from there; the retry policy bounds the failures
// in a row, and every chunk that gets through starts the count again.
func (u *tusUpload) send(ctx context.Context) (string, error) {
	failures := 0
	for {
		if u.off >= u.size {
			// Complete, but the node id did not come with the reply.
			st, err := u.head(ctx, u.url)
			if err != nil {
				return "", err
			}
			if st.nodeID != "" {
				return st.nodeID, nil
			}
			if st.offset >= u.size {
				return "", fmt.Errorf("%s: the server has every byte but names no node", u.t.op)
			}
			u.off = st.offset
			continue
		}
		st, err := u.patch(ctx)
		if err == nil {
			failures = 0
			u.off = st.offset
			if st.nodeID != "" {
				return st.nodeID, nil
			}
			continue
		}
		if !u.transient(ctx, err) {
			return "", err
		}
		failures++
		if failures >= u.c.retry.MaxAttempts {
			return "", u.c.finalError(&request{op: u.t.op}, err)
		}
		if err := u.wait(ctx, failures-1, err); err != nil {
			return "", err
		}
		st, err = u.head(ctx, u.url)
		if err != nil {
			return "", err
		}
		if st.nodeID != "" {
			u.report(u.size)
			return st.nodeID, nil
		}
		u.off = st.offset
		u.report(u.off)
	}
}

func isGone(err error) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.StatusCode == http.StatusGone
}

// sameTarget reports whether an upload's metadata (from HEAD) names the
// same destination; a server that sends none is trusted.
func (u *tusUpload) sameTarget(meta map[string]string) bool {
	if meta == nil {
		return true
	}
	return meta["name"] == u.t.name && meta["parents"] == u.t.parent && meta["nodeId"] == u.t.nodeID
}

func (u *tusUpload) report(off int64) {
	if u.o.Progress != nil {
		u.o.Progress(off, u.size)
	}
}

// transient reports whether a failed PATCH is worth a HEAD and another
// chunk: transport failures, 5xx, 408, 429, a checksum mismatch (460),
// a locked upload (423, an earlier PATCH still held by the server), an
// offset mismatch (409 without an ACD conflict code) and an interrupted
// PATCH (tusd's 400 UPLOAD_INTERRUPTED: another request for the upload,
// such as a retry of ours arriving while the server still ran the cut
// PATCH, took the upload over).
func (u *tusUpload) transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ce *ConflictError
	if errors.As(err, &ce) {
		// tus's 409 (tusd's ERR_MISMATCHED_OFFSET, with or without the
		// prefix); the ACD conflicts name their code.
		return ce.NodeID == "" && (ce.Code == "" || strings.TrimPrefix(ce.Code, "ERR_") == "MISMATCHED_OFFSET")
	}
	var ae *Error
	if errors.As(err, &ae) && (ae.StatusCode == 460 || ae.StatusCode == http.StatusLocked ||
		ae.StatusCode == http.StatusBadRequest && strings.TrimPrefix(ae.Code, "ERR_") == "UPLOAD_INTERRUPTED") {
		return true
	}
	return classify(ctx, err) != permanent
}

func (u *tusUpload) wait(ctx context.Context, attempt int, err error) error {
	var retryAfter time.Duration
	var ae *Error
	if errors.As(err, &ae) {
		retryAfter = ae.RetryAfter
	}
	if retryAfter > u.c.retry.MaxRetryAfter {
		return err
	}
	d := u.c.retry.Delay(attempt, retryAfter)
	u.c.log.DebugContext(ctx, "resuming upload", "op", u.t.op, "attempt", attempt+1, "wait", d, "err", err)
	if serr := u.c.retry.Sleep(ctx, d); serr != nil {
		return err
	}
	return nil
}

// metadata is the Upload-Metadata header of the creation.
func (u *tusUpload) metadata() string {
	var kv []string
	add := func(k, v string) {
		if v != "" {
			kv = append(kv, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
		}
	}
	if u.t.nodeID != "" {
		add("nodeId", u.t.nodeID)
	} else {
		add("name", u.t.name)
		add("parents", u.t.parent)
	}
	add("md5", strings.ToLower(u.o.MD5))
	if !u.o.ModTime.IsZero() {
		add("mtime", acd.FormatTime(u.o.ModTime))
	}
	add("contentType", u.o.ContentType)
	if !u.o.Dedup {
		add("suppress", "deduplication")
	}
	add("localId", u.o.LocalID)
	return strings.Join(kv, ",")
}

// create POSTs the upload. Its checks (name, parent, quota) answer here in
// the ACD error format. A retried POST at worst leaves an empty upload
// behind, which expires.
func (u *tusUpload) create(ctx context.Context) error {
	h := http.Header{"Tus-Resumable": {tusVersion}, "Upload-Length": {strconv.FormatInt(u.size, 10)},
		"Upload-Metadata": {u.metadata()}}
	resp, err := u.c.do(ctx, &request{op: u.t.op, method: "POST", base: absoluteURL, path: u.base.String(),
		header: h, idempotent: true}, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	loc, err := u.base.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return fmt.Errorf("%s: the server created an upload without a usable Location", u.t.op)
	}
	u.url, u.off = loc.String(), 0
	return nil
}

// head asks how far the upload at url got.
func (u *tusUpload) head(ctx context.Context, url string) (tusStatus, error) {
	resp, err := u.c.do(ctx, &request{op: u.t.op, method: "HEAD", base: absoluteURL, path: url,
		header: http.Header{"Tus-Resumable": {tusVersion}}, idempotent: true}, nil)
	if err != nil {
		return tusStatus{}, err
	}
	resp.Body.Close()
	st, err := parseStatus(resp.Header)
	if err != nil {
		return st, fmt.Errorf("%s: HEAD %s: %w", u.t.op, url, err)
	}
	if resp.Header.Get("Upload-Length") == "" {
		st.length = -1
	}
	if raw, ok := resp.Header["Upload-Metadata"]; ok {
		st.meta = parseMetadata(strings.Join(raw, ","))
	}
	return st, nil
}

func parseStatus(h http.Header) (tusStatus, error) {
	var st tusStatus
	off, err := strconv.ParseInt(h.Get("Upload-Offset"), 10, 64)
	if err != nil || off < 0 {
		return st, fmt.Errorf("bad Upload-Offset %q", h.Get("Upload-Offset"))
	}
	st.offset = off
	st.length, _ = strconv.ParseInt(h.Get("Upload-Length"), 10, 64)
	st.nodeID = h.Get("Clouddrive-Node-Id")
	return st, nil
}

func parseMetadata(v string) map[string]string {
	m := map[string]string{}
	for pair := range strings.SplitSeq(v, ",") {
		k, b64, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if k == "" {
			continue
		}
		val, _ := base64.StdEncoding.DecodeString(b64)
		m[k] = string(val)
	}
	return m
}

// patch sends one chunk from the confirmed offset, with its checksum when
// the server verifies them.
func (u *tusUpload) patch(ctx context.Context) (tusStatus, error) {
	n := min(u.chunk, u.size-u.off)
	sum, err := u.prehash(u.off, n)
	if err != nil {
		return tusStatus{}, fmt.Errorf("%s: read content: %w", u.t.op, err)
	}
	body := &offsetProgress{r: io.NewSectionReader(u.src, u.start+u.off, n), off: u.off, u: u}
	req, err := http.NewRequestWithContext(ctx, "PATCH", u.url, body)
	if err != nil {
		return tusStatus{}, fmt.Errorf("%s: %w", u.t.op, err)
	}
	req.ContentLength = n
	req.Header.Set("Tus-Resumable", tusVersion)
	req.Header.Set("Upload-Offset", strconv.FormatInt(u.off, 10))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	if sum != nil {
		req.Header.Set("Upload-Checksum", u.srv.checksum+" "+base64.StdEncoding.EncodeToString(sum))
	}
	if u.c.userAgent != "" {
		req.Header.Set("User-Agent", u.c.userAgent)
	}
	if u.c.ts != nil {
		tok, err := u.c.ts.Token()
		if err != nil {
			return tusStatus{}, &authError{op: u.t.op, err: err}
		}
		tok.SetAuthHeader(req)
	}
	resp, err := u.c.hc.Do(req)
	body.stop()
	if err != nil {
		return tusStatus{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return tusStatus{}, apiError(u.t.op, "PATCH", resp.StatusCode, resp.Header, raw, u.c.now())
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	st, err := parseStatus(resp.Header)
	if err != nil {
		return st, fmt.Errorf("%s: PATCH: %w", u.t.op, err)
	}
	if st.offset < u.off || st.offset > u.size {
		return st, fmt.Errorf("%s: PATCH answered offset %d after %d", u.t.op, st.offset, u.off)
	}
	return st, nil
}

// prehash reads [off, off+n) once before it is sent: for the chunk's
// checksum, and to extend the MD5 of the whole content (first catching up
// on bytes the server had before this process sent any).
func (u *tusUpload) prehash(off, n int64) ([]byte, error) {
	if u.hashed < off {
		k, err := io.Copy(u.file, io.NewSectionReader(u.src, u.start+u.hashed, off-u.hashed))
		u.hashed += k
		if err != nil {
			return nil, err
		}
		if u.hashed < off {
			return nil, io.ErrUnexpectedEOF
		}
	}
	var ch hash.Hash
	switch u.srv.checksum {
	case "md5":
		ch = md5.New()
	case "sha1":
		ch = sha1.New()
	}
	if ch == nil && u.hashed >= off+n {
		return nil, nil
	}
	buf := make([]byte, 1<<20)
	r := io.NewSectionReader(u.src, u.start+off, n)
	pos := off
	for pos < off+n {
		k, err := r.Read(buf)
		if k > 0 {
			if ch != nil {
				ch.Write(buf[:k])
			}
			if end := pos + int64(k); end > u.hashed {
				u.file.Write(buf[u.hashed-pos : k])
				u.hashed = end
			}
			pos += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if pos < off+n {
		return nil, fmt.Errorf("the content ended at %d bytes, before the %d announced: %w", u.start+pos, u.size, io.ErrUnexpectedEOF)
	}
	if ch == nil {
		return nil, nil
	}
	return ch.Sum(nil), nil
}

// terminate deletes the upload after a cancel, so its staged bytes go at
// once; a failure only leaves them until they expire.
func (u *tusUpload) terminate(ctx context.Context) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	resp, err := u.c.do(dctx, &request{op: u.t.op, method: "DELETE", base: absoluteURL, path: u.url,
		header: http.Header{"Tus-Resumable": {tusVersion}}, idempotent: true}, nil)
	if err != nil {
		u.c.log.WarnContext(ctx, "cancelled upload not terminated", "url", u.url, "err", err)
		return
	}
	resp.Body.Close()
}

// offsetProgress reports, as a PATCH body is read, the offset in the file
// reached so far. After stop it reads nothing more: the transport may
// still be writing a body whose reply already came, and Progress must
// not be called concurrently with the next request's.
type offsetProgress struct {
	mu      sync.Mutex
	r       io.Reader
	off     int64
	u       *tusUpload
	stopped bool
}

func (p *offsetProgress) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return 0, io.ErrClosedPipe
	}
	n, err := p.r.Read(b)
	if n > 0 {
		p.off += int64(n)
		p.u.report(p.off)
	}
	return n, err
}

// stop waits for a Read in progress and ends the body.
func (p *offsetProgress) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
}
