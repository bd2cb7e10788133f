package thumbnail_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"runtime"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/thumbnail"
)

func decodeJPEG(t *testing.T, b []byte) image.Image {
	t.Helper()
	if len(b) < 3 || string(b[:3]) != "\xFF\xD8\xFF" {
		t.Fatalf("thumbnail is not a JPEG: % x", b[:min(len(b), 8)])
	}
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding the thumbnail: %v", err)
	}
	return m
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRenderFormats renders one image of each supported format and checks
// the JPEG's size and, for the generated pictures, its colours.
func TestRenderFormats(t *testing.T) {
	pic := quadrants(80, 40, red, green, blue, yellow)
	// Transparency is flattened onto white.
	alpha := quadrants(80, 40, red, clear, blue, yellow)
	tests := []struct {
		name         string
		src          []byte
		box          string
		wantW, wantH int
		colors       []color.Color // quadrants, when checked
	}{
		{"jpeg", encodeJPEG(t, pic), "32", 32, 16, []color.Color{red, green, blue, yellow}},
		{"png", encodePNG(t, pic), "32", 32, 16, []color.Color{red, green, blue, yellow}},
		{"png with alpha", encodePNG(t, alpha), "32", 32, 16, []color.Color{red, white, blue, yellow}},
		{"gif", encodeGIF(t, pic), "32", 32, 16, []color.Color{red, green, blue, yellow}},
		{"bmp", encodeBMP(t, pic), "32", 32, 16, []color.Color{red, green, blue, yellow}},
		{"tiff", encodeTIFF(t, pic), "32", 32, 16, []color.Color{red, green, blue, yellow}},
		{"webp lossy", readFile(t, "testdata/blue-purple-pink.lossy.webp"), "32", 32, 21, nil},
		{"webp lossless with alpha", readFile(t, "testdata/gopher-doc.with-alpha.lossless.webp"), "32", 24, 32, nil},
		{"never upscaled", encodePNG(t, pic), "1600", 80, 40, []color.Color{red, green, blue, yellow}},
		{"clamped to 1600", encodePNG(t, pic), "100000", 80, 40, nil},
		{"width,height box", encodePNG(t, pic), "40,10", 20, 10, nil},
		{"portrait in a wide box", encodePNG(t, quadrants(40, 80, red, green, blue, yellow)), "100,20", 10, 20, nil},
		{"one pixel high", encodePNG(t, quadrants(400, 2, red, red, red, red)), "10", 10, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box, err := thumbnail.ParseViewBox(tt.box)
			if err != nil {
				t.Fatal(err)
			}
			out, err := thumbnail.Render(tt.src, box, thumbnail.Limits{})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			m := decodeJPEG(t, out)
			if b := m.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Fatalf("thumbnail is %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			if tt.colors != nil {
				checkQuadrants(t, tt.name, m, tt.colors[0], tt.colors[1], tt.colors[2], tt.colors[3])
			}
		})
	}
}

// TestRenderOrientation stores, for each EXIF orientation, the picture
// that the orientation turns into the upright one (red top left, green top
// right, blue bottom left, yellow bottom right, 80×40), and checks that
// the thumbnail is upright. The stored layouts are written out by hand
// from the EXIF definitions, independently of the code under test.
func TestRenderOrientation(t *testing.T) {
	R, G, B, Y := red, green, blue, yellow
	tests := []struct {
		o              uint16
		w, h           int
		tl, tr, bl, br color.Color
	}{
		{1, 80, 40, R, G, B, Y},
		{2, 80, 40, G, R, Y, B}, // mirrored left-right
		{3, 80, 40, Y, B, G, R}, // upside down
		{4, 80, 40, B, Y, R, G}, // mirrored top-bottom
		{5, 40, 80, R, B, G, Y}, // transposed
		{6, 40, 80, G, Y, R, B}, // display turns it 90° clockwise
		{7, 40, 80, Y, G, B, R}, // transversed
		{8, 40, 80, B, R, Y, G}, // display turns it 90° counter-clockwise
	}
	for _, tt := range tests {
		stored := encodeJPEG(t, quadrants(tt.w, tt.h, tt.tl, tt.tr, tt.bl, tt.br))
		for _, order := range []string{"MM", "II"} {
			src := withExif(stored, order, tt.o)
			out, err := thumbnail.Render(src, thumbnail.Box{W: 40, H: 40}, thumbnail.Limits{})
			if err != nil {
				t.Fatalf("orientation %d: Render: %v", tt.o, err)
			}
			m := decodeJPEG(t, out)
			if b := m.Bounds(); b.Dx() != 40 || b.Dy() != 20 {
				t.Errorf("orientation %d (%s): thumbnail is %dx%d, want 40x20", tt.o, order, b.Dx(), b.Dy())
				continue
			}
			checkQuadrants(t, "orientation "+string(rune('0'+tt.o))+" "+order, m, R, G, B, Y)
		}
	}
}

func TestRenderUnsupported(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  []byte
	}{
		{"text", []byte("hello, world\n")},
		{"pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")},
		{"empty", nil},
		{"truncated png", encodePNG(t, quadrants(8, 8, red, red, red, red))[:30]},
		{"corrupt jpeg", []byte("\xFF\xD8\xFF\xE0 not really a jpeg")},
	} {
		_, err := thumbnail.Render(tt.src, thumbnail.Box{W: 32, H: 32}, thumbnail.Limits{})
		if !drive.Is(drive.Invalid, err) {
			t.Errorf("Render(%s) error = %v, want kind Invalid", tt.name, err)
		}
	}
}

// TestRenderBomb checks that images declaring huge dimensions are refused
// from their header, without allocating their pixels.
func TestRenderBomb(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  []byte
		lim  thumbnail.Limits
	}{
		{"png 100000x100000", pngBomb(100000, 100000), thumbnail.Limits{}},
		{"png 8000x8000 over 50 MP", pngBomb(8000, 8000), thumbnail.Limits{}},
		{"png over the decode budget", pngBomb(2000, 2000), thumbnail.Limits{MaxDecodeBytes: 1 << 20}},
		{"gif over a pixel limit", encodeGIF(t, quadrants(64, 64, red, red, red, red)), thumbnail.Limits{MaxPixels: 1000}},
		{"source over the size limit", encodePNG(t, quadrants(64, 64, red, red, red, red)), thumbnail.Limits{MaxSourceBytes: 10}},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := thumbnail.Render(tt.src, thumbnail.Box{W: 256, H: 256}, tt.lim)
		runtime.ReadMemStats(&after)
		if !drive.Is(drive.Invalid, err) {
			t.Errorf("Render(%s) error = %v, want kind Invalid", tt.name, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
			t.Errorf("Render(%s) allocated %d bytes; want it refused before decoding", tt.name, grew)
		}
	}
}

func TestParseViewBox(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    thumbnail.Box
		wantErr bool
	}{
		{"256", thumbnail.Box{W: 256, H: 256}, false},
		{"1600", thumbnail.Box{W: 1600, H: 1600}, false},
		{"1601", thumbnail.Box{W: 1600, H: 1600}, false},
		{"640,480", thumbnail.Box{W: 640, H: 480}, false},
		{" 10 , 20 ", thumbnail.Box{W: 10, H: 20}, false},
		{"1", thumbnail.Box{W: 1, H: 1}, false},
		{"0", thumbnail.Box{}, true},
		{"-5", thumbnail.Box{}, true},
		{"", thumbnail.Box{}, true},
		{"abc", thumbnail.Box{}, true},
		{"10,", thumbnail.Box{}, true},
		{"10,0", thumbnail.Box{}, true},
		{"99999999999999999999", thumbnail.Box{}, true},
	} {
		got, err := thumbnail.ParseViewBox(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseViewBox(%q) = %v, %v; want %v, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !drive.Is(drive.Invalid, err) {
			t.Errorf("ParseViewBox(%q) error kind = %v, want Invalid", tt.in, drive.KindOf(err))
		}
	}
}

func TestFit(t *testing.T) {
	for _, tt := range []struct {
		w, h   int
		box    thumbnail.Box
		ww, wh int
	}{
		{100, 50, thumbnail.Box{W: 10, H: 10}, 10, 5},
		{50, 100, thumbnail.Box{W: 10, H: 10}, 5, 10},
		{10, 10, thumbnail.Box{W: 100, H: 100}, 10, 10},
		{3, 1000, thumbnail.Box{W: 10, H: 10}, 1, 10},
		{150, 100, thumbnail.Box{W: 32, H: 32}, 32, 21},
		{100, 100, thumbnail.Box{W: 40, H: 10}, 10, 10},
	} {
		if gw, gh := thumbnail.Fit(tt.w, tt.h, tt.box); gw != tt.ww || gh != tt.wh {
			t.Errorf("Fit(%d, %d, %v) = %d, %d; want %d, %d", tt.w, tt.h, tt.box, gw, gh, tt.ww, tt.wh)
		}
	}
}
