package thumbnail

import (
	"encoding/binary"
	"image"
	"image/color"
)

// Cost returns the bytes Render allocates to make a thumbnail of src
// fitting box, at most (besides src itself), computed from the image's
// header alone: the buffers the decoder of its format fills (the pixels
// in the decoded color model, and for example the coefficients of a
// progressive JPEG or the strip buffers of a TIFF), the scaling buffers
// for the box, the turned copy and the encoded JPEG. Render refuses an
// image whose cost exceeds Limits.MaxDecodeBytes, before decoding it. An
// image whose header cannot be read gives the same error Render gives.
func Cost(src []byte, box Box) (int64, error) {
	c, ok := sniff(src)
	if !ok {
		return 0, unsupported()
	}
	cfg, err := readConfig(c, src)
	if err != nil {
		return 0, err
	}
	return decodeCost(c.name, cfg, src) + scaleCost(cfg.Width, cfg.Height, box, Orientation(src)), nil
}

// decodeCost is what decoding src, whose header says cfg, allocates.
func decodeCost(format string, cfg image.Config, src []byte) int64 {
	w, h := int64(cfg.Width), int64(cfg.Height)
	px := w * h
	pixels := px * bytesPerPixel(cfg.ColorModel)
	switch format {
	case "jpeg":
		return jpegCost(src, cfg)
	case "png":
		// An interlaced PNG is decoded pass by pass into images of their
		// own (together as large as the result), then merged; rows
		// are decoded through two row buffers of up to 8 B/px.
		if len(src) > 28 && src[28] == 1 {
			pixels *= 2
		}
		return pixels + 16*w
	case "tiff":
		// The decoder reads each strip or tile into a buffer that grows
		// by doubling to its decompressed size, which allocates up to four
		// times the raw samples, never more than the decoded pixels.
		return 5 * pixels
	case "webp":
		switch cfg.ColorModel {
		case color.YCbCrModel:
			return 2 * px // 4:2:0 planes, padded to macroblocks
		default:
			// Lossless (NRGBA: the pixels and a copy for the color
			// indexing transform), or lossy with a lossless alpha plane.
			return 8 * px
		}
	}
	// GIF (the first frame, no larger than the screen) and BMP decode
	// straight into the image, row by row.
	return pixels + 8*w
}

// jpegCost is what image/jpeg allocates for src: the planes of every
// component padded to whole MCUs, for a progressive image its coefficient
// blocks (256 bytes per 8×8 block of every component), for CMYK and RGB
// images the converted copy.
func jpegCost(src []byte, cfg image.Config) int64 {
	w, h := int64(cfg.Width), int64(cfg.Height)
	l, ok := jpegHeader(src)
	if !ok {
		// Not understood: assume the worst the decoder allows.
		l = jpegLayout{progressive: true, rgb: true, comps: [][2]int64{{1, 1}, {1, 1}, {1, 1}}}
		if cfg.ColorModel == color.GrayModel {
			l.comps = l.comps[:1]
		} else if cfg.ColorModel == color.CMYKModel {
			l.comps = append(l.comps, [2]int64{1, 1})
		}
	}
	if len(l.comps) == 1 {
		l.comps[0] = [2]int64{1, 1} // a single component is not subsampled
	}
	var hmax, vmax int64 = 1, 1
	for _, c := range l.comps {
		hmax, vmax = max(hmax, c[0]), max(vmax, c[1])
	}
	mxx, myy := (w+8*hmax-1)/(8*hmax), (h+8*vmax-1)/(8*vmax)
	var planes, blocks int64
	for _, c := range l.comps {
		b := c[0] * mxx * c[1] * myy
		blocks += b
		planes += 64 * b
	}
	cost := planes
	if l.progressive {
		cost += 256 * blocks
	}
	if len(l.comps) == 4 || (len(l.comps) == 3 && l.rgb) {
		cost += 4 * w * h
	}
	return cost
}

// jpegLayout is what jpegHeader reads: each component's sampling factors
// (h, v), whether the image is progressive, and whether it may be stored
// as RGB (component ids R, G, B, or an Adobe segment with transform 0).
type jpegLayout struct {
	comps       [][2]int64
	progressive bool
	rgb         bool
}

// jpegHeader reads the markers of a JPEG up to its first scan.
func jpegHeader(b []byte) (jpegLayout, bool) {
	var l jpegLayout
	found := false
	i := 2 // after SOI
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return l, false
		}
		m := b[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		if m == 0x01 || (m >= 0xD0 && m <= 0xD8) { // no length
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return l, false
		}
		seg := b[i+4 : i+2+n]
		switch {
		case m == 0xDA, m == 0xD9: // start of scan, end of image
			return l, found
		case m == 0xEE && len(seg) >= 12 && string(seg[:5]) == "Adobe" && seg[11] == 0:
			l.rgb = true
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			if found || len(seg) < 6 {
				return l, false
			}
			nc := int(seg[5])
			if nc < 1 || nc > 4 || len(seg) < 6+3*nc {
				return l, false
			}
			l.progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
			ids := ""
			for k := 0; k < nc; k++ {
				c := seg[6+3*k:]
				hv := [2]int64{int64(c[1] >> 4), int64(c[1] & 0x0F)}
				if hv[0] < 1 || hv[0] > 4 || hv[1] < 1 || hv[1] > 4 {
					return l, false
				}
				l.comps = append(l.comps, hv)
				ids += string(c[0])
			}
			if ids == "RGB" {
				l.rgb = true
			}
			found = true
		}
		i += 2 + n
	}
	return l, false
}

// scaleCost is what Scale and the JPEG encoder allocate for a w×h image
// and box: CatmullRom scaling keeps a temporary of 32 bytes (four
// float64) per pixel of the scaled width times the source height and its
// kernel weights, then the RGBA result, a turned copy of it, and the
// encoded JPEG.
func scaleCost(w, h int, box Box, orientation int) int64 {
	uw, uh := w, h
	if orientation >= 5 {
		uw, uh = h, w
	}
	tw, th := Fit(uw, uh, box)
	if orientation >= 5 {
		tw, th = th, tw
	}
	out := int64(tw) * int64(th)
	cost := 4*out + out + 64<<10 // result, encoded JPEG, encoder buffers
	if tw != w || th != h {
		// The temporary, and the kernel weights: about four source
		// pixels of 16 bytes for every source row and column.
		cost += 32*int64(tw)*int64(h) + 64*int64(w+h)
	}
	if orientation > 1 && orientation <= 8 {
		cost += 4 * out
	}
	return cost
}
