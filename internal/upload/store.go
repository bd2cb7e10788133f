package upload

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/s3store"
)

// Staging is where uploads wait for their last byte: tusd's data store
// plus this package's records beside it.
type Staging struct {
	core interface {
		tusd.DataStore
		tusd.TerminaterDataStore
	}
	records records
	// tmp holds the copies of PATCH bodies whose checksum is checked
	// before they are staged.
	tmp string
	// dir is the staging directory of a local Staging (orphan collection).
	dir string
}

// LocalStaging stages uploads as files in dir (tusd's filestore): the
// embedded backends' staging directory under the data directory.
func LocalStaging(dir string) (*Staging, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("upload staging: %w", err)
	}
	fs := filestore.New(dir)
	fs.DirModePerm, fs.FileModePerm = 0o700, 0o600
	return &Staging{core: fs, records: dirRecords{dir: dir}, tmp: dir, dir: dir}, nil
}

// S3Staging stages uploads as S3 multipart uploads under prefix in bucket
// (tusd's s3store), so that any replica can take an upload over. Parts
// are buffered in files under tmpDir (the system's temp directory when
// empty), never in memory, until they are whole or the request ends.
func S3Staging(client *s3.Client, bucket, prefix, tmpDir string) *Staging {
	return &Staging{core: s3Core{client: client, bucket: bucket, prefix: prefix, tmp: tmpDir},
		records: s3Records{client: client, bucket: bucket, prefix: prefix}, tmp: tmpDir}
}

// s3Core runs each request on an s3store of its own that uploads one part
// at a time, in order, and stops at the first failed part. tusd's s3store
// uploads the parts of a request concurrently and takes the sum of the
// parts S3 lists as the offset: a replica killed while part 2 was stored
// and part 1 was not (or a part that failed while the next one did not)
// would leave a gap, counted as bytes received, and the resumed upload
// would be corrupt. In order and stopping at a failure, the parts S3 lists
// are always the first bytes. Different uploads still go in parallel.
type s3Core struct {
	client      *s3.Client
	bucket      string
	prefix, tmp string
}

func (c s3Core) store() s3store.S3Store {
	st := s3store.New(c.bucket, &orderedParts{Client: c.client})
	st.ObjectPrefix, st.MetadataObjectPrefix = c.prefix, c.prefix
	st.TemporaryDirectory = c.tmp
	// Parts of 8 MiB (tusd: 50 MiB), the blob store's part size: a replica
	// that dies loses at most the part it was filling (larger uploads get
	// larger parts, to stay within 10,000).
	st.PreferredPartSize = 8 << 20
	st.SetConcurrentPartUploads(1)
	return st
}

func (c s3Core) NewUpload(ctx context.Context, info tusd.FileInfo) (tusd.Upload, error) {
	return c.store().NewUpload(ctx, info)
}

func (c s3Core) GetUpload(ctx context.Context, id string) (tusd.Upload, error) {
	return c.store().GetUpload(ctx, id)
}

func (c s3Core) AsTerminatableUpload(u tusd.Upload) tusd.TerminatableUpload {
	return s3store.S3Store{}.AsTerminatableUpload(u)
}

// orderedParts is the S3 client of one request's s3store: once a part
// (or the incomplete last part) failed to upload, it refuses the later
// ones, so that no part is stored after a missing one.
type orderedParts struct {
	*s3.Client
	mu     sync.Mutex
	failed error
}

func (o *orderedParts) check() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failed
}

func (o *orderedParts) fail(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failed == nil {
		o.failed = err
	}
}

func (o *orderedParts) UploadPart(ctx context.Context, in *s3.UploadPartInput, opt ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("an earlier part failed: %w", err)
	}
	out, err := o.Client.UploadPart(ctx, in, opt...)
	if err != nil {
		o.fail(err)
	}
	return out, err
}

func (o *orderedParts) PutObject(ctx context.Context, in *s3.PutObjectInput, opt ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if strings.HasSuffix(aws.ToString(in.Key), ".part") {
		if err := o.check(); err != nil {
			return nil, fmt.Errorf("an earlier part failed: %w", err)
		}
	}
	return o.Client.PutObject(ctx, in, opt...)
}

// store is the tusd data store the handler runs on: the staging store
// with a record kept per upload, completed uploads answered from their
// record, and the checksum extension.
type store struct {
	h *Handler
}

var (
	_ tusd.DataStore           = store{}
	_ tusd.TerminaterDataStore = store{}
)

func (s store) NewUpload(ctx context.Context, info tusd.FileInfo) (tusd.Upload, error) {
	up, err := s.h.staging.core.NewUpload(ctx, info)
	if err != nil {
		return nil, err
	}
	got, err := up.GetInfo(ctx)
	if err != nil {
		return nil, err
	}
	rec := &record{ID: got.ID, Owner: info.MetaData[metaOwner], Size: got.Size, Expires: s.h.expires()}
	if err := s.h.staging.records.put(ctx, recordKey(got.ID), rec); err != nil {
		_ = s.h.staging.core.AsTerminatableUpload(up).Terminate(ctx)
		return nil, err
	}
	return &staged{Upload: up, s: s, rec: rec}, nil
}

// GetUpload reads the record again: tusd calls it holding the upload's
// lock, and the record may have changed since the handler read it (the
// request that held the lock completed the upload).
func (s store) GetUpload(ctx context.Context, id string) (tusd.Upload, error) {
	rec, err := s.h.staging.records.get(ctx, recordKey(id))
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.ID != id {
		return nil, tusd.ErrNotFound
	}
	p, _ := ctx.Value(pendingKey{}).(*pending)
	if rec.NodeID != "" {
		if p != nil {
			p.done = rec
		}
		return &done{rec: rec, s: s}, nil
	}
	up, err := s.h.staging.core.GetUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	if p != nil && p.settle {
		// All bytes staged but no node: the server that received the
		// last one stopped before completing. Complete now, so that the
		// client's HEAD or PATCH learns the node.
		info, err := up.GetInfo(ctx)
		if err != nil {
			return nil, err
		}
		if info.Offset == info.Size {
			// The stopped server may not have finished the staging (S3:
			// the multipart upload is not completed yet); done already, it
			// fails, and reading the bytes tells.
			if err := up.FinishUpload(ctx); err != nil {
				s.h.log.Debug("resumable upload: finishing the staged bytes again", "upload", id, "err", err)
			}
			settled, err := s.h.settle(ctx, info)
			if err != nil {
				return nil, s.h.tusError(ctx, err)
			}
			p.done = settled
			return &done{rec: settled, s: s}, nil
		}
	}
	return &staged{Upload: up, s: s, rec: rec}, nil
}

// pending tells GetUpload, for a HEAD or PATCH, to settle an upload whose
// bytes are all staged, and the response writer which node the upload
// made.
type pending struct {
	settle bool
	done   *record
}

type pendingKey struct{}

func (s store) AsTerminatableUpload(u tusd.Upload) tusd.TerminatableUpload {
	return u.(tusd.TerminatableUpload)
}

// staged is an upload still receiving bytes.
type staged struct {
	tusd.Upload
	s   store
	rec *record
}

func (u *staged) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	var n int64
	var err error
	if sum, _ := ctx.Value(checksumKey{}).(*checksum); sum != nil {
		n, err = u.writeChecked(ctx, offset, src, sum)
	} else {
		n, err = u.Upload.WriteChunk(ctx, offset, src)
	}
	if n > 0 {
		// A write keeps the upload alive for another expiry period.
		u.rec.Expires = u.s.h.expires()
		if perr := u.s.h.staging.records.put(context.WithoutCancel(ctx), recordKey(u.rec.ID), u.rec); perr != nil {
			u.s.h.log.Warn("resumable upload: recording the last write failed", "upload", u.rec.ID, "err", perr)
		}
	}
	return n, err
}

// writeChecked copies src to a temporary file while hashing it, and
// stages the bytes only when the whole body arrived and matches the
// checksum: nothing of a PATCH that fails its checksum is kept.
func (u *staged) writeChecked(ctx context.Context, offset int64, src io.Reader, sum *checksum) (int64, error) {
	f, err := os.CreateTemp(u.s.h.staging.tmp, "checksum-*")
	if err != nil {
		return 0, err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	hw := sum.newHash()
	n, err := io.Copy(io.MultiWriter(f, hw), src)
	if err != nil {
		return 0, err
	}
	if sum.length >= 0 && n != sum.length {
		// The body ended early (tusd reports the cut connection): a partial
		// body cannot be checked, so none of it is kept.
		return 0, nil
	}
	if subtle.ConstantTimeCompare(hw.Sum(nil), sum.want) != 1 {
		return 0, errChecksumMismatch
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return u.Upload.WriteChunk(ctx, offset, f)
}

func (u *staged) Terminate(ctx context.Context) error {
	err := u.s.h.staging.core.AsTerminatableUpload(u.Upload).Terminate(ctx)
	return errors.Join(err, u.s.h.staging.records.delete(ctx, recordKey(u.rec.ID)))
}

// done is a completed upload: only its record is left, so that a HEAD
// tells a client whose last response was lost which node it made.
type done struct {
	rec *record
	s   store
}

func (u *done) GetInfo(context.Context) (tusd.FileInfo, error) {
	return tusd.FileInfo{ID: u.rec.ID, Size: u.rec.Size, Offset: u.rec.Size}, nil
}

func (u *done) WriteChunk(context.Context, int64, io.Reader) (int64, error) {
	return 0, tusd.ErrMismatchOffset
}

func (u *done) GetReader(context.Context) (io.ReadCloser, error) { return nil, tusd.ErrNotFound }
func (u *done) FinishUpload(context.Context) error               { return nil }

func (u *done) Terminate(ctx context.Context) error {
	return u.s.h.staging.records.delete(ctx, recordKey(u.rec.ID))
}

// checksum is a PATCH's Upload-Checksum (the tus checksum extension).
type checksum struct {
	algorithm string
	want      []byte
	// length is the body's Content-Length, -1 when unknown.
	length int64
}

type checksumKey struct{}

func (c *checksum) newHash() hash.Hash {
	if c.algorithm == "md5" {
		return md5.New()
	}
	return sha1.New()
}

// statusChecksumMismatch is tus's 460 Checksum Mismatch.
const statusChecksumMismatch = 460

var errChecksumMismatch = tusd.NewError("ERR_CHECKSUM_MISMATCH",
	"the request body does not match its Upload-Checksum; nothing of it was stored", statusChecksumMismatch)

// tusLog adapts tusd's logger (golang.org/x/exp/slog) to ours: its
// internal errors as warnings, the rest (cut connections, interrupted
// requests: routine for resumable uploads) at debug level.
type tusLog struct{ log *slog.Logger }

func (l tusLog) Write(p []byte) (int, error) {
	line := string(trimNL(p))
	if strings.Contains(line, "InternalServerError") {
		l.log.Warn("tusd", "line", line)
	} else {
		l.log.Debug("tusd", "line", line)
	}
	return len(p), nil
}

func trimNL(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

// statusText names a tus status net/http does not know.
func statusText(code int) string {
	if code == statusChecksumMismatch {
		return "Checksum Mismatch"
	}
	return http.StatusText(code)
}
