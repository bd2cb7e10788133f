package thumbnail_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/media/mediatest"
)

func testMP4() []byte {
	return mediatest.MP4{Created: time.Date(2021, 3, 1, 8, 0, 0, 0, time.UTC), Seconds: 2, Width: 320, Height: 240, Frames: 50}.Bytes()
}

// TestVideoThumbnailWithoutFFmpeg: with no ffmpeg on PATH a video's
// viewBox answers 404 with the reason, logged once however often asked.
func TestVideoThumbnailWithoutFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	s := newServer(t)
	var logs bytes.Buffer
	s.App.API.Thumbs.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	n := s.upload("clip.mp4", testMP4())
	for range 2 {
		code, _, body := s.get(http.MethodGet, n.ID, "viewBox=64")
		if code != http.StatusNotFound || !strings.Contains(string(body), "no thumbnail for this video: ffmpeg is not installed on the server") {
			t.Fatalf("viewBox of a video without ffmpeg = %d %s, want 404 naming ffmpeg", code, body)
		}
	}
	if c := strings.Count(logs.String(), "ffmpeg"); c != 1 {
		t.Errorf("ffmpeg missing logged %d times, want once:\n%s", c, logs.String())
	}
	// Not a video at all is still a 400.
	txt := s.upload("notes.txt", []byte("plain text"))
	if code, _, body := s.get(http.MethodGet, txt.ID, "viewBox=64"); code != http.StatusBadRequest {
		t.Errorf("viewBox of a text file = %d %s, want 400", code, body)
	}
}

// TestVideoThumbnailFrame stands in for ffmpeg with a script that prints
// a PNG: the frame is scaled into the box as a JPEG and cached like an
// image's thumbnail.
func TestVideoThumbnailFrame(t *testing.T) {
	dir := t.TempDir()
	frame := filepath.Join(dir, "frame.png")
	if err := os.WriteFile(frame, encodePNG(t, quadrants(80, 40, red, green, blue, yellow)), 0o600); err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(dir, "ffmpeg")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\ncat >/dev/null\ncat '"+frame+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := newServer(t)
	s.App.API.Thumbs.FFmpeg = fake
	n := s.upload("clip.mp4", testMP4())
	img := s.thumb(n.ID, "40")
	if b := img.Bounds(); b.Dx() != 40 || b.Dy() != 20 {
		t.Errorf("video thumbnail is %dx%d, want 40x20", b.Dx(), b.Dy())
	}
	s.thumb(n.ID, "40")
	if g := s.generated(); g != 1 {
		t.Errorf("rendered %d times, want once (cached)", g)
	}
}

// TestVideoThumbnailFFmpeg uses the real ffmpeg when it is installed (CI
// does not install it): a frame of a video it made itself.
func TestVideoThumbnailFFmpeg(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg is not on PATH; the video frame path is covered by TestVideoThumbnailFrame with a stand-in")
	}
	out := filepath.Join(t.TempDir(), "clip.mp4")
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25",
		"-pix_fmt", "yuv420p", "-movflags", "+faststart", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make a test video here: %v: %s", err, b)
	}
	video, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t)
	n := s.upload("clip.mp4", video)
	img := s.thumb(n.ID, "64")
	if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
		t.Errorf("video thumbnail is %dx%d, want 64x48", b.Dx(), b.Dy())
	}
}
