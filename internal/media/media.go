// Package media reads photo and video metadata from a file's bytes, as ACD
// showed it in contentProperties.image and contentProperties.video, and
// the date the content was made (contentProperties.contentDate).
//
// Images: width and height from the format's header (image.DecodeConfig:
// JPEG, PNG, GIF, BMP, TIFF, WebP; no pixel is decoded) and, for JPEG and
// TIFF, the EXIF fields (camera, exposure, dates, orientation), read with
// github.com/rwcarlsen/goexif from the first MaxImageHead bytes only. The
// content date is EXIF DateTimeOriginal (else DateTimeDigitized), taken as
// UTC, since EXIF dates carry no zone. GPS coordinates are dropped unless
// Extractor.KeepGPS is set: a photo's position says where its owner was.
//
// Videos: MP4, MOV, M4V and 3GP (ISO base media files) are read in pure
// Go, box by box, reading only box headers and the few small boxes needed
// (mvhd: duration and creation time; tkhd: size and rotation; mdhd, hdlr,
// stsd, stsz: codecs and frame rate), so a large file costs a handful of
// small reads wherever its moov box is. Other containers (WebM, Matroska,
// AVI) are read with ffprobe when Extractor.FFprobe names it, fed at most
// MaxProbeBytes of the file through a pipe and stopped after Timeout.
//
// Extraction never fails an upload: callers log its error and go on.
package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register GIF for DecodeConfig
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"log/slog"
	"strings"
	"time"

	_ "golang.org/x/image/bmp"  // register BMP
	_ "golang.org/x/image/tiff" // register TIFF
	_ "golang.org/x/image/webp" // register WebP

	"github.com/clouddrive/clouddrive/internal/drive"
)

// Limits on what one extraction reads.
const (
	// MaxImageHead is how much of an image is read for its header and
	// EXIF data (a JPEG's APP1 segment is at most 64 KiB and comes first).
	MaxImageHead = 256 << 10
	// MaxBoxReads bounds the box headers read from one ISO media file.
	MaxBoxReads = 4096
	// MaxProbeBytes is how much of a file ffprobe is fed.
	MaxProbeBytes = 32 << 20
	// DefaultTimeout bounds one ffprobe or ffmpeg run.
	DefaultTimeout = 20 * time.Second
)

// Extractor reads media metadata. The zero value works: no GPS, no
// ffprobe. It is safe for concurrent use.
type Extractor struct {
	// KeepGPS keeps EXIF GPS coordinates (image.latitude, longitude).
	KeepGPS bool
	// FFprobe is the path of ffprobe for containers Go does not read;
	// empty disables it.
	FFprobe string
	// Timeout bounds an ffprobe run (default DefaultTimeout).
	Timeout time.Duration
	Logger  *slog.Logger
}

// ErrNotMedia is returned for content that is not a known image or video.
var ErrNotMedia = errors.New("media: not an image or video")

// Extract reads the metadata of the size bytes in r. contentType and name
// are hints (the bytes decide). It returns ErrNotMedia for other content;
// a malformed file gives what could be read and an error.
func (e *Extractor) Extract(ctx context.Context, r io.ReaderAt, size int64, contentType, name string) (m drive.Media, err error) {
	defer func() {
		// goexif and the image decoders work on untrusted bytes: a panic
		// in them must not take an upload down.
		if p := recover(); p != nil {
			m, err = drive.Media{}, fmt.Errorf("media: malformed content: %v", p)
		}
	}()
	if size <= 0 {
		return drive.Media{}, ErrNotMedia
	}
	head := make([]byte, min(size, 64))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return drive.Media{}, err
	}
	switch kind := sniff(head, contentType, name); kind {
	case kindImage:
		return e.image(r, size)
	case kindISO:
		m, err := isoMedia(r, size)
		if err == nil || e.FFprobe == "" {
			return m, err
		}
		return e.probe(ctx, r, size)
	case kindVideo:
		if e.FFprobe == "" {
			return drive.Media{}, ErrNotMedia
		}
		return e.probe(ctx, r, size)
	}
	return drive.Media{}, ErrNotMedia
}

type kind int

const (
	kindNone kind = iota
	kindImage
	kindISO
	kindVideo
)

func sniff(b []byte, contentType, name string) kind {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}),
		bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")),
		bytes.HasPrefix(b, []byte("GIF8")),
		bytes.HasPrefix(b, []byte("BM")) && strings.HasPrefix(contentType, "image/"),
		bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")),
		len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return kindImage
	case len(b) >= 8 && (string(b[4:8]) == "ftyp" || string(b[4:8]) == "moov" || string(b[4:8]) == "mdat" || string(b[4:8]) == "wide"):
		return kindISO
	case bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}), // Matroska, WebM
		len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "AVI ":
		return kindVideo
	}
	if strings.HasPrefix(contentType, "video/") {
		return kindVideo
	}
	return kindNone
}

// image reads the header and EXIF data of an image.
func (e *Extractor) image(r io.ReaderAt, size int64) (drive.Media, error) {
	head := make([]byte, min(size, MaxImageHead))
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return drive.Media{}, err
	}
	head = head[:n]
	img := &drive.ImageProps{}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(head)); err == nil {
		img.Width, img.Height = cfg.Width, cfg.Height
	}
	m := drive.Media{Image: img}
	if isJPEG(head) || isTIFF(head) {
		readEXIF(head, img, e.KeepGPS)
		m.Date = img.DateTimeOriginal
		if m.Date.IsZero() {
			m.Date = img.DateTimeDigitized
		}
	}
	if img.Width == 0 && img.Make == "" && m.Date.IsZero() {
		return drive.Media{}, errors.New("media: unreadable image header")
	}
	return m, nil
}

func isJPEG(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8}) }
func isTIFF(b []byte) bool {
	return bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*"))
}
