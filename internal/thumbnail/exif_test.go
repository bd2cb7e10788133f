package thumbnail_test

import (
	"image"
	"testing"

	"github.com/clouddrive/clouddrive/internal/thumbnail"
)

func TestOrientation(t *testing.T) {
	plain := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 8, 8)))
	tests := []struct {
		name string
		in   []byte
		want int
	}{
		{"JPEG without Exif", plain, 1},
		{"JPEG big-endian 6", withExif(plain, "MM", 6), 6},
		{"JPEG little-endian 8", withExif(plain, "II", 8), 8},
		{"JPEG orientation 3", withExif(plain, "MM", 3), 3},
		{"JPEG out of range", withExif(plain, "II", 9), 1},
		{"JPEG zero", withExif(plain, "II", 0), 1},
		{"TIFF big-endian 5", tiffIFD("MM", 5), 5},
		{"TIFF little-endian 7", tiffIFD("II", 7), 7},
		{"truncated Exif", withExif(plain, "MM", 6)[:20], 1},
		{"truncated TIFF", tiffIFD("II", 7)[:12], 1},
		{"PNG", []byte("\x89PNG\r\n\x1a\n"), 1},
		{"empty", nil, 1},
		{"SOI only", []byte{0xFF, 0xD8}, 1},
		{"bad segment length", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01}, 1},
	}
	for _, tt := range tests {
		if got := thumbnail.Orientation(tt.in); got != tt.want {
			t.Errorf("Orientation(%s) = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func FuzzOrientation(f *testing.F) {
	plain := []byte{0xFF, 0xD8, 0xFF, 0xD9}
	f.Add(withExif(plain, "MM", 6))
	f.Add(withExif(plain, "II", 8))
	f.Add(tiffIFD("II", 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := thumbnail.Orientation(b); o < 1 || o > 8 {
			t.Fatalf("Orientation = %d, want 1..8", o)
		}
	})
}
