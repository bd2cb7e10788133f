package media

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// maxSmallBox bounds the boxes read whole (mvhd, tkhd, mdhd, hdlr, the
// head of stsd and stsz); every other box is skipped by its size.
const maxSmallBox = 4096

// mp4Epoch is the zero of ISO media times: 1904-01-01 UTC.
var mp4Epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)

var errNotISO = errors.New("media: not an ISO media file with a movie header")

type boxReader struct {
	r     io.ReaderAt
	reads int
}

type box struct {
	typ        string
	start, end int64 // payload
}

// boxes lists the boxes in [off, end).
func (b *boxReader) boxes(off, end int64) ([]box, error) {
	var out []box
	for off+8 <= end {
		if b.reads++; b.reads > MaxBoxReads {
			return out, errors.New("media: too many boxes")
		}
		var h [16]byte
		n, err := b.r.ReadAt(h[:min(16, end-off)], off)
		if n < 8 {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return out, err
		}
		size := int64(binary.BigEndian.Uint32(h[:4]))
		typ := string(h[4:8])
		hdr := int64(8)
		switch size {
		case 0: // to the end
			size = end - off
		case 1:
			if n < 16 {
				return out, io.ErrUnexpectedEOF
			}
			size, hdr = int64(binary.BigEndian.Uint64(h[8:16])), 16
		}
		if size < hdr || off+size > end || size < 0 {
			return out, errors.New("media: malformed box " + typ)
		}
		out = append(out, box{typ: typ, start: off + hdr, end: off + size})
		off += size
	}
	return out, nil
}

// read returns the first up to maxSmallBox bytes of a box's payload.
func (b *boxReader) read(x box) ([]byte, error) {
	buf := make([]byte, min(x.end-x.start, maxSmallBox))
	n, err := b.r.ReadAt(buf, x.start)
	if n == len(buf) {
		err = nil
	}
	return buf[:n], err
}

func find(bs []box, typ string) (box, bool) {
	for _, b := range bs {
		if b.typ == typ {
			return b, true
		}
	}
	return box{}, false
}

// isoMedia reads an MP4/MOV file's movie and track headers.
func isoMedia(r io.ReaderAt, size int64) (drive.Media, error) {
	br := &boxReader{r: r}
	top, err := br.boxes(0, size)
	moov, ok := find(top, "moov")
	if !ok {
		if err == nil {
			err = errNotISO
		}
		return drive.Media{}, err
	}
	kids, err := br.boxes(moov.start, moov.end)
	if err != nil {
		return drive.Media{}, err
	}
	mvhd, ok := find(kids, "mvhd")
	if !ok {
		return drive.Media{}, errNotISO
	}
	p, err := br.read(mvhd)
	if err != nil {
		return drive.Media{}, err
	}
	v := &drive.VideoProps{}
	m := drive.Media{Video: v}
	created, scale, dur, ok := timesOf(p)
	if !ok {
		return drive.Media{}, errNotISO
	}
	if scale > 0 {
		v.Duration = math.Round(float64(dur)/float64(scale)*1000) / 1000
	}
	if created > 0 {
		m.Date = mp4Epoch.Add(time.Duration(created) * time.Second)
	}
	if v.Duration > 0 {
		v.Bitrate = int64(float64(size*8) / v.Duration)
	}
	hasVideo := false
	for _, t := range kids {
		if t.typ != "trak" {
			continue
		}
		if trackInto(br, t, v) {
			hasVideo = true
		}
	}
	if !hasVideo {
		// Audio only (an .m4a): no video properties.
		return drive.Media{Date: m.Date}, nil
	}
	return m, nil
}

// timesOf reads creation time, timescale and duration of an mvhd or mdhd
// payload (a full box: version, flags, then the fields).
func timesOf(p []byte) (created, scale, dur uint64, ok bool) {
	if len(p) < 4 {
		return 0, 0, 0, false
	}
	be := binary.BigEndian
	if p[0] == 1 {
		if len(p) < 32 {
			return 0, 0, 0, false
		}
		return be.Uint64(p[4:]), uint64(be.Uint32(p[20:])), be.Uint64(p[24:]), true
	}
	if len(p) < 20 {
		return 0, 0, 0, false
	}
	return uint64(be.Uint32(p[4:])), uint64(be.Uint32(p[12:])), uint64(be.Uint32(p[16:])), true
}

// trackInto reads one trak box into v; it reports whether it was the
// (first) video track.
func trackInto(br *boxReader, t box, v *drive.VideoProps) bool {
	kids, _ := br.boxes(t.start, t.end)
	mdia, ok := find(kids, "mdia")
	if !ok {
		return false
	}
	mk, _ := br.boxes(mdia.start, mdia.end)
	hdlr, ok := find(mk, "hdlr")
	if !ok {
		return false
	}
	hp, err := br.read(hdlr)
	if err != nil || len(hp) < 12 {
		return false
	}
	handler := string(hp[8:12])
	codec, samples := sampleInfo(br, mk)
	switch handler {
	case "soun":
		if v.AudioCodec == "" {
			v.AudioCodec = codecName(codec)
		}
		return false
	case "vide":
	default:
		return false
	}
	if v.VideoCodec != "" {
		return true // a second video track: keep the first
	}
	v.VideoCodec = codecName(codec)
	if mdhd, ok := find(mk, "mdhd"); ok {
		if p, err := br.read(mdhd); err == nil {
			if _, scale, dur, ok := timesOf(p); ok && scale > 0 && dur > 0 && samples > 0 {
				v.VideoFrameRate = math.Round(float64(samples)/(float64(dur)/float64(scale))*100) / 100
			}
		}
	}
	if tkhd, ok := find(kids, "tkhd"); ok {
		if p, err := br.read(tkhd); err == nil {
			tkhdInto(p, v)
		}
	}
	return true
}

// tkhdInto reads the display size and rotation of a track header.
func tkhdInto(p []byte, v *drive.VideoProps) {
	off := 4 + 20 // version/flags; v0: created, modified, id, reserved, duration
	if len(p) > 0 && p[0] == 1 {
		off = 4 + 32
	}
	off += 8 + 2 + 2 + 2 + 2 // reserved, layer, alternate group, volume, reserved
	if len(p) < off+36+8 {
		return
	}
	be := binary.BigEndian
	fixed := func(i int) float64 { return float64(int32(be.Uint32(p[off+4*i:]))) / 65536 }
	a, b := fixed(0), fixed(1)
	deg := int(math.Round(math.Atan2(b, a)*180/math.Pi)+360) % 360
	v.Rotate = (deg + 45) / 90 * 90 % 360
	v.Width = int(be.Uint32(p[off+36:]) >> 16)
	v.Height = int(be.Uint32(p[off+40:]) >> 16)
}

// sampleInfo returns the first sample entry's format and the sample count
// of a track's mdia children.
func sampleInfo(br *boxReader, mdia []box) (format string, samples uint32) {
	minf, ok := find(mdia, "minf")
	if !ok {
		return "", 0
	}
	mk, _ := br.boxes(minf.start, minf.end)
	stbl, ok := find(mk, "stbl")
	if !ok {
		return "", 0
	}
	sk, _ := br.boxes(stbl.start, stbl.end)
	if stsd, ok := find(sk, "stsd"); ok {
		if p, err := br.read(stsd); err == nil && len(p) >= 16 {
			format = string(p[12:16])
		}
	}
	if stsz, ok := find(sk, "stsz"); ok {
		if p, err := br.read(stsz); err == nil && len(p) >= 12 {
			samples = binary.BigEndian.Uint32(p[8:12])
		}
	}
	return format, samples
}

func codecName(fourcc string) string {
	switch fourcc {
	case "avc1", "avc3":
		return "h264"
	case "hvc1", "hev1":
		return "hevc"
	case "mp4v":
		return "mpeg4"
	case "av01":
		return "av1"
	case "vp09":
		return "vp9"
	case "mp4a":
		return "aac"
	case "ac-3":
		return "ac3"
	case "Opus":
		return "opus"
	case "jpeg":
		return "mjpeg"
	}
	return fourcc
}
