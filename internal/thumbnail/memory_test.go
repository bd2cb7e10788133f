package thumbnail_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/tiff"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/thumbnail"
)

// gradient is a w×h test picture that compresses well.
func gradient(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return m
}

// TestCostCoversRender: for every format and decoded color model, what
// Render allocates stays within Cost, the figure checked against
// MaxDecodeBytes, and Cost is not far above it either.
func TestCostCoversRender(t *testing.T) {
	if testing.Short() {
		t.Skip("renders about twenty 1-megapixel images")
	}
	pic := gradient(1200, 900)
	gray := image.NewGray(pic.Rect)
	pal := image.NewPaletted(pic.Rect, color.Palette{color.Black, color.White, red, green, blue})
	for i := range gray.Pix {
		gray.Pix[i], pal.Pix[i] = pic.Pix[4*i], uint8(i%5)
	}
	var g bytes.Buffer
	if err := gif.Encode(&g, pal, nil); err != nil {
		t.Fatal(err)
	}
	srcs := []struct {
		name string
		src  []byte
	}{
		{"jpeg 4:2:0", encodeJPEG(t, pic)},
		{"jpeg gray", encodeJPEG(t, gray)},
		{"jpeg progressive 4:2:0", readFile(t, "testdata/progressive-420.jpg")},
		{"jpeg progressive 4:4:4", readFile(t, "testdata/progressive-444.jpg")},
		{"jpeg rgb", readFile(t, "testdata/rgb.jpg")},
		{"png rgba", encodePNG(t, pic)},
		{"png gray", encodePNG(t, gray)},
		{"png paletted", encodePNG(t, pal)},
		{"png interlaced", readFile(t, "testdata/interlaced.png")},
		{"gif", g.Bytes()},
		{"bmp", encodeBMP(t, pic)},
		{"tiff", encodeTIFF(t, pic)},
		{"tiff uncompressed", encodeWith(t, pic, func(b *bytes.Buffer, m image.Image) error {
			return tiff.Encode(b, m, &tiff.Options{Compression: tiff.Uncompressed})
		})},
		{"jpeg turned", withExif(encodeJPEG(t, pic), "II", 6)},
		{"webp lossy", readFile(t, "testdata/blue-purple-pink.lossy.webp")},
		{"webp lossless", readFile(t, "testdata/gopher-doc.with-alpha.lossless.webp")},
	}
	for _, s := range srcs {
		for _, box := range []thumbnail.Box{{W: 256, H: 256}, {W: 1600, H: 1600}} {
			cost, err := thumbnail.Cost(s.src, box)
			if err != nil {
				t.Fatalf("%s: Cost: %v", s.name, err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err = thumbnail.Render(s.src, box, thumbnail.Limits{})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("%s: Render: %v", s.name, err)
			}
			alloc := int64(after.TotalAlloc - before.TotalAlloc)
			const slack = 256 << 10 // decoder tables, Huffman trees, small buffers
			if alloc > cost+slack || cost > 4*alloc+slack {
				t.Errorf("%s in %dx%d: Render allocated %d bytes, Cost says %d", s.name, box.W, box.H, alloc, cost)
			}
		}
	}
}

// withJPEGSize rewrites the dimensions in a JPEG's frame header.
func withJPEGSize(t *testing.T, b []byte, w, h int) []byte {
	t.Helper()
	b = bytes.Clone(b)
	for i := 2; i+9 < len(b); {
		m, n := b[i+1], int(binary.BigEndian.Uint16(b[i+2:]))
		if m == 0xC0 || m == 0xC1 || m == 0xC2 {
			binary.BigEndian.PutUint16(b[i+5:], uint16(h))
			binary.BigEndian.PutUint16(b[i+7:], uint16(w))
			return b
		}
		i += 2 + n
	}
	t.Fatal("no frame header")
	return nil
}

// withTIFFSize rewrites ImageWidth and ImageLength in a little-endian
// TIFF's first IFD.
func withTIFFSize(t *testing.T, b []byte, w, h int) []byte {
	t.Helper()
	b = bytes.Clone(b)
	le := binary.LittleEndian
	if string(b[:4]) != "II*\x00" {
		t.Fatal("not a little-endian TIFF")
	}
	ifd := int(le.Uint32(b[4:]))
	n := int(le.Uint16(b[ifd:]))
	for k := 0; k < n; k++ {
		e := b[ifd+2+12*k:]
		v := 0
		switch le.Uint16(e) {
		case 256:
			v = w
		case 257:
			v = h
		default:
			continue
		}
		if le.Uint16(e[2:]) == 3 { // SHORT
			le.PutUint16(e[8:], uint16(v))
		} else {
			le.PutUint32(e[8:], uint32(v))
		}
	}
	return b
}

// TestRenderRefusesByCost: the refusal threshold follows the real memory
// of each format and box, read from the header alone: images under the
// 50-megapixel limit whose decoder buffers plus scaling buffers exceed 256
// MiB are refused before decoding (they were decoded before, their pixels
// counted at a flat 3 or 4 bytes each); similar ones just under the
// threshold are not refused for their size.
func TestRenderRefusesByCost(t *testing.T) {
	// An 8-bit RGBA PNG of 7000×7000: 196 MB of pixels and row buffers;
	// scaling to 1600×1600 keeps 32 B for each of 1600×7000 samples and
	// the kernel weights, then the 1600×1600 result, its JPEG and the
	// encoder's buffers.
	want := int64(4*7000*7000+16*7000) + 32*1600*7000 + 64*(7000+7000) + 5*1600*1600 + 64<<10
	if got, err := thumbnail.Cost(pngBomb(7000, 7000), thumbnail.Box{W: 1600, H: 1600}); err != nil || got != want {
		t.Errorf("Cost(7000×7000 RGBA PNG, 1600) = %d, %v; want %d", got, err, want)
	}
	tif := encodeTIFF(t, quadrants(16, 16, red, green, blue, yellow))
	prog := readFile(t, "testdata/progressive-420.jpg")
	for _, tt := range []struct {
		name    string
		src     []byte
		box     int
		refused bool
	}{
		{"RGBA PNG 7000×7000 in 1600", pngBomb(7000, 7000), 1600, true},
		{"RGBA PNG 7000×7000 in 64", pngBomb(7000, 7000), 64, false},
		{"RGBA TIFF 4000×4000 (strip buffers)", withTIFFSize(t, tif, 4000, 4000), 64, true},
		{"RGBA TIFF 3500×3500", withTIFFSize(t, tif, 3500, 3500), 64, false},
		{"progressive 4:2:0 JPEG 6000×6000 (coefficients)", withJPEGSize(t, prog, 6000, 6000), 64, true},
		{"progressive 4:2:0 JPEG 5000×5000", withJPEGSize(t, prog, 5000, 5000), 64, false},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := thumbnail.Render(tt.src, thumbnail.Box{W: tt.box, H: tt.box}, thumbnail.Limits{})
		runtime.ReadMemStats(&after)
		if !drive.Is(drive.Invalid, err) {
			t.Errorf("%s: Render error = %v, want kind Invalid", tt.name, err)
			continue
		}
		refused := strings.Contains(drive.AsError(err).Message, "too large")
		if refused != tt.refused {
			t.Errorf("%s: Render error %q; want refused for its size: %t", tt.name, drive.AsError(err).Message, tt.refused)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; refused && grew > 1<<20 {
			t.Errorf("%s: refused after allocating %d bytes; want it refused from the header", tt.name, grew)
		}
	}
	// The headers say the same through Cost.
	if c, _ := thumbnail.Cost(withJPEGSize(t, prog, 6000, 6000), thumbnail.Box{W: 64, H: 64}); c <= 256<<20 {
		t.Errorf("Cost(progressive 6000×6000) = %d, want over 256 MiB", c)
	}
}
