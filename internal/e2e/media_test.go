package e2e_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/media/mediatest"
)

// TestMediaProperties uploads a real JPEG with EXIF data and an MP4 over
// the HTTP API and reads contentProperties.image, video and contentDate
// back, filters and sorts on contentDate, and overwrites the photo.
func TestMediaProperties(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := newACDC(t, s, "media")
	shot := time.Date(2019, 6, 15, 10, 30, 0, 0, time.UTC)
	jpg := mediatest.JPEG(64, 48, mediatest.EXIF{Make: "Canon", Model: "EOS 5D", DateTimeOriginal: shot,
		Orientation: 6, ExposureDen: 125, FNumberX10: 28, ISO: 400, Lat: 48.85, Long: 2.29})
	photo := c.putFile("beach.jpg", c.root, jpg)
	got := c.mustNode(photo.ID)
	cp := got.ContentProperties
	if cp == nil || cp.Image == nil {
		t.Fatalf("contentProperties = %+v, want image", cp)
	}
	if cp.Image.Width != 64 || cp.Image.Height != 48 || cp.Image.Make != "Canon" || cp.Image.ExposureTime != "1/125" ||
		cp.Image.ISO != "400" || cp.Image.Orientation != "6" || cp.Image.DateTimeOriginal != "2019-06-15T10:30:00.000Z" {
		t.Errorf("image = %+v", cp.Image)
	}
	if cp.Image.Latitude != nil {
		t.Error("GPS position kept by default")
	}
	if cp.ContentDate != "2019-06-15T10:30:00.000Z" {
		t.Errorf("contentDate = %q", cp.ContentDate)
	}

	made := time.Date(2021, 3, 1, 8, 0, 0, 0, time.UTC)
	mp4 := mediatest.MP4{Created: made, Seconds: 4, Width: 640, Height: 360, Rotate: 90, Frames: 120, MoovAtEnd: true,
		PayloadPadding: 1000}.Bytes()
	video := c.putFile("clip.mp4", c.root, mp4)
	v := c.mustNode(video.ID).ContentProperties
	if v == nil || v.Video == nil || v.Video.Width != 640 || v.Video.Height != 360 || v.Video.Duration != 4 ||
		v.Video.Rotate != 90 || v.Video.VideoCodec != "h264" || v.ContentDate != "2021-03-01T08:00:00.000Z" {
		t.Errorf("video contentProperties = %+v %+v", v, v.Video)
	}
	c.putFile("notes.txt", c.root, []byte("no date"))

	var list acd.NodeList
	q := url.Values{"filters": {"contentProperties.contentDate:[2019-01-01T00:00:00Z TO 2020-01-01T00:00:00Z]"}}
	if code, raw := c.api.do("GET", "/drive/v1/nodes?"+q.Encode(), nil, &list); code != http.StatusOK {
		t.Fatalf("filter = %d %s", code, raw)
	}
	if len(list.Data) != 1 || list.Data[0].ID != photo.ID {
		t.Errorf("contentDate in 2019 = %d nodes, want the photo", len(list.Data))
	}
	q = url.Values{"filters": {"kind:FILE"}, "sort": {`["contentProperties.contentDate DESC"]`}}
	if code, raw := c.api.do("GET", "/drive/v1/nodes?"+q.Encode(), nil, &list); code != http.StatusOK {
		t.Fatalf("sort = %d %s", code, raw)
	}
	if len(list.Data) != 3 || list.Data[0].ID != video.ID || list.Data[1].ID != photo.ID {
		t.Errorf("sorted by contentDate DESC: %d nodes, first %v", len(list.Data), list.Data)
	}

	// Overwrite with another photo: the properties follow the content.
	later := time.Date(2022, 12, 24, 18, 0, 0, 0, time.UTC)
	jpg2 := mediatest.JPEG(32, 20, mediatest.EXIF{Make: "Nikon", Model: "Z6", DateTimeOriginal: later})
	code, raw := c.send("PUT", "/cdproxy/nodes/"+photo.ID+"/content", mpType(testBoundary),
		uploadBody(testBoundary, "", "beach.jpg", "image/jpeg", jpg2, ""), false)
	if code != http.StatusOK {
		t.Fatalf("overwrite = %d %s", code, raw)
	}
	cp = c.mustNode(photo.ID).ContentProperties
	if cp.Image == nil || cp.Image.Make != "Nikon" || cp.Image.Width != 32 || cp.ContentDate != "2022-12-24T18:00:00.000Z" {
		t.Errorf("after overwrite: %+v %+v", cp, cp.Image)
	}
}
