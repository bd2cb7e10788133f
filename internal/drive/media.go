package drive

import "time"

// ImageProps is what the server read from an image's header and EXIF
// data (contentProperties.image). EXIF values keep the camera's wording
// as ACD showed it ("1/125", "f/2.8", "Flash did not fire"); zero fields
// were not present. Latitude and Longitude are set only when the server
// keeps GPS data (serve --keep-gps).
type ImageProps struct {
	Width             int       `json:"width,omitempty"`
	Height            int       `json:"height,omitempty"`
	Make              string    `json:"make,omitempty"`
	Model             string    `json:"model,omitempty"`
	Software          string    `json:"software,omitempty"`
	Orientation       string    `json:"orientation,omitempty"`
	DateTime          time.Time `json:"dateTime,omitzero"`
	DateTimeOriginal  time.Time `json:"dateTimeOriginal,omitzero"`
	DateTimeDigitized time.Time `json:"dateTimeDigitized,omitzero"`
	ExposureTime      string    `json:"exposureTime,omitempty"`
	FNumber           string    `json:"fNumber,omitempty"`
	ISO               string    `json:"iso,omitempty"`
	FocalLength       string    `json:"focalLength,omitempty"`
	Flash             string    `json:"flash,omitempty"`
	MeteringMode      string    `json:"meteringMode,omitempty"`
	ExposureProgram   string    `json:"exposureProgram,omitempty"`
	ExposureMode      string    `json:"exposureMode,omitempty"`
	WhiteBalance      string    `json:"whiteBalance,omitempty"`
	ColorSpace        string    `json:"colorSpace,omitempty"`
	XResolution       string    `json:"xResolution,omitempty"`
	YResolution       string    `json:"yResolution,omitempty"`
	ResolutionUnit    string    `json:"resolutionUnit,omitempty"`
	Latitude          *float64  `json:"latitude,omitempty"`
	Longitude         *float64  `json:"longitude,omitempty"`
}

// VideoProps is what the server read from a video's container
// (contentProperties.video). Duration is in seconds; Rotate is the
// display rotation in degrees (0, 90, 180, 270); Bitrate is in bits per
// second.
type VideoProps struct {
	Width          int     `json:"width,omitempty"`
	Height         int     `json:"height,omitempty"`
	Duration       float64 `json:"duration,omitempty"`
	Rotate         int     `json:"rotate"`
	VideoCodec     string  `json:"videoCodec,omitempty"`
	AudioCodec     string  `json:"audioCodec,omitempty"`
	Bitrate        int64   `json:"bitrate,omitempty"`
	VideoFrameRate float64 `json:"videoFrameRate,omitempty"`
}

// Media is what media extraction found in a file's bytes: at most one of
// Image and Video, and the date the content was made (zero when unknown),
// which becomes contentProperties.contentDate.
type Media struct {
	Image *ImageProps `json:"image,omitempty"`
	Video *VideoProps `json:"video,omitempty"`
	Date  time.Time   `json:"-"`
}

// Empty reports whether m found nothing.
func (m Media) Empty() bool { return m.Image == nil && m.Video == nil && m.Date.IsZero() }
