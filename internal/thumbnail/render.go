package thumbnail

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// MaxSide is the largest thumbnail side; larger view boxes are clamped.
const MaxSide = 1600

// Quality is the JPEG quality of thumbnails.
const Quality = 85

// Box is the rectangle a thumbnail must fit in, 1..MaxSide on each side.
type Box struct{ W, H int }

// ParseViewBox parses the viewBox parameter: "N" (fit N×N, as acd_cli
// sends it) or "W,H" (the form ACD's documentation also allowed). Sides
// above MaxSide are clamped; zero, negative or malformed values give an
// Invalid error.
func ParseViewBox(s string) (Box, error) {
	bad := &drive.Error{Op: "thumbnail.ParseViewBox", Kind: drive.Invalid, Param: "viewBox",
		Message: "viewBox must be a positive size N or W,H"}
	ws, hs, two := strings.Cut(strings.TrimSpace(s), ",")
	w, err := strconv.Atoi(strings.TrimSpace(ws))
	if err != nil || w < 1 {
		return Box{}, bad
	}
	h := w
	if two {
		if h, err = strconv.Atoi(strings.TrimSpace(hs)); err != nil || h < 1 {
			return Box{}, bad
		}
	}
	return Box{W: min(w, MaxSide), H: min(h, MaxSide)}, nil
}

// Limits bound the memory one thumbnail may take. Zero fields take the
// defaults.
type Limits struct {
	// MaxSourceBytes is the largest source file read (default 64 MiB).
	MaxSourceBytes int64
	// MaxPixels is the largest width×height decoded (default 50
	// megapixels).
	MaxPixels int64
	// MaxDecodeBytes bounds the memory decoding and scaling take, as Cost
	// computes it from the header: the decoder's buffers for the format
	// and color model, and the scaling buffers for the box (default 256
	// MiB).
	MaxDecodeBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxSourceBytes <= 0 {
		l.MaxSourceBytes = 64 << 20
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = 50_000_000
	}
	if l.MaxDecodeBytes <= 0 {
		l.MaxDecodeBytes = 256 << 20
	}
	return l
}

// codec is one supported source format. Codecs are called directly, not
// through the image package's global format registry.
type codec struct {
	name   string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// sniff returns the codec of the image whose first bytes are b. It looks
// at the first sniffLen bytes only (converting all of b to a string would
// copy the whole source).
func sniff(b []byte) (codec, bool) {
	s := string(b[:min(len(b), sniffLen)])
	switch {
	case strings.HasPrefix(s, "\xFF\xD8\xFF"):
		return codec{"jpeg", jpeg.DecodeConfig, jpeg.Decode}, true
	case strings.HasPrefix(s, "\x89PNG\r\n\x1a\n"):
		return codec{"png", png.DecodeConfig, png.Decode}, true
	case strings.HasPrefix(s, "GIF87a"), strings.HasPrefix(s, "GIF89a"):
		return codec{"gif", gif.DecodeConfig, gif.Decode}, true
	case strings.HasPrefix(s, "BM"):
		return codec{"bmp", bmp.DecodeConfig, bmp.Decode}, true
	case strings.HasPrefix(s, "II*\x00"), strings.HasPrefix(s, "MM\x00*"):
		return codec{"tiff", tiff.DecodeConfig, tiff.Decode}, true
	case len(s) >= 12 && s[:4] == "RIFF" && s[8:12] == "WEBP":
		return codec{"webp", webp.DecodeConfig, webp.Decode}, true
	}
	return codec{}, false
}

// readConfig reads the header of src.
func readConfig(c codec, src []byte) (image.Config, error) {
	cfg, err := c.config(bytes.NewReader(src))
	if err != nil {
		return cfg, &drive.Error{Op: "thumbnail.Render", Kind: drive.Invalid, Param: "viewBox",
			Message: "the " + c.name + " image cannot be decoded", Err: err}
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return cfg, unsupported()
	}
	return cfg, nil
}

// sniffLen is how many leading bytes sniff needs.
const sniffLen = 12

func unsupported() error {
	return &drive.Error{Op: "thumbnail.Render", Kind: drive.Invalid, Param: "viewBox",
		Message: "thumbnails are available for JPEG, PNG, GIF, BMP, TIFF and WebP images only"}
}

func tooLarge(what string) error {
	return &drive.Error{Op: "thumbnail.Render", Kind: drive.Invalid, Param: "viewBox",
		Message: "the image is too large to make a thumbnail of (" + what + ")"}
}

// bytesPerPixel estimates the memory per pixel of a decoded image of
// color model m.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.YCbCrModel:
		return 3 // 4:4:4 at worst
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
}

// Render decodes the image src and returns a JPEG of it scaled to fit
// box, never upscaled, turned upright by its EXIF orientation, with
// transparency flattened onto white. An image in another format gives an
// Invalid error, as does one whose declared dimensions or Cost exceed lim,
// which is refused before any pixel is decoded.
func Render(src []byte, box Box, lim Limits) ([]byte, error) {
	lim = lim.withDefaults()
	c, ok := sniff(src)
	if !ok {
		return nil, unsupported()
	}
	if int64(len(src)) > lim.MaxSourceBytes {
		return nil, tooLarge("file size")
	}
	cfg, err := readConfig(c, src)
	if err != nil {
		return nil, err
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if px > lim.MaxPixels {
		return nil, tooLarge(strconv.Itoa(cfg.Width) + "×" + strconv.Itoa(cfg.Height) + " pixels")
	}
	orientation := Orientation(src)
	if decodeCost(c.name, cfg, src)+scaleCost(cfg.Width, cfg.Height, box, orientation) > lim.MaxDecodeBytes {
		return nil, tooLarge("memory needed to decode and scale it")
	}
	img, err := c.decode(bytes.NewReader(src))
	if err != nil {
		return nil, &drive.Error{Op: "thumbnail.Render", Kind: drive.Invalid, Param: "viewBox",
			Message: "the " + c.name + " image cannot be decoded", Err: err}
	}
	out := Scale(img, box, orientation)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: Quality}); err != nil {
		return nil, drive.Wrap("thumbnail.Render", err)
	}
	return buf.Bytes(), nil
}

// Fit returns the size of a w×h image scaled to fit box, keeping the
// aspect ratio, at least 1×1, never larger than w×h.
func Fit(w, h int, box Box) (int, int) {
	if w <= box.W && h <= box.H {
		return w, h
	}
	// Compare w/h with box.W/box.H without floating point.
	if int64(w)*int64(box.H) >= int64(h)*int64(box.W) {
		return box.W, max(1, int((int64(h)*int64(box.W)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(box.H)+int64(h)/2)/int64(h))), box.H
}

// Scale returns img scaled to fit box (CatmullRom), flattened onto white
// and turned upright by the EXIF orientation (1..8; others are 1).
func Scale(img image.Image, box Box, orientation int) *image.RGBA {
	if orientation < 1 || orientation > 8 {
		orientation = 1
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	swap := orientation >= 5
	if swap {
		w, h = h, w // upright dimensions
	}
	tw, th := Fit(w, h, box)
	if swap {
		tw, th = th, tw // dimensions before turning
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	if tw == b.Dx() && th == b.Dy() {
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	} else {
		draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	}
	return orient(dst, orientation)
}

// orient applies an EXIF orientation to src: the result is the image as
// it should be displayed.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o == 1 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			var sx, sy int
			switch o {
			case 2: // mirrored horizontally
				sx, sy = w-1-x, y
			case 3: // turned 180°
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored vertically
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // needs a 90° clockwise turn
				sx, sy = y, h-1-x
			case 7: // transversed
				sx, sy = w-1-y, h-1-x
			case 8: // needs a 90° counter-clockwise turn
				sx, sy = w-1-y, x
			}
			si, di := src.PixOffset(sx, sy), dst.PixOffset(x, y)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}
