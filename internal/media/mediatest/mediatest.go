// Package mediatest builds small real media files for tests: a JPEG
// encoded by image/jpeg with an EXIF APP1 segment spliced in after SOI,
// and an MP4 made of the boxes a player reads (ftyp, mdat, moov with
// mvhd and one video and one audio trak).
package mediatest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"time"
)

// EXIF is what JPEG writes into the EXIF segment.
type EXIF struct {
	Make, Model      string
	DateTimeOriginal time.Time
	Orientation      uint16
	ExposureDen      uint32 // exposure time 1/ExposureDen s
	FNumberX10       uint32 // f-number times ten
	ISO              uint16
	Flash            uint16
	Lat, Long        float64 // written when either is not zero
}

// JPEG returns a w×h JPEG carrying x.
func JPEG(w, h int, x EXIF) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for i := range w {
			img.Set(i, y, color.RGBA{uint8(i), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		panic(err)
	}
	tiff := x.tiff()
	app1 := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(2+6+len(tiff)))
	app1 = append(app1, "Exif\x00\x00"...)
	app1 = append(app1, tiff...)
	out := append([]byte{}, b.Bytes()[:2]...)
	out = append(out, app1...)
	return append(out, b.Bytes()[2:]...)
}

type entry struct {
	tag, typ uint16
	count    uint32
	data     []byte // value bytes; inline when <= 4
}

func ascii(tag uint16, s string) entry {
	return entry{tag, 2, uint32(len(s) + 1), append([]byte(s), 0)}
}
func short(tag, v uint16) entry {
	return entry{tag, 3, 1, binary.LittleEndian.AppendUint16(nil, v)}
}
func long(tag uint16, v uint32) entry {
	return entry{tag, 4, 1, binary.LittleEndian.AppendUint32(nil, v)}
}
func rational(tag uint16, pairs ...uint32) entry {
	var d []byte
	for _, p := range pairs {
		d = binary.LittleEndian.AppendUint32(d, p)
	}
	return entry{tag, 5, uint32(len(pairs) / 2), d}
}

// ifd encodes entries at offset base (little-endian TIFF); pointer
// entries are filled by the caller through fix.
func ifd(base uint32, es []entry) []byte {
	head := 2 + 12*len(es) + 4
	var out, extra []byte
	out = binary.LittleEndian.AppendUint16(out, uint16(len(es)))
	for _, e := range es {
		out = binary.LittleEndian.AppendUint16(out, e.tag)
		out = binary.LittleEndian.AppendUint16(out, e.typ)
		out = binary.LittleEndian.AppendUint32(out, e.count)
		if len(e.data) <= 4 {
			v := make([]byte, 4)
			copy(v, e.data)
			out = append(out, v...)
		} else {
			out = binary.LittleEndian.AppendUint32(out, base+uint32(head+len(extra)))
			extra = append(extra, e.data...)
			if len(extra)%2 == 1 {
				extra = append(extra, 0)
			}
		}
	}
	out = binary.LittleEndian.AppendUint32(out, 0)
	return append(out, extra...)
}

func (x EXIF) tiff() []byte {
	var exifEs []entry
	if !x.DateTimeOriginal.IsZero() {
		exifEs = append(exifEs, ascii(0x9003, x.DateTimeOriginal.Format("2006:01:02 15:04:05")))
	}
	if x.ExposureDen > 0 {
		exifEs = append(exifEs, rational(0x829A, 1, x.ExposureDen))
	}
	if x.FNumberX10 > 0 {
		exifEs = append(exifEs, rational(0x829D, x.FNumberX10, 10))
	}
	if x.ISO > 0 {
		exifEs = append(exifEs, short(0x8827, x.ISO))
	}
	exifEs = append(exifEs, short(0x9209, x.Flash))
	// Entries must be sorted by tag.
	sortEntries(exifEs)
	gps := x.Lat != 0 || x.Long != 0
	ifd0 := []entry{ascii(0x010F, x.Make), ascii(0x0110, x.Model)}
	if x.Orientation > 0 {
		ifd0 = append(ifd0, short(0x0112, x.Orientation))
	}
	ifd0 = append(ifd0, long(0x8769, 0))
	if gps {
		ifd0 = append(ifd0, long(0x8825, 0))
	}
	// Lay out: header (8), IFD0, Exif IFD, GPS IFD.
	first := ifd(8, ifd0)
	exifOff := uint32(8 + len(first))
	exifIFD := ifd(exifOff, exifEs)
	gpsOff := exifOff + uint32(len(exifIFD))
	for i := range ifd0 {
		switch ifd0[i].tag {
		case 0x8769:
			ifd0[i] = long(0x8769, exifOff)
		case 0x8825:
			ifd0[i] = long(0x8825, gpsOff)
		}
	}
	first = ifd(8, ifd0)
	out := []byte("II*\x00\x08\x00\x00\x00")
	out = append(out, first...)
	out = append(out, exifIFD...)
	if gps {
		ref := func(v float64, pos, neg string) (string, float64) {
			if v < 0 {
				return neg, -v
			}
			return pos, v
		}
		latRef, lat := ref(x.Lat, "N", "S")
		longRef, lng := ref(x.Long, "E", "W")
		dms := func(v float64) []uint32 {
			d := uint32(v)
			m := uint32((v - float64(d)) * 60)
			s := uint32(((v-float64(d))*60 - float64(m)) * 60 * 1000)
			return []uint32{d, 1, m, 1, s, 1000}
		}
		out = append(out, ifd(gpsOff, []entry{ascii(1, latRef), rational(2, dms(lat)...),
			ascii(3, longRef), rational(4, dms(lng)...)})...)
	}
	return out
}

func sortEntries(es []entry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].tag < es[j-1].tag; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// MP4 is what MP4 writes.
type MP4 struct {
	Created        time.Time
	Seconds        uint32 // duration
	Width, Height  uint16
	Rotate         int // 0, 90, 180 or 270
	Frames         uint32
	MoovAtEnd      bool
	PayloadPadding int // bytes of mdat
}

func bx(typ string, parts ...[]byte) []byte {
	n := 8
	for _, p := range parts {
		n += len(p)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(n))
	out = append(out, typ...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func u32(vs ...uint32) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.BigEndian.AppendUint32(out, v)
	}
	return out
}

// Bytes returns the MP4 file.
func (m MP4) Bytes() []byte {
	const scale = 1000
	created := uint32(m.Created.Sub(time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)) / time.Second)
	dur := m.Seconds * scale
	mvhd := bx("mvhd", u32(0, created, created, scale, dur), make([]byte, 80))
	one, minus := uint32(0x10000), uint32(0xFFFF0000)
	matrix := map[int][]uint32{
		0:   {one, 0, 0, 0, one, 0, 0, 0, 0x40000000},
		90:  {0, one, 0, minus, 0, 0, 0, 0, 0x40000000},
		180: {minus, 0, 0, 0, minus, 0, 0, 0, 0x40000000},
		270: {0, minus, 0, one, 0, 0, 0, 0, 0x40000000},
	}[m.Rotate]
	track := func(id uint32, handler, format string, w, h uint16, samples uint32) []byte {
		tkhd := bx("tkhd", u32(3, created, created, id, 0, dur, 0, 0, 0, 0), u32(matrix...),
			u32(uint32(w)<<16, uint32(h)<<16))
		mdhd := bx("mdhd", u32(0, created, created, scale, dur, 0))
		hdlr := bx("hdlr", u32(0, 0), []byte(handler), u32(0, 0, 0), []byte("h\x00"))
		entry := bx(format, make([]byte, 78))
		stsd := bx("stsd", u32(0, 1), entry)
		stsz := bx("stsz", u32(0, 0, samples))
		stbl := bx("stbl", stsd, stsz, bx("stts", u32(0, 0)), bx("stco", u32(0, 0)))
		minf := bx("minf", stbl)
		return bx("trak", tkhd, bx("mdia", mdhd, hdlr, minf))
	}
	moov := bx("moov", mvhd, track(1, "vide", "avc1", m.Width, m.Height, m.Frames),
		track(2, "soun", "mp4a", 0, 0, m.Seconds*43))
	ftyp := bx("ftyp", []byte("isom"), u32(0x200), []byte("isomiso2avc1mp41"))
	mdat := bx("mdat", make([]byte, m.PayloadPadding))
	if m.MoovAtEnd {
		return append(append(ftyp, mdat...), moov...)
	}
	return append(append(ftyp, moov...), mdat...)
}
