package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/blob/hashpipe"
	"github.com/clouddrive/clouddrive/internal/drive"
)

const (
	// DefaultPartSize is the part size of multipart uploads, and the
	// largest blob stored with a single PutObject.
	DefaultPartSize = 8 << 20
	// MinPartSize is S3's smallest part (except the last one).
	MinPartSize = 5 << 20
	// DefaultConcurrency is how many parts of one Put upload at once.
	DefaultConcurrency = 2
	// maxParts is S3's limit on the parts of a multipart upload.
	maxParts = 10000
	// maxCopy is the largest object CopyObject copies in one request.
	maxCopy = 5 << 30
	// copyPart is the part size of a multipart copy.
	copyPart = 1 << 30
	// keyLen is the length of a key: hex SHA-256.
	keyLen = 2 * sha256.Size
	// readChunk bounds a single Read into a part buffer, so cancellation
	// is noticed at least this often.
	readChunk = 256 << 10
)

// Config names a bucket and tunes the store.
type Config struct {
	// Bucket is the bucket name; it must exist.
	Bucket string
	// Prefix is prepended to every object name ("" or e.g. "clouddrive/").
	Prefix string
	// Endpoint is the base URL of an S3-compatible server, such as
	// http://127.0.0.1:7070; empty means AWS.
	Endpoint string
	// Region is the signing region; empty takes it from the AWS
	// configuration (AWS_REGION, ~/.aws/config), then us-east-1.
	Region string
	// PathStyle addresses buckets as endpoint/bucket/key rather than
	// bucket.endpoint/key. Most S3-compatible servers need it.
	PathStyle bool
	// Profile selects a profile of the shared AWS config files.
	Profile string
	// AccessKey and SecretKey, when set, replace the standard credential
	// chain (tests use them; deployments use the environment or files).
	AccessKey, SecretKey string
	// PartSize is the multipart part size (default DefaultPartSize,
	// at least MinPartSize).
	PartSize int64
	// Concurrency is the number of parts of one Put in flight (default
	// DefaultConcurrency).
	Concurrency int
}

// Store is a blob.Store in an S3 bucket. Create it with New or Open.
type Store struct {
	client      *s3.Client
	bucket      string
	prefix      string
	partSize    int64
	concurrency int
	bufs        sync.Pool // *[]byte of partSize
	active      atomic.Int64
	// maxCopy and copyPart are the CopyObject limit and the multipart copy
	// part size; tests lower them.
	maxCopy, copyPart int64
}

var _ blob.Store = (*Store)(nil)

// NewClient builds an S3 client for cfg, reading credentials and defaults
// from the standard AWS environment variables and config files.
func NewClient(ctx context.Context, cfg Config) (*s3.Client, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: aws config: %w", err)
	}
	if ac.Region == "" {
		ac.Region = "us-east-1"
	}
	return s3.NewFromConfig(ac, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Checksums only where S3 requires them: S3-compatible servers
		// vary in their support for the newer flexible checksums, and
		// Put hashes every byte itself.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}), nil
}

// Open builds a client for cfg and returns a Store on its bucket. It does
// not contact the server; call Ping to check the bucket is reachable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	c, err := NewClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return New(c, cfg)
}

// New returns a Store using client on cfg.Bucket (cfg's connection fields
// are ignored).
func New(client *s3.Client, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < MinPartSize || cfg.PartSize > 1<<30 {
		return nil, fmt.Errorf("s3: part size %d outside [%d, %d]", cfg.PartSize, MinPartSize, 1<<30)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	s := &Store{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix, partSize: cfg.PartSize,
		concurrency: cfg.Concurrency, maxCopy: maxCopy, copyPart: copyPart}
	s.bufs.New = func() any {
		b := make([]byte, s.partSize)
		return &b
	}
	return s, nil
}

// Client returns the underlying S3 client.
func (s *Store) Client() *s3.Client { return s.client }

// Prefix returns the prefix of the store's object names (Config.Prefix).
func (s *Store) Prefix() string { return s.prefix }

// MaxSize returns the largest blob the store takes: 10,000 parts of
// Config.PartSize.
func (s *Store) MaxSize() int64 { return maxParts * s.partSize }

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.bucket }

// Active returns the number of Puts in progress in this process.
func (s *Store) Active() int { return int(s.active.Load()) }

func (s *Store) objectName(key string) string { return s.prefix + "blobs/" + key }

func (s *Store) tmpName(id string) string { return s.prefix + "tmp/" + id }

// validKey reports whether key is 64 lowercase hex characters.
func validKey(key string) bool {
	if len(key) != keyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// classify turns an S3 error into a drive error.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return drive.Wrap(op, err)
	}
	var de *drive.Error
	if errors.As(err, &de) {
		return err
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return drive.E(op, drive.NotFound, "blob not found", err)
		case "InvalidRange":
			return drive.E(op, drive.RangeNotSatisfiable, "offset past the end of the blob", err)
		case "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "SlowDown":
			return drive.E(op, drive.Unavailable, "blob store unavailable", err)
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch code := re.HTTPStatusCode(); {
		case code == 404:
			return drive.E(op, drive.NotFound, "blob not found", err)
		case code == 416:
			return drive.E(op, drive.RangeNotSatisfiable, "offset past the end of the blob", err)
		case code == 0 || code >= 500: // 0: no response at all
			return drive.E(op, drive.Unavailable, "blob store unavailable", err)
		}
		return drive.Wrap(op, err)
	}
	// No HTTP response at all: the server is unreachable.
	return drive.E(op, drive.Unavailable, "blob store unreachable", err)
}

// fill reads r into buf until buf is full, r ends (eof true) or fails.
// It checks ctx between reads. A reader error is returned wrapped, so
// errors.Is finds it; io.ErrUnexpectedEOF is an error, not an end.
func fill(ctx context.Context, op string, r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, false, drive.Wrap(op, err)
		}
		k, rerr := r.Read(buf[n:min(len(buf), n+readChunk)])
		n += k
		if rerr == io.EOF {
			return n, true, nil
		}
		if rerr != nil {
			return n, false, drive.Wrap(op, fmt.Errorf("reading content: %w", rerr))
		}
	}
	return n, false, nil
}

func (s *Store) getBuf() []byte  { return *s.bufs.Get().(*[]byte) }
func (s *Store) putBuf(b []byte) { s.bufs.Put(&b) }

// Put implements blob.Putter (see the package comment). The key is the
// hex SHA-256 of the content.
func (s *Store) Put(ctx context.Context, r io.Reader, check blob.Check) (blob.Info, error) {
	const op = "s3.Put"
	s.active.Add(1)
	defer s.active.Add(-1)
	if err := ctx.Err(); err != nil {
		return blob.Info{}, drive.Wrap(op, err)
	}
	// The part buffers: Concurrency uploading, one being read, one being
	// hashed.
	ring := hashpipe.NewRing(s.concurrency+2, int(s.partSize), s.getBuf)
	p := hashpipe.New(nil)
	defer func() {
		p.Abort()
		if ring.Full() { // every upload has ended
			ring.Close(s.putBuf)
		}
	}()
	c, err := ring.Get(ctx)
	if err != nil {
		return blob.Info{}, drive.Wrap(op, err)
	}
	n, eof, err := fill(ctx, op, r, c.Buf)
	if err != nil {
		c.Release()
		return blob.Info{}, err
	}
	if !eof {
		// A full buffer: more may follow. Peek one byte to tell.
		var one [1]byte
		k, peekEOF, err := fill(ctx, op, r, one[:])
		if err != nil {
			c.Release()
			return blob.Info{}, err
		}
		if k > 0 || !peekEOF {
			return s.putMultipart(ctx, r, ring, p, c, n, one[:k], check)
		}
	}
	c.Hold() // for PutObject
	defer c.Release()
	_ = p.Submit(c, n) // no sink, no error
	info, err := p.Finish()
	if err != nil {
		return blob.Info{}, drive.Wrap(op, err)
	}
	if check != nil {
		if err := check(info); err != nil {
			return blob.Info{}, err // unchanged, as blob.Check says
		}
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, drive.Wrap(op, err)
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           aws.String(s.objectName(info.Key)),
		Body:          bytes.NewReader(c.Buf[:n]),
		ContentLength: aws.Int64(int64(n)),
		ContentType:   aws.String("application/octet-stream"),
	})
	if err != nil {
		return blob.Info{}, classify(op, err)
	}
	return info, nil
}

// abortRecheck are the pauses after which abortUpload looks for the
// upload again.
var abortRecheck = []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond}

// abortUpload aborts the multipart upload id of key, even when ctx has
// ended, so that no parts linger. A part whose upload was still running
// on the server when the abort came may be stored after it, which brings
// the upload back (AWS documents that an abort may have to be repeated;
// versitygw lists such an upload again): so after a pause it asks
// ListParts, and aborts again while the upload is still there. What even
// that leaves, SweepUploads collects.
func (s *Store) abortUpload(ctx context.Context, key string, id *string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	in := &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: id}
	_, _ = s.client.AbortMultipartUpload(actx, in)
	for _, d := range abortRecheck {
		select {
		case <-actx.Done():
			return
		case <-time.After(d):
		}
		if _, err := s.client.ListParts(actx, &s3.ListPartsInput{Bucket: &s.bucket, Key: &key, UploadId: id}); err != nil {
			return // gone (NoSuchUpload), or the store cannot tell: the sweep has the rest
		}
		_, _ = s.client.AbortMultipartUpload(actx, in)
	}
}

// putMultipart streams the rest of a Put into a multipart upload of a
// temp object: first holds n bytes already read (not yet hashed), extra
// the bytes read after it. Every part goes to the hash pipe p and, at the
// same time, to UploadPart.
func (s *Store) putMultipart(ctx context.Context, r io.Reader, ring *hashpipe.Ring, p *hashpipe.Pipe, first *hashpipe.Chunk, n int, extra []byte, check blob.Check) (blob.Info, error) {
	const op = "s3.Put"
	tmp := s.tmpName(newID())
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: &tmp, ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		first.Release()
		return blob.Info{}, classify(op, err)
	}
	uploadID := created.UploadId
	completed := false
	defer func() {
		if !completed {
			s.abortUpload(ctx, tmp, uploadID)
		}
	}()

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.concurrency)
	var mu sync.Mutex
	var parts []types.CompletedPart
	upload := func(num int32, c *hashpipe.Chunk, size int) {
		c.Hold() // for UploadPart
		_ = p.Submit(c, size)
		g.Go(func() error {
			defer c.Release()
			out, err := s.client.UploadPart(gctx, &s3.UploadPartInput{
				Bucket: &s.bucket, Key: &tmp, UploadId: uploadID, PartNumber: aws.Int32(num),
				Body: bytes.NewReader(c.Buf[:size]), ContentLength: aws.Int64(int64(size)),
			})
			if err != nil {
				return classify(op, err)
			}
			mu.Lock()
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
			mu.Unlock()
			return nil
		})
	}
	// fail waits for the uploads in flight and returns err, or the
	// failed upload that stopped the reading.
	fail := func(err error) (blob.Info, error) {
		if werr := g.Wait(); werr != nil && ctx.Err() == nil && errors.Is(err, context.Canceled) {
			return blob.Info{}, werr
		}
		return blob.Info{}, err
	}

	upload(1, first, n)
	num := int32(1)
	for {
		if num == maxParts {
			return fail(drive.Errorf(op, drive.TooLarge, "content larger than %d bytes", int64(maxParts)*s.partSize))
		}
		num++
		c, err := ring.Get(gctx)
		if err != nil {
			return fail(drive.Wrap(op, err))
		}
		k := copy(c.Buf, extra)
		extra = nil
		m, eof, err := fill(gctx, op, r, c.Buf[k:])
		m += k
		if err != nil {
			c.Release()
			return fail(err)
		}
		if m == 0 {
			c.Release()
			break
		}
		upload(num, c, m)
		if eof {
			break
		}
	}
	if err := g.Wait(); err != nil {
		return blob.Info{}, err
	}
	info, err := p.Finish()
	if err != nil {
		return blob.Info{}, drive.Wrap(op, err)
	}
	if check != nil {
		if err := check(info); err != nil {
			return blob.Info{}, err // unchanged; the deferred abort discards the parts
		}
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, drive.Wrap(op, err)
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &tmp, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return blob.Info{}, classify(op, err)
	}
	completed = true
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = s.client.DeleteObject(dctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &tmp})
	}()
	if err := s.copyObject(ctx, tmp, s.objectName(info.Key), info.Size); err != nil {
		return blob.Info{}, classify(op, err)
	}
	return info, nil
}

// copySource is the x-amz-copy-source of an object: bucket/key, each
// path segment URL-escaped.
func (s *Store) copySource(name string) string {
	segs := strings.Split(s.bucket+"/"+name, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}

// copyObject copies src to dst server-side, in parts when it is larger
// than CopyObject allows.
func (s *Store) copyObject(ctx context.Context, src, dst string, size int64) error {
	if size <= s.maxCopy {
		_, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: &s.bucket, Key: &dst, CopySource: aws.String(s.copySource(src)),
			ContentType: aws.String("application/octet-stream"), MetadataDirective: types.MetadataDirectiveReplace,
		})
		return err
	}
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: &dst, ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			s.abortUpload(ctx, dst, created.UploadId)
		}
	}()
	var parts []types.CompletedPart
	for off, num := int64(0), int32(1); off < size; off, num = off+s.copyPart, num+1 {
		end := min(off+s.copyPart, size) - 1
		out, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: &s.bucket, Key: &dst, UploadId: created.UploadId, PartNumber: aws.Int32(num),
			CopySource: aws.String(s.copySource(src)), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
		})
		if err != nil {
			return err
		}
		parts = append(parts, types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(num)})
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &dst, UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return err
	}
	done = true
	return nil
}

// newID returns a random name for a temp object, sortable by creation
// time.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x-%s", time.Now().UnixNano(), hex.EncodeToString(b[:]))
}

// Open implements blob.Opener with one ranged GET.
func (s *Store) Open(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	const op = "s3.Open"
	if err := ctx.Err(); err != nil {
		return nil, drive.Wrap(op, err)
	}
	if !validKey(key) {
		return nil, drive.E(op, drive.NotFound, "blob not found")
	}
	if off < 0 {
		return nil, drive.E(op, drive.Invalid, "negative offset")
	}
	if length == 0 {
		e, err := s.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		if off > e.Size {
			return nil, drive.E(op, drive.RangeNotSatisfiable, "offset past the end of the blob")
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.objectName(key))}
	if off > 0 || length > 0 {
		rng := fmt.Sprintf("bytes=%d-", off)
		if length > 0 {
			rng += fmt.Sprint(off + length - 1)
		}
		in.Range = &rng
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		err = classify(op, err)
		if !drive.Is(drive.RangeNotSatisfiable, err) {
			return nil, err
		}
		// S3 refuses a range starting at the end; the contract serves
		// it as empty.
		e, serr := s.Stat(ctx, key)
		if serr != nil {
			return nil, serr
		}
		if off == e.Size {
			return io.NopCloser(bytes.NewReader(nil)), nil
		}
		return nil, err
	}
	return out.Body, nil
}

// Stat implements blob.Store with a HEAD request.
func (s *Store) Stat(ctx context.Context, key string) (blob.Entry, error) {
	const op = "s3.Stat"
	if err := ctx.Err(); err != nil {
		return blob.Entry{}, drive.Wrap(op, err)
	}
	if !validKey(key) {
		return blob.Entry{}, drive.E(op, drive.NotFound, "blob not found")
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.objectName(key))})
	if err != nil {
		return blob.Entry{}, classify(op, err)
	}
	return blob.Entry{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	const op = "s3.Delete"
	if err := ctx.Err(); err != nil {
		return drive.Wrap(op, err)
	}
	if !validKey(key) {
		return nil
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.objectName(key))})
	if err := classify(op, err); err != nil && !drive.Is(drive.NotFound, err) {
		return err
	}
	return nil
}

// List implements blob.Lister with ListObjectsV2, which returns names in
// byte order. A limit below 1 is a drive.Invalid error.
func (s *Store) List(ctx context.Context, after string, limit int) ([]blob.Entry, error) {
	const op = "s3.List"
	if limit < 1 {
		return nil, drive.E(op, drive.Invalid, "limit must be positive")
	}
	dir := s.prefix + "blobs/"
	entries := []blob.Entry{}
	in := &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &dir}
	if after != "" {
		in.StartAfter = aws.String(dir + after)
	}
	for {
		in.MaxKeys = aws.Int32(int32(min(limit-len(entries), 1000)))
		out, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, classify(op, err)
		}
		for _, o := range out.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), dir)
			if !validKey(key) || key <= after {
				continue
			}
			entries = append(entries, blob.Entry{Key: key, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)})
			if len(entries) == limit {
				return entries, nil
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return entries, nil
		}
		in.ContinuationToken = out.NextContinuationToken
		in.StartAfter = nil
	}
}

// Ping implements blob.Store: it checks that the bucket exists and the
// credentials reach it.
func (s *Store) Ping(ctx context.Context) error {
	const op = "s3.Ping"
	if err := ctx.Err(); err != nil {
		return drive.Wrap(op, err)
	}
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return drive.E(op, drive.Unavailable, "blob bucket unreachable", err)
	}
	return nil
}

// SweepUploads removes what interrupted Puts left behind: multipart
// uploads begun, and temp objects written, before cutoff. It returns how
// many it removed. Puts still running started after any sane cutoff (the
// garbage collector's grace period).
func (s *Store) SweepUploads(ctx context.Context, cutoff time.Time) (int, error) {
	const op = "s3.SweepUploads"
	dir := s.prefix + "tmp/"
	n := 0
	mu := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &dir}
	for {
		out, err := s.client.ListMultipartUploads(ctx, mu)
		if err != nil {
			return n, classify(op, err)
		}
		for _, u := range out.Uploads {
			if u.Initiated == nil || !u.Initiated.Before(cutoff) {
				continue
			}
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId})
			if err := classify(op, err); err != nil && !drive.Is(drive.NotFound, err) {
				return n, err
			}
			n++
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		mu.KeyMarker, mu.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	lo := &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &dir}
	for {
		out, err := s.client.ListObjectsV2(ctx, lo)
		if err != nil {
			return n, classify(op, err)
		}
		for _, o := range out.Contents {
			if o.LastModified == nil || !o.LastModified.Before(cutoff) {
				continue
			}
			if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: o.Key}); err != nil {
				return n, classify(op, err)
			}
			n++
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return n, nil
		}
		lo.ContinuationToken = out.NextContinuationToken
	}
}
