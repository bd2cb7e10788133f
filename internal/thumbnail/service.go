// Package thumbnail makes JPEG thumbnails of images (GET
// {content}/nodes/{id}/content?viewBox=N), and of videos from a frame that
// ffmpeg renders when it is installed (video.go), and caches them as
// derived blobs.
//
// Sources may be JPEG, PNG, GIF (first frame), BMP, TIFF or WebP; the
// format is sniffed from the content, not taken from the name. A thumbnail
// fits the requested box (N×N, or W×H), is never larger than the source,
// and is turned upright by the EXIF orientation of a JPEG or TIFF.
//
// Memory is bounded twice over: an image whose declared dimensions (read
// from its header by DecodeConfig, before any pixel is decoded) exceed
// Limits, or whose Cost does, is refused, which stops decompression bombs,
// and at most Concurrency thumbnails are generated at once, so the worst
// case is Concurrency × (MaxSourceBytes + MaxDecodeBytes). Cost counts
// what decoding and scaling really allocate, not just the pixels: the
// decoder's buffers for the format and color model (a progressive JPEG
// keeps 4 bytes of coefficients per pixel and component besides its
// planes, a TIFF decoder grows a buffer for each strip, an interlaced PNG
// decodes every pass into an image of its own) and the scaling temporary,
// 32 bytes per pixel of the scaled width times the source height, so a
// large box costs more than a small one.
//
// # Cache
//
// A thumbnail is stored once in the blob store and recorded in the
// metadata store as a derived blob of its source blob for a variant naming
// the box ("thumb1-jpeg-256x256"). Blob keys follow content, so
// overwriting a file gives it a new source key and its old thumbnails are
// simply no longer looked up; the garbage collector deletes a derived blob
// once no node references its source (meta.DerivedTx.DerivedInUse).
// Recording a derived blob takes the blob's lock and checks that the blob
// still exists, as uploads do (see package gc), so the collector never
// deletes a thumbnail that is being recorded.
package thumbnail

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Service makes and caches thumbnails. It is safe for concurrent use;
// its fields must not change after the first call.
type Service struct {
	Meta   meta.Store
	Blobs  blob.Store
	Now    drive.Clock
	Logger *slog.Logger
	Limits Limits
	// Concurrency bounds how many thumbnails are generated at once
	// (default 2).
	Concurrency int
	// FFmpeg is the path of ffmpeg, which renders a frame of a video for
	// its thumbnail; empty: videos have none (see video.go).
	FFmpeg string
	// FrameTimeout bounds one ffmpeg run (default media.DefaultTimeout).
	FrameTimeout time.Duration

	once      sync.Once
	noFFmpeg  sync.Once
	sem       *semaphore.Weighted
	generated atomic.Int64
}

// Generated reports how many thumbnails this service has rendered (cache
// misses), for tests and metrics.
func (s *Service) Generated() int64 { return s.generated.Load() }

// ContentType is the media type of every thumbnail.
const ContentType = "image/jpeg"

// Variant names the derived blob of a thumbnail fitting box. The leading
// "thumb1" versions the rendering, so a change of algorithm can start a
// fresh cache.
func Variant(box Box) string { return fmt.Sprintf("thumb1-jpeg-%dx%d", box.W, box.H) }

// Open returns the thumbnail of the FILE node n fitting box, and its size
// in bytes, from the cache or freshly rendered. A node that is not an
// image in a supported format or a video, or whose image exceeds the
// limits, gives an Invalid error; a video without ffmpeg gives NotFound.
func (s *Service) Open(ctx context.Context, n *drive.Node, box Box) (io.ReadCloser, int64, error) {
	const op = "thumbnail.Open"
	if n.Kind != drive.KindFile || n.Content == nil {
		return nil, 0, &drive.Error{Op: op, Kind: drive.Invalid, Param: "id", Message: "node is not a file"}
	}
	if n.Content.Size == 0 || n.Content.BlobKey == "" {
		return nil, 0, unsupported()
	}
	src, variant := n.Content.BlobKey, Variant(box)
	var d *meta.DerivedBlob
	err := s.view(ctx, func(tx Tx) error {
		var err error
		d, err = tx.DerivedBlob(ctx, src, variant)
		return err
	})
	switch {
	case err == nil:
		rc, err := s.Blobs.Open(ctx, d.Key, 0, -1)
		if err == nil {
			return rc, d.Size, nil
		}
		if !drive.Is(drive.NotFound, err) {
			return nil, 0, err
		}
		// Collected meanwhile: render it again.
	case !drive.Is(drive.NotFound, err):
		return nil, 0, err
	}
	out, err := s.render(ctx, n, box)
	if err != nil {
		return nil, 0, err
	}
	s.store(ctx, src, variant, out)
	return io.NopCloser(bytes.NewReader(out)), int64(len(out)), nil
}

func (s *Service) render(ctx context.Context, n *drive.Node, box Box) ([]byte, error) {
	// Sniff first, so that a large file of another kind is never read.
	head, err := s.read(ctx, n.Content.BlobKey, sniffLen)
	if err != nil {
		return nil, err
	}
	_, image := sniff(head)
	video := !image && isVideo(n, head)
	if !image && !video {
		return nil, unsupported()
	}
	lim := s.Limits.withDefaults()
	if image && n.Content.Size > lim.MaxSourceBytes {
		return nil, tooLarge("file size")
	}
	if video && s.FFmpeg == "" {
		return s.videoFrame(ctx, n) // the error, logged once
	}
	s.once.Do(func() { s.sem = semaphore.NewWeighted(int64(cmp.Or(max(s.Concurrency, 0), 2))) })
	if err := s.sem.Acquire(ctx, 1); err != nil {
		return nil, drive.E("thumbnail.render", drive.Unavailable, "request cancelled", err)
	}
	defer s.sem.Release(1)
	var data []byte
	if video {
		data, err = s.videoFrame(ctx, n)
	} else {
		data, err = s.read(ctx, n.Content.BlobKey, n.Content.Size)
	}
	if err != nil {
		return nil, err
	}
	out, err := Render(data, box, lim)
	if err != nil {
		return nil, err
	}
	s.generated.Add(1)
	return out, nil
}

// read returns up to limit leading bytes of a blob, into a buffer of
// that size (reading to the end with io.ReadAll would grow it by
// doubling, allocating up to twice a large source).
func (s *Service) read(ctx context.Context, key string, limit int64) ([]byte, error) {
	rc, err := s.Blobs.Open(ctx, key, 0, limit)
	if err != nil {
		if drive.Is(drive.NotFound, err) {
			return nil, drive.E("thumbnail.read", drive.Internal, "content missing", err)
		}
		return nil, err
	}
	defer rc.Close()
	b := make([]byte, limit)
	n, err := io.ReadFull(rc, b)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, drive.Wrap("thumbnail.read", err)
	}
	return b[:n], nil
}

// store caches a rendered thumbnail. Failing to cache is logged, not
// returned: the caller still has the bytes.
func (s *Service) store(ctx context.Context, src, variant string, out []byte) {
	info, err := s.Blobs.Put(ctx, bytes.NewReader(out), nil)
	if err == nil {
		err = s.update(ctx, func(tx Tx) error {
			if err := tx.LockBlob(ctx, info.Key); err != nil {
				return err
			}
			if _, err := s.Blobs.Stat(ctx, info.Key); err != nil {
				return err
			}
			return tx.PutDerivedBlob(ctx, &meta.DerivedBlob{SourceKey: src, Variant: variant, Key: info.Key,
				Size: info.Size, CreatedAt: s.Now().UTC()})
		})
	}
	if err != nil && s.Logger != nil {
		s.Logger.WarnContext(ctx, "caching a thumbnail failed", "variant", variant, "err", err)
	}
}
