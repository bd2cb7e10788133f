// Package upload serves resumable uploads: the tus 1.0 protocol
// (https://tus.io/protocols/resumable-upload) under /cdproxy/uploads/,
// with the creation, creation-with-upload, termination, checksum and
// expiration extensions. An upload is created with the node's metadata
// and its length, receives its bytes in any number of PATCH requests
// (resumed after a cut connection from the offset a HEAD reports), and
// its last byte creates the node, or replaces a file's content, in the
// one write transaction a multipart POST /cdproxy/nodes uses.
//
// Dependency: github.com/tus/tusd/v2 is the reference tus server,
// maintained by the protocol's authors. Its handler speaks the protocol
// (offsets, locking, creation-with-upload, termination, the IETF draft's
// interop), and its filestore and s3store stage the bytes on disk or as S3
// multipart uploads with bounded memory. This package adds what tusd
// leaves to the application: authentication and ownership, the ACD
// checks at creation, completion into package nodes, the checksum and
// expiration extensions, and a lock across replicas (PgLocker).
//
// # Where uploads wait
//
// With the embedded backends, in a staging directory under the data
// directory (LocalStaging); with the S3 blob store, under <prefix>uploads/
// of its bucket (S3Staging), beside <prefix>blobs/ and <prefix>tmp/ and
// colliding with neither, so a resume may land on any replica. Beside
// each upload a record (<id>.upload.json) holds its owner, its expiry and,
// once completed, its node id: a HEAD of a completed upload answers with
// Clouddrive-Node-Id until the record expires. Collect removes expired
// uploads and their staged bytes.
package upload

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	xslog "golang.org/x/exp/slog"

	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// BasePath is where the handler is mounted.
const BasePath = "/cdproxy/uploads/"

// DefaultExpiry is how long an upload that receives no bytes is kept.
const DefaultExpiry = 24 * time.Hour

// DefaultMaxSize is the largest upload (Tus-Max-Size) unless Config.MaxSize says otherwise.
const DefaultMaxSize = 1 << 40

// Upload-Metadata keys.
const (
	metaName        = "name"
	metaParents     = "parents"
	metaNodeID      = "nodeId"
	metaMD5         = "md5"
	metaMTime       = "mtime"
	metaContentType = "contentType"
	metaSuppress    = "suppress"
	metaLocalID     = "localId"
	// metaOwner is set by the server: the user who created the upload.
	metaOwner = "owner"
)

// NodeIDHeader names the node a completed upload created or overwrote.
const NodeIDHeader = "Clouddrive-Node-Id"

// Config configures a Handler.
type Config struct {
	// Nodes creates the nodes. Required.
	Nodes *nodes.Service
	// Staging holds the uploads in progress. Required.
	Staging *Staging
	// Locker serializes the requests of one upload; nil uses a lock in
	// this process (one server). Replicas need PgLocker.
	Locker tusd.Locker
	// Expiry is how long an upload lives after its last write, and a
	// completed upload's record after completion (default DefaultExpiry).
	Expiry time.Duration
	// MaxSize is the largest Upload-Length (default DefaultMaxSize).
	MaxSize int64
	// ErrorResponse renders err as the API's error reply: status,
	// headers and body (httpapi.Server.ErrorResponse). Required.
	ErrorResponse func(ctx context.Context, err error) (int, http.Header, []byte)
	// BaseURL returns the absolute URL of BasePath for r, for Location
	// (httpapi.Server.UploadsURL). Nil: from r's Host.
	BaseURL func(r *http.Request) string
	Now     drive.Clock
	Logger  *slog.Logger
}

// Handler serves BasePath. Requests other than OPTIONS must carry the
// authenticated principal in their context (drive.NewContext): the
// httpapi route authenticates them.
type Handler struct {
	nodes   *nodes.Service
	staging *Staging
	expiry  time.Duration
	maxSize int64
	render  func(ctx context.Context, err error) (int, http.Header, []byte)
	baseURL func(r *http.Request) string
	now     drive.Clock
	log     *slog.Logger
	tus     *tusd.UnroutedHandler
	serve   http.Handler
}

// New builds the handler.
func New(cfg Config) (*Handler, error) {
	h := &Handler{nodes: cfg.Nodes, staging: cfg.Staging, expiry: cfg.Expiry, maxSize: cfg.MaxSize,
		render: cfg.ErrorResponse, baseURL: cfg.BaseURL, now: cfg.Now, log: cfg.Logger}
	if h.nodes == nil || h.staging == nil || h.render == nil {
		return nil, errors.New("upload: Nodes, Staging and ErrorResponse are required")
	}
	if h.expiry <= 0 {
		h.expiry = DefaultExpiry
	}
	if h.maxSize <= 0 {
		h.maxSize = DefaultMaxSize
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	var locker tusd.Locker = memorylocker.New()
	if cfg.Locker != nil {
		locker = cfg.Locker
	}
	locker = busyLocker{locker}
	// The composer offers neither concatenation nor deferred lengths:
	// Upload-Length is required at creation.
	composer := tusd.NewStoreComposer()
	st := store{h: h}
	composer.UseCore(st)
	composer.UseTerminater(st)
	composer.UseLocker(locker)
	t, err := tusd.NewUnroutedHandler(tusd.Config{
		StoreComposer:             composer,
		BasePath:                  BasePath,
		MaxSize:                   h.maxSize,
		DisableDownload:           true,
		Cors:                      &tusd.CorsConfig{Disable: true},
		PreUploadCreateCallback:   h.preCreate,
		PreFinishResponseCallback: h.finish,
		Logger:                    xslog.New(xslog.NewTextHandler(tusLog{h.log}, &xslog.HandlerOptions{Level: xslog.LevelError})),
	})
	if err != nil {
		return nil, err
	}
	h.tus = t
	h.serve = t.Middleware(http.HandlerFunc(h.route))
	return h, nil
}

func (h *Handler) expires() time.Time { return h.now().Add(h.expiry).UTC() }

// ServeHTTP serves one tus request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		h.options(w)
		return
	}
	rw := &response{ResponseWriter: w, r: r, h: h}
	defer rw.flush()
	p, ok := drive.FromContext(r.Context())
	if !ok || p.UserID == "" {
		rw.fail(drive.E("upload", drive.Unauthorized, "not authenticated"))
		return
	}
	// POST to the collection with or without its trailing slash.
	id := strings.TrimPrefix(r.URL.Path, BasePath)
	if r.URL.Path == strings.TrimSuffix(BasePath, "/") {
		id = ""
	}
	ctx := r.Context()
	switch {
	case id == "" && r.Method == http.MethodPost:
	case id == "" || strings.Contains(id, "/"):
		rw.fail(drive.E("upload", drive.NotFound, "unknown operation "+r.Method+" "+r.URL.Path))
		return
	case r.Method == http.MethodHead || r.Method == http.MethodPatch || r.Method == http.MethodDelete:
		var rec *record
		if validKey(recordKey(id)) {
			var err error
			if rec, err = h.staging.records.get(ctx, recordKey(id)); err != nil {
				rw.fail(err)
				return
			}
		}
		if rec == nil || rec.ID != id || rec.Owner != p.UserID || h.now().After(rec.Expires) {
			rw.fail(&drive.Error{Op: "upload", Kind: drive.NotFound, Code: "UPLOAD_NOT_FOUND", Message: "no such upload: " + id})
			return
		}
		rw.Header().Set("Upload-Expires", rec.Expires.Format(http.TimeFormat))
		if rec.NodeID != "" {
			rw.Header().Set(NodeIDHeader, rec.NodeID)
		}
		rw.pending = &pending{settle: r.Method != http.MethodDelete}
		ctx = context.WithValue(ctx, pendingKey{}, rw.pending)
	default:
		rw.Header().Set("Allow", "HEAD, PATCH, DELETE")
		rw.fail(drive.E("upload", drive.NotFound, "unknown operation "+r.Method+" "+r.URL.Path))
		return
	}
	if r.Method == http.MethodPatch || r.Method == http.MethodPost {
		sum, err := parseChecksum(r)
		if err != nil {
			rw.fail(err)
			return
		}
		if sum != nil {
			ctx = context.WithValue(ctx, checksumKey{}, sum)
		}
	}
	if r.Method == http.MethodPost {
		if err := checkMetadataHeader(r.Header.Get("Upload-Metadata")); err != nil {
			rw.fail(err)
			return
		}
	}
	// tusd takes the upload id from the whole path.
	r = r.WithContext(ctx)
	u := *r.URL
	u.Path, u.RawPath = "/"+id, ""
	r.URL = &u
	h.serve.ServeHTTP(rw, r)
}

// checkMetadataHeader refuses an Upload-Metadata header that tusd would
// read only in part (it skips pairs it cannot decode).
func checkMetadataHeader(v string) error {
	for el := range strings.SplitSeq(v, ",") {
		el = strings.TrimSpace(el)
		if el == "" {
			continue
		}
		parts := strings.Split(el, " ")
		_, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
		if len(parts) > 2 || len(parts) == 2 && err != nil {
			return &drive.Error{Op: "upload", Kind: drive.Invalid, Param: "Upload-Metadata",
				Message: "want comma-separated pairs of a key and its base64 value, not " + strconv.Quote(el)}
		}
	}
	return nil
}

// route dispatches a request that passed tusd's middleware.
func (h *Handler) route(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		h.tus.PostFile(w, r)
	case http.MethodHead:
		h.tus.HeadFile(w, r)
	case http.MethodPatch:
		h.tus.PatchFile(w, r)
	case http.MethodDelete:
		h.tus.DelFile(w, r)
	}
}

// extensions are the tus extensions served.
const extensions = "creation,creation-with-upload,termination,checksum,expiration"

// options answers protocol discovery.
func (h *Handler) options(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Tus-Resumable", "1.0.0")
	hd.Set("Tus-Version", "1.0.0")
	hd.Set("Tus-Extension", extensions)
	hd.Set("Tus-Max-Size", strconv.FormatInt(h.maxSize, 10))
	hd.Set("Tus-Checksum-Algorithm", "md5,sha1")
	w.WriteHeader(http.StatusNoContent)
}

// parseChecksum reads Upload-Checksum: "<algorithm> <base64 digest>".
func parseChecksum(r *http.Request) (*checksum, error) {
	v := r.Header.Get("Upload-Checksum")
	if v == "" {
		return nil, nil
	}
	alg, digest, _ := strings.Cut(strings.TrimSpace(v), " ")
	size := map[string]int{"md5": 16, "sha1": 20}[alg]
	if size == 0 {
		return nil, &drive.Error{Op: "upload", Kind: drive.Invalid, Param: "Upload-Checksum",
			Message: "unsupported checksum algorithm " + strconv.Quote(alg) + " (want md5 or sha1)"}
	}
	want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(digest))
	if err != nil || len(want) != size {
		return nil, &drive.Error{Op: "upload", Kind: drive.Invalid, Param: "Upload-Checksum",
			Message: "want \"" + alg + " <base64 digest>\""}
	}
	return &checksum{algorithm: alg, want: want, length: r.ContentLength}, nil
}

// uploadMeta is the parsed Upload-Metadata.
type uploadMeta struct {
	node   nodes.NewNode
	nodeID string
	md5    string
	opt    nodes.UploadOptions
}

// parseMeta validates the client's Upload-Metadata.
func parseMeta(md tusd.MetaData) (uploadMeta, error) {
	const op = "upload.metadata"
	bad := func(key, msg string) error {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "Upload-Metadata " + key, Message: msg}
	}
	var m uploadMeta
	m.nodeID = md[metaNodeID]
	_, hasName := md[metaName]
	_, hasParents := md[metaParents]
	switch {
	case m.nodeID != "" && (hasName || hasParents):
		return m, bad(metaNodeID, "an overwrite (nodeId) takes neither name nor parents")
	case m.nodeID == "" && !hasName:
		return m, bad(metaName, "name is required (or nodeId, to overwrite a file)")
	case m.nodeID != "" && !drive.ValidID(m.nodeID):
		return m, &drive.Error{Op: op, Kind: drive.NotFound, Message: "no such node: " + m.nodeID}
	}
	m.node = nodes.NewNode{Name: md[metaName], Kind: drive.KindFile}
	if p := strings.TrimSpace(md[metaParents]); p != "" {
		for id := range strings.SplitSeq(p, ",") {
			if id = strings.TrimSpace(id); id != "" {
				m.node.Parents = append(m.node.Parents, id)
			}
		}
	}
	if v, ok := md[metaMD5]; ok {
		if _, err := hex.DecodeString(v); err != nil || len(v) != 32 || strings.ToLower(v) != v {
			return m, bad(metaMD5, "want 32 lowercase hex digits")
		}
		m.md5 = v
	}
	if v, ok := md[metaMTime]; ok {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return m, bad(metaMTime, "want an RFC 3339 time such as 2026-12-07T11:00:00.123Z")
		}
		m.opt.ModTime = t
	}
	m.opt.ContentType = md[metaContentType]
	switch v := md[metaSuppress]; v {
	case "":
	case "deduplication":
		m.opt.SuppressDedup = true
	default:
		return m, bad(metaSuppress, "the only value is deduplication")
	}
	m.opt.LocalID = md[metaLocalID]
	return m, nil
}

// clientKeys are the Upload-Metadata keys kept from the client.
var clientKeys = []string{metaName, metaParents, metaNodeID, metaMD5, metaMTime, metaContentType, metaSuppress, metaLocalID}

// preCreate runs the checks that need no bytes and fixes the upload's id
// and metadata (the client's known keys, and its owner).
func (h *Handler) preCreate(ev tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	ctx := ev.Context
	p, _ := drive.FromContext(ctx)
	m, err := parseMeta(ev.Upload.MetaData)
	if err != nil {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, h.tusError(ctx, err)
	}
	if m.nodeID != "" {
		err = h.nodes.CheckOverwrite(ctx, m.nodeID, ev.Upload.Size)
	} else {
		err = h.nodes.CheckUpload(ctx, m.node, ev.Upload.Size, m.opt)
	}
	if err != nil {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, h.tusError(ctx, err)
	}
	md := tusd.MetaData{metaOwner: p.UserID}
	for _, k := range clientKeys {
		if v, ok := ev.Upload.MetaData[k]; ok {
			md[k] = v
		}
	}
	return tusd.HTTPResponse{}, tusd.FileInfoChanges{ID: drive.NewID(), MetaData: md}, nil
}

// finish runs when the last byte is staged: see settle.
func (h *Handler) finish(ev tusd.HookEvent) (tusd.HTTPResponse, error) {
	rec, err := h.settle(ev.Context, ev.Upload)
	if err != nil {
		return tusd.HTTPResponse{}, h.tusError(ev.Context, err)
	}
	return tusd.HTTPResponse{Header: tusd.HTTPHeader{NodeIDHeader: rec.NodeID,
		"Upload-Expires": rec.Expires.Format(http.TimeFormat)}}, nil
}

// settle completes an upload whose bytes are all staged: it streams them
// into the node (checking md5), records the completed upload, then
// removes the staged bytes. A refusal (the name taken, the md5 wrong, the
// quota: the client's errors) discards the upload; a failure of the
// server's (a store unavailable) keeps it, so that the client's next
// HEAD or PATCH completes it.
func (h *Handler) settle(ctx context.Context, info tusd.FileInfo) (*record, error) {
	node, err := h.complete(ctx, info)
	if k := drive.KindOf(err); err != nil && (k == drive.Internal || k == drive.Unavailable) {
		return nil, err
	}
	if err != nil {
		h.removeStaged(ctx, info.ID)
		if derr := h.staging.records.delete(ctx, recordKey(info.ID)); derr != nil {
			h.log.Warn("resumable upload: removing the record of a failed upload failed", "upload", info.ID, "err", derr)
		}
		return nil, err
	}
	rec := &record{ID: info.ID, Owner: info.MetaData[metaOwner], Size: info.Size, Expires: h.expires(), NodeID: node.ID}
	if perr := h.staging.records.put(ctx, recordKey(info.ID), rec); perr != nil {
		h.log.Warn("resumable upload: recording the completed upload failed; a HEAD will not find it", "upload", info.ID, "err", perr)
	}
	h.removeStaged(ctx, info.ID)
	return rec, nil
}

// removeStaged removes the staged bytes of upload id; what it fails to
// remove, expiry collects.
func (h *Handler) removeStaged(ctx context.Context, id string) {
	if err := h.terminate(ctx, id); err != nil {
		h.log.Warn("resumable upload: removing the staged bytes failed; expiry collects them", "upload", id, "err", err)
	}
}

// complete creates (or overwrites) the node from the staged bytes.
func (h *Handler) complete(ctx context.Context, info tusd.FileInfo) (*drive.Node, error) {
	m, err := parseMeta(info.MetaData)
	if err != nil {
		return nil, err
	}
	if p, _ := drive.FromContext(ctx); p.UserID != info.MetaData[metaOwner] {
		return nil, &drive.Error{Op: "upload", Kind: drive.NotFound, Message: "no such upload: " + info.ID}
	}
	up, err := h.staging.core.GetUpload(ctx, info.ID)
	if err != nil {
		return nil, err
	}
	rc, err := up.GetReader(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var body io.Reader = io.LimitReader(rc, info.Size)
	if m.md5 != "" {
		body = &md5Reader{r: body, want: m.md5}
	}
	if m.nodeID != "" {
		return h.nodes.Overwrite(ctx, m.nodeID, body, m.opt)
	}
	return h.nodes.Upload(ctx, m.node, body, m.opt)
}

// tusError turns err into a tusd error whose response is the API's
// error reply.
func (h *Handler) tusError(ctx context.Context, err error) error {
	status, hdr, body := h.render(ctx, err)
	th := tusd.HTTPHeader{}
	for k := range hdr {
		th[k] = hdr.Get(k)
	}
	return tusd.Error{ErrorCode: "ERR_" + drive.KindOf(err).String(), Message: err.Error(),
		HTTPResponse: tusd.HTTPResponse{StatusCode: status, Body: string(body), Header: th}}
}

// response is the ResponseWriter tusd writes to. It keeps tusd's
// connection deadlines off the connection (httpguard bounds request
// bodies; a completion may take longer than tusd's network timeout) but
// lets tusd cut a body off at once; it points Location at the public
// URL, adds Upload-Expires to writes, and turns tusd's plain-text errors
// into the API's error format.
type response struct {
	http.ResponseWriter
	r       *http.Request
	h       *Handler
	errCode int
	errBody []byte
	wrote   bool
	// pending learns of an upload settled on the way (see store.GetUpload).
	pending *pending
}

func (w *response) SetReadDeadline(t time.Time) error {
	if t.IsZero() || t.After(time.Now()) {
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).SetReadDeadline(t)
}

func (w *response) SetWriteDeadline(time.Time) error { return nil }

func (w *response) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *response) WriteHeader(code int) {
	if w.wrote || w.errCode != 0 {
		return
	}
	hd := w.Header()
	if code >= 400 && strings.HasPrefix(hd.Get("Content-Type"), "text/plain") {
		w.errCode = code
		return
	}
	if code < 300 {
		if w.pending != nil && w.pending.done != nil {
			hd.Set(NodeIDHeader, w.pending.done.NodeID)
			hd.Set("Upload-Expires", w.pending.done.Expires.Format(http.TimeFormat))
		}
		if loc := hd.Get("Location"); loc != "" {
			if i := strings.LastIndex(loc, "/"); i >= 0 {
				hd.Set("Location", w.base()+loc[i+1:])
			}
		}
		if md := hd.Get("Upload-Metadata"); md != "" {
			// The owner key is the server's own; a HEAD answers the
			// client's keys only.
			m := tusd.ParseMetadataHeader(md)
			if _, ok := m[metaOwner]; ok {
				delete(m, metaOwner)
				if len(m) == 0 {
					hd.Del("Upload-Metadata")
				} else {
					hd.Set("Upload-Metadata", tusd.SerializeMetadataHeader(m))
				}
			}
		}
		if w.r.Method == http.MethodPatch || w.r.Method == http.MethodPost {
			if hd.Get(NodeIDHeader) == "" {
				hd.Set("Upload-Expires", w.h.expires().Format(http.TimeFormat))
			}
		}
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *response) Write(b []byte) (int, error) {
	if w.errCode != 0 {
		w.errBody = append(w.errBody, b...)
		return len(b), nil
	}
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *response) base() string {
	if w.h.baseURL != nil {
		return w.h.baseURL(w.r)
	}
	scheme := "http"
	if w.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + w.r.Host + BasePath
}

// errLockBusy is tusd's lock timeout with the status it means: another
// request still holds the upload, so try again (503), not a server
// failure (tusd's 500, which is all a HEAD reply would carry).
var errLockBusy = tusd.NewError("ERR_LOCK_TIMEOUT", "failed to acquire lock before timeout", http.StatusServiceUnavailable)

// busyLocker gives its locks' timeouts errLockBusy's status.
type busyLocker struct{ tusd.Locker }

func (l busyLocker) NewLock(id string) (tusd.Lock, error) {
	k, err := l.Locker.NewLock(id)
	if err != nil {
		return nil, err
	}
	return busyLock{k}, nil
}

type busyLock struct{ lock tusd.Lock }

func (k busyLock) Unlock() error { return k.lock.Unlock() }

func (k busyLock) Lock(ctx context.Context, requestRelease func()) error {
	err := k.lock.Lock(ctx, requestRelease)
	if errors.Is(err, tusd.ErrLockTimeout) {
		return errLockBusy
	}
	return err
}

// fail writes err as the API's error reply.
func (w *response) fail(err error) {
	status, hdr, body := w.h.render(w.r.Context(), err)
	for k, v := range hdr {
		w.Header()[k] = v
	}
	w.Header().Set("Tus-Resumable", "1.0.0")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.ResponseWriter.WriteHeader(status)
	w.wrote = true
	if w.r.Method != http.MethodHead {
		_, _ = w.ResponseWriter.Write(body)
	}
}

// flush writes a plain-text tusd error held back by WriteHeader as
// {"code","message","logref"}, with tusd's status.
func (w *response) flush() {
	if w.errCode == 0 {
		return
	}
	code, msg := "", strings.TrimSpace(string(w.errBody))
	if c, m, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(c, "ERR_") {
		code, msg = strings.TrimPrefix(c, "ERR_"), m
	}
	if code == "LOCK_TIMEOUT" {
		// Another request (perhaps on another replica) still holds the
		// upload: the client should try again, as after any 503.
		w.errCode, msg = http.StatusServiceUnavailable, "another request for this upload is still running; try again"
	}
	if code == "UPLOAD_INTERRUPTED" {
		// tusd's 400 for a request whose upload another request took
		// over (the usual case: a client resuming while this replica
		// still runs its cut PATCH). Nothing is wrong with the request: as
		// 423, tus clients (tus-js-client, ours) ask HEAD for the offset
		// and carry on instead of giving up.
		w.errCode, msg = http.StatusLocked, "another request for this upload took it over; ask HEAD for the offset and resume"
	}
	if code == "INTERNAL_SERVER_ERROR" {
		// As the rest of the API: details in the log (tusd logs them), not
		// in the reply.
		code, msg = "", "Internal failure"
	}
	if w.errCode == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		// Every 503 says when to try again: a lock timeout above, and
		// one on a HEAD, whose reply has no code to go by.
		w.Header().Set("Retry-After", "1")
	}
	if msg == "" {
		msg = statusText(w.errCode)
	}
	body := acd.Error{Logref: w.Header().Get("X-Amzn-Requestid"), Message: msg, Code: code}
	raw, _ := json.Marshal(body)
	raw = append(raw, '\n')
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(raw)))
	w.ResponseWriter.WriteHeader(w.errCode)
	if w.r.Method != http.MethodHead {
		_, _ = w.ResponseWriter.Write(raw)
	}
}

// md5Reader fails at the end of the content when its MD5 is not want, so
// that the blob store keeps nothing and no node is made.
type md5Reader struct {
	r    io.Reader
	want string
	h    hash.Hash
}

func (m *md5Reader) Read(p []byte) (int, error) {
	if m.h == nil {
		m.h = md5.New()
	}
	n, err := m.r.Read(p)
	m.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(m.h.Sum(nil)); got != m.want {
			return n, &drive.Error{Op: "upload", Kind: drive.Invalid, Code: "MD5_MISMATCH", Param: "Upload-Metadata md5",
				Message: "the content's MD5 is " + got + ", not " + m.want + "; the upload was discarded"}
		}
	}
	return n, err
}
