package media_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/media"
	"github.com/clouddrive/clouddrive/internal/media/mediatest"
)

var shot = time.Date(2019, 6, 15, 10, 30, 0, 0, time.UTC)

func photo() []byte {
	return mediatest.JPEG(64, 48, mediatest.EXIF{Make: "Canon", Model: "EOS 5D", DateTimeOriginal: shot,
		Orientation: 6, ExposureDen: 125, FNumberX10: 28, ISO: 400, Flash: 16, Lat: 48.8584, Long: -2.2945})
}

func TestJPEGEXIF(t *testing.T) {
	b := photo()
	m, err := (&media.Extractor{}).Extract(context.Background(), bytes.NewReader(b), int64(len(b)), "image/jpeg", "a.jpg")
	if err != nil {
		t.Fatal(err)
	}
	img := m.Image
	if img == nil || m.Video != nil {
		t.Fatalf("media = %+v", m)
	}
	if img.Width != 64 || img.Height != 48 || img.Make != "Canon" || img.Model != "EOS 5D" || img.Orientation != "6" {
		t.Errorf("image = %+v", img)
	}
	if img.ExposureTime != "1/125" || img.FNumber != "2.8" || img.ISO != "400" || img.Flash != "Off, Did not fire" {
		t.Errorf("exposure = %q %q %q %q", img.ExposureTime, img.FNumber, img.ISO, img.Flash)
	}
	if !img.DateTimeOriginal.Equal(shot) || !m.Date.Equal(shot) {
		t.Errorf("dates = %v, %v; want %v", img.DateTimeOriginal, m.Date, shot)
	}
	if img.Latitude != nil || img.Longitude != nil {
		t.Errorf("GPS kept without KeepGPS: %v %v", *img.Latitude, *img.Longitude)
	}

	m, err = (&media.Extractor{KeepGPS: true}).Extract(context.Background(), bytes.NewReader(b), int64(len(b)), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Image.Latitude == nil || math.Abs(*m.Image.Latitude-48.8584) > 1e-3 || math.Abs(*m.Image.Longitude+2.2945) > 1e-3 {
		t.Errorf("GPS = %v %v", m.Image.Latitude, m.Image.Longitude)
	}
}

func TestPNGSize(t *testing.T) {
	var b bytes.Buffer
	img := image.NewNRGBA(image.Rect(0, 0, 300, 20))
	img.Set(1, 1, color.White)
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	m, err := (&media.Extractor{}).Extract(context.Background(), bytes.NewReader(b.Bytes()), int64(b.Len()), "image/png", "a.png")
	if err != nil {
		t.Fatal(err)
	}
	if m.Image == nil || m.Image.Width != 300 || m.Image.Height != 20 || !m.Date.IsZero() {
		t.Errorf("media = %+v %+v", m, m.Image)
	}
}

// countingReader counts the bytes read, to show that only headers are.
type countingReader struct {
	r     *bytes.Reader
	bytes int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.bytes += int64(len(p))
	return c.r.ReadAt(p, off)
}

func TestMP4(t *testing.T) {
	created := time.Date(2019, 8, 1, 12, 0, 0, 0, time.UTC)
	for _, atEnd := range []bool{false, true} {
		b := mediatest.MP4{Created: created, Seconds: 10, Width: 1920, Height: 1080, Rotate: 90, Frames: 300,
			MoovAtEnd: atEnd, PayloadPadding: 4 << 20}.Bytes()
		r := &countingReader{r: bytes.NewReader(b)}
		m, err := (&media.Extractor{}).Extract(context.Background(), r, int64(len(b)), "video/mp4", "v.mp4")
		if err != nil {
			t.Fatal(err)
		}
		v := m.Video
		if v == nil || m.Image != nil {
			t.Fatalf("media = %+v", m)
		}
		if v.Width != 1920 || v.Height != 1080 || v.Duration != 10 || v.Rotate != 90 ||
			v.VideoCodec != "h264" || v.AudioCodec != "aac" || v.VideoFrameRate != 30 || v.Bitrate == 0 {
			t.Errorf("moov at end %v: video = %+v", atEnd, v)
		}
		if !m.Date.Equal(created) {
			t.Errorf("date = %v, want %v", m.Date, created)
		}
		if r.bytes > 64<<10 {
			t.Errorf("read %d bytes of a %d byte file", r.bytes, len(b))
		}
	}
}

func TestNotMediaAndMalformed(t *testing.T) {
	e := &media.Extractor{}
	text := []byte("hello, drive")
	if _, err := e.Extract(context.Background(), bytes.NewReader(text), int64(len(text)), "text/plain", "a.txt"); !errors.Is(err, media.ErrNotMedia) {
		t.Errorf("text: err = %v", err)
	}
	// Truncated files of every kind give an error or partial data, never a panic.
	for _, b := range [][]byte{photo(), mediatest.MP4{Seconds: 3, Width: 2, Height: 2}.Bytes()} {
		for n := 0; n < len(b); n += 7 {
			_, _ = e.Extract(context.Background(), bytes.NewReader(b[:n]), int64(n), "", "")
		}
	}
}
