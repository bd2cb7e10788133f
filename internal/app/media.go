package app

import (
	"os/exec"

	"github.com/clouddrive/clouddrive/internal/media"
)

// mediaExtractor reads photo and video metadata on upload; ffprobe is used
// for containers Go does not read when it is on PATH.
func (cfg Config) mediaExtractor() *media.Extractor {
	probe, _ := exec.LookPath("ffprobe")
	return &media.Extractor{KeepGPS: cfg.KeepGPS, FFprobe: probe, Logger: cfg.Logger}
}

// ffmpegPath is ffmpeg on PATH, which renders video thumbnails, or "".
func ffmpegPath() string {
	p, _ := exec.LookPath("ffmpeg")
	return p
}
