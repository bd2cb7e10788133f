package media

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/rwcarlsen/goexif/exif"
	"github.com/rwcarlsen/goexif/tiff"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// readEXIF fills img from the EXIF data in b (a JPEG or TIFF head). Fields
// that are missing or malformed stay zero.
func readEXIF(b []byte, img *drive.ImageProps, keepGPS bool) {
	x, err := exif.Decode(bytes.NewReader(b))
	if x == nil || (err != nil && exif.IsCriticalError(err)) {
		return
	}
	str := func(f exif.FieldName) string {
		t, err := x.Get(f)
		if err != nil {
			return ""
		}
		if t.Format() == tiff.StringVal {
			s, _ := t.StringVal()
			return strings.TrimSpace(strings.TrimRight(s, "\x00"))
		}
		return ""
	}
	integer := func(f exif.FieldName) (int, bool) {
		t, err := x.Get(f)
		if err != nil || t.Format() != tiff.IntVal {
			return 0, false
		}
		v, err := t.Int(0)
		return v, err == nil
	}
	rat := func(f exif.FieldName) (*big.Rat, bool) {
		t, err := x.Get(f)
		if err != nil || t.Format() != tiff.RatVal {
			return nil, false
		}
		num, den, err := t.Rat2(0)
		if err != nil || den == 0 {
			return nil, false
		}
		return big.NewRat(num, den), true
	}
	date := func(f exif.FieldName) time.Time {
		t, err := time.ParseInLocation("2006:01:02 15:04:05", str(f), time.UTC)
		if err != nil || t.Year() < 1800 {
			return time.Time{}
		}
		return t
	}
	coded := func(f exif.FieldName, names map[int]string) string {
		v, ok := integer(f)
		if !ok {
			return ""
		}
		if s, ok := names[v]; ok {
			return s
		}
		return strconv.Itoa(v)
	}

	img.Make, img.Model, img.Software = str(exif.Make), str(exif.Model), str(exif.Software)
	img.DateTime = date(exif.DateTime)
	img.DateTimeOriginal = date(exif.DateTimeOriginal)
	img.DateTimeDigitized = date(exif.DateTimeDigitized)
	if v, ok := integer(exif.Orientation); ok && v >= 1 && v <= 8 {
		img.Orientation = strconv.Itoa(v)
	}
	if r, ok := rat(exif.ExposureTime); ok && r.Sign() > 0 {
		img.ExposureTime = exposure(r)
	}
	if r, ok := rat(exif.FNumber); ok {
		img.FNumber = decimal(r)
	}
	if r, ok := rat(exif.FocalLength); ok {
		img.FocalLength = decimal(r)
	}
	if v, ok := integer(exif.ISOSpeedRatings); ok {
		img.ISO = strconv.Itoa(v)
	}
	if v, ok := integer(exif.Flash); ok {
		img.Flash = flash(v)
	}
	img.MeteringMode = coded(exif.MeteringMode, meteringModes)
	img.ExposureProgram = coded(exif.ExposureProgram, exposurePrograms)
	img.ExposureMode = coded(exif.ExposureMode, map[int]string{0: "Auto", 1: "Manual", 2: "Auto bracket"})
	img.WhiteBalance = coded(exif.WhiteBalance, map[int]string{0: "Auto", 1: "Manual"})
	img.ColorSpace = coded(exif.ColorSpace, map[int]string{1: "sRGB", 2: "Adobe RGB", 0xFFFF: "Uncalibrated"})
	img.ResolutionUnit = coded(exif.ResolutionUnit, map[int]string{1: "None", 2: "Inches", 3: "Centimeters"})
	if r, ok := rat(exif.XResolution); ok {
		img.XResolution = decimal(r)
	}
	if r, ok := rat(exif.YResolution); ok {
		img.YResolution = decimal(r)
	}
	if img.Width == 0 {
		w, okw := integer(exif.PixelXDimension)
		h, okh := integer(exif.PixelYDimension)
		if okw && okh && w > 0 && h > 0 {
			img.Width, img.Height = w, h
		}
	}
	if keepGPS {
		if lat, long, err := x.LatLong(); err == nil && !math.IsNaN(lat) && !math.IsNaN(long) &&
			math.Abs(lat) <= 90 && math.Abs(long) <= 180 {
			img.Latitude, img.Longitude = &lat, &long
		}
	}
}

// exposure writes an exposure time as cameras show it: "1/125" below a
// second, "2.5" above.
func exposure(r *big.Rat) string {
	f, _ := r.Float64()
	if f < 1 {
		return "1/" + strconv.FormatFloat(math.Round(1/f), 'f', -1, 64)
	}
	return decimal(r)
}

// decimal writes r with at most two decimals and no trailing zeros.
func decimal(r *big.Rat) string {
	f, _ := r.Float64()
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// flash names an EXIF Flash value (bit 0 fired, bits 3-4 mode).
func flash(v int) string {
	fired := v&1 != 0
	var mode string
	switch (v >> 3) & 3 {
	case 1:
		mode = "On, "
	case 2:
		mode = "Off, "
	case 3:
		mode = "Auto, "
	}
	if v&0x20 != 0 {
		return "No flash function"
	}
	if fired {
		return mode + "Fired"
	}
	return mode + "Did not fire"
}

var meteringModes = map[int]string{0: "Unknown", 1: "Average", 2: "Center-weighted average",
	3: "Spot", 4: "Multi-spot", 5: "Pattern", 6: "Partial", 255: "Other"}

var exposurePrograms = map[int]string{0: "Not defined", 1: "Manual", 2: "Normal program",
	3: "Aperture priority", 4: "Shutter priority", 5: "Creative program", 6: "Action program",
	7: "Portrait mode", 8: "Landscape mode"}
