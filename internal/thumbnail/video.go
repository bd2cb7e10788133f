package thumbnail

import (
	"bytes"
	"context"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/media"
)

// Video thumbnails are a frame of the video (at one second, or the first
// of a shorter one) rendered by ffmpeg when Service.FFmpeg names it, then
// scaled like an image and cached the same way. ffmpeg is fed at most
// media.MaxProbeBytes of the file and stopped after FrameTimeout. Without
// ffmpeg a video has no thumbnail: Open answers NotFound, and the reason
// is logged once.

// errNoFFmpeg is the answer for a video when ffmpeg is not installed.
func errNoFFmpeg() error {
	return &drive.Error{Op: "thumbnail.Open", Kind: drive.NotFound,
		Message: "no thumbnail for this video: ffmpeg is not installed on the server"}
}

// isVideo reports whether n looks like a video: recorded video properties,
// a video/* content type, or an ISO media, Matroska/WebM or AVI header.
func isVideo(n *drive.Node, head []byte) bool {
	if n.Content.Video != nil || strings.HasPrefix(n.Content.ContentType, "video/") {
		return true
	}
	switch {
	case len(head) >= 8 && (string(head[4:8]) == "ftyp" || string(head[4:8]) == "moov"):
		return true
	case bytes.HasPrefix(head, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		return true
	}
	return false
}

// videoFrame returns a frame of the video n as an image file (PNG).
func (s *Service) videoFrame(ctx context.Context, n *drive.Node) ([]byte, error) {
	if s.FFmpeg == "" {
		s.noFFmpeg.Do(func() {
			if s.Logger != nil {
				s.Logger.WarnContext(ctx, "video thumbnails need ffmpeg on PATH; without it, videos answer 404 to viewBox")
			}
		})
		return nil, errNoFFmpeg()
	}
	r := &media.BlobReader{Ctx: ctx, Blobs: s.Blobs, Key: n.Content.BlobKey, Size: n.Content.Size}
	frame, err := media.Frame(ctx, s.FFmpeg, s.FrameTimeout, r, n.Content.Size)
	if err != nil {
		if s.Logger != nil {
			s.Logger.DebugContext(ctx, "no video frame", "node", n.ID, "err", err)
		}
		if ctx.Err() != nil {
			return nil, drive.E("thumbnail.render", drive.Unavailable, "request cancelled", ctx.Err())
		}
		return nil, &drive.Error{Op: "thumbnail.Open", Kind: drive.Invalid, Param: "viewBox",
			Message: "no frame of this video could be read to make a thumbnail"}
	}
	return frame, nil
}
