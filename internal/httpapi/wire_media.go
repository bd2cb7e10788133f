package httpapi

import (
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
)

// imageJSON is contentProperties.image of a file, nil for none.
func imageJSON(i *drive.ImageProps) *acd.Image {
	if i == nil {
		return nil
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(acd.TimeFormat)
	}
	return &acd.Image{Width: i.Width, Height: i.Height, Make: i.Make, Model: i.Model, Software: i.Software,
		Orientation: i.Orientation, DateTime: date(i.DateTime), DateTimeOriginal: date(i.DateTimeOriginal),
		DateTimeDigitized: date(i.DateTimeDigitized), ExposureTime: i.ExposureTime, FNumber: i.FNumber,
		ISO: i.ISO, FocalLength: i.FocalLength, Flash: i.Flash, MeteringMode: i.MeteringMode,
		ExposureProgram: i.ExposureProgram, ExposureMode: i.ExposureMode, WhiteBalance: i.WhiteBalance,
		ColorSpace: i.ColorSpace, XResolution: i.XResolution, YResolution: i.YResolution,
		ResolutionUnit: i.ResolutionUnit, Latitude: i.Latitude, Longitude: i.Longitude}
}

// videoJSON is contentProperties.video of a file, nil for none.
func videoJSON(v *drive.VideoProps) *acd.Video {
	if v == nil {
		return nil
	}
	return &acd.Video{Width: v.Width, Height: v.Height, Duration: v.Duration, Rotate: v.Rotate,
		VideoCodec: v.VideoCodec, AudioCodec: v.AudioCodec, Bitrate: v.Bitrate, VideoFrameRate: v.VideoFrameRate}
}
