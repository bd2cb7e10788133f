package thumbnail_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// Test images are generated here, at test time; testdata holds only what
// the standard library and x/image cannot encode: the WebP files (from
// golang.org/x/image's testdata, BSD licence), and a 1200×900 gradient
// made here as progressive JPEGs (4:2:0 and 4:4:4), an RGB JPEG (cjpeg
// -progressive -sample 2x2|1x1, cjpeg -rgb) and an interlaced PNG
// (optipng -i1).

var (
	red    = color.RGBA{255, 0, 0, 255}
	green  = color.RGBA{0, 255, 0, 255}
	blue   = color.RGBA{0, 0, 255, 255}
	yellow = color.RGBA{255, 255, 0, 255}
	white  = color.RGBA{255, 255, 255, 255}
	clear  = color.RGBA{0, 0, 0, 0}
)

// quadrants returns a w×h image whose four quadrants have the given
// colours: top left, top right, bottom left, bottom right.
func quadrants(w, h int, tl, tr, bl, br color.Color) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := tl
			switch {
			case x >= w/2 && y < h/2:
				c = tr
			case x < w/2 && y >= h/2:
				c = bl
			case x >= w/2 && y >= h/2:
				c = br
			}
			m.Set(x, y, c)
		}
	}
	return m
}

func encodeJPEG(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeWith(t *testing.T, m image.Image, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t *testing.T, m image.Image) []byte {
	return encodeWith(t, m, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) })
}

func encodeGIF(t *testing.T, m image.Image) []byte {
	return encodeWith(t, m, func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) })
}

func encodeBMP(t *testing.T, m image.Image) []byte {
	return encodeWith(t, m, func(b *bytes.Buffer, m image.Image) error { return bmp.Encode(b, m) })
}

func encodeTIFF(t *testing.T, m image.Image) []byte {
	return encodeWith(t, m, func(b *bytes.Buffer, m image.Image) error {
		return tiff.Encode(b, m, &tiff.Options{Compression: tiff.Deflate})
	})
}

// tiffIFD returns a TIFF header and an IFD0 holding one orientation tag,
// in the given byte order ("II" or "MM").
func tiffIFD(order string, orientation uint16) []byte {
	var bo binary.AppendByteOrder = binary.BigEndian
	head := "MM\x00*"
	if order == "II" {
		bo, head = binary.LittleEndian, "II*\x00"
	}
	b := []byte(head)
	b = bo.AppendUint32(b, 8) // IFD0 offset
	b = bo.AppendUint16(b, 1) // one entry
	b = bo.AppendUint16(b, 0x0112)
	b = bo.AppendUint16(b, 3) // SHORT
	b = bo.AppendUint32(b, 1)
	b = bo.AppendUint16(b, orientation)
	b = bo.AppendUint16(b, 0) // padding of the inline value
	b = bo.AppendUint32(b, 0) // no next IFD
	return b
}

// withExif inserts an APP1 Exif segment with the orientation right after
// the SOI marker of a JPEG.
func withExif(jpg []byte, order string, orientation uint16) []byte {
	payload := append([]byte("Exif\x00\x00"), tiffIFD(order, orientation)...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngBomb returns the start of a PNG that declares w×h pixels: a valid
// signature and IHDR chunk (with its CRC), and nothing else.
func pngBomb(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, deflate, no filter, no interlace
	b = binary.BigEndian.AppendUint32(b, uint32(len(ihdr)-4))
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// near reports whether two colours differ by at most tol per channel.
func near(a, b color.Color, tol int) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	d := func(x, y uint32) bool {
		v := int(x>>8) - int(y>>8)
		return v <= tol && v >= -tol
	}
	return d(r1, r2) && d(g1, g2) && d(b1, b2)
}

// checkQuadrants checks the colours at the centres of the four quadrants
// of m.
func checkQuadrants(t *testing.T, name string, m image.Image, tl, tr, bl, br color.Color) {
	t.Helper()
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	for _, c := range []struct {
		where string
		x, y  int
		want  color.Color
	}{
		{"top left", w / 4, h / 4, tl},
		{"top right", 3 * w / 4, h / 4, tr},
		{"bottom left", w / 4, 3 * h / 4, bl},
		{"bottom right", 3 * w / 4, 3 * h / 4, br},
	} {
		if got := m.At(b.Min.X+c.x, b.Min.Y+c.y); !near(got, c.want, 60) {
			t.Errorf("%s: %s pixel = %v, want about %v", name, c.where, got, c.want)
		}
	}
}
