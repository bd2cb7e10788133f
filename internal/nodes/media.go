package nodes

import (
	"context"
	"errors"
	"io"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/drive"
)

// MediaExtractor reads photo and video metadata from a file's bytes
// (package media implements it). An error means nothing usable was found.
type MediaExtractor interface {
	Extract(ctx context.Context, r io.ReaderAt, size int64, contentType, name string) (drive.Media, error)
}

// blobReaderAt reads a stored blob at offsets with ranged Opens.
type blobReaderAt struct {
	ctx   context.Context
	blobs blob.Opener
	key   string
}

func (b blobReaderAt) ReadAt(p []byte, off int64) (int, error) {
	rc, err := b.blobs.Open(b.ctx, b.key, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// extractMedia reads the media metadata of a just-stored blob, before the
// transaction that records it. Failure never fails the upload: it is
// logged at debug level and the file simply has no media properties.
func (s *Service) extractMedia(ctx context.Context, info blob.Info, contentType, name string) drive.Media {
	if s.Media == nil || info.Size == 0 {
		return drive.Media{}
	}
	m, err := s.Media.Extract(ctx, blobReaderAt{ctx: ctx, blobs: s.Blobs, key: info.Key}, info.Size, contentType, name)
	if err != nil && s.Logger != nil {
		s.Logger.DebugContext(ctx, "no media metadata", "blob", info.Key, "err", err)
	}
	return m
}

// setMedia records m in c, replacing what an older content had.
func setMedia(c *drive.Content, m drive.Media) {
	c.Image, c.Video, c.ContentDate = m.Image, m.Video, m.Date
}
