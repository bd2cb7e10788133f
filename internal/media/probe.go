package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
)

func (e *Extractor) timeout() time.Duration {
	if e.Timeout > 0 {
		return e.Timeout
	}
	return DefaultTimeout
}

// probe runs ffprobe on the first MaxProbeBytes of the file, fed on its
// standard input.
func (e *Extractor) probe(ctx context.Context, r io.ReaderAt, size int64) (drive.Media, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	cmd := exec.CommandContext(ctx, e.FFprobe, "-v", "error", "-print_format", "json",
		"-show_format", "-show_streams", "-i", "pipe:0")
	cmd.Stdin = io.NewSectionReader(r, 0, min(size, MaxProbeBytes))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limitedBuffer{b: &out, left: 1 << 20}, &limitedBuffer{b: &stderr, left: 4 << 10}
	if err := cmd.Run(); err != nil && out.Len() == 0 {
		return drive.Media{}, fmt.Errorf("media: ffprobe: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseProbe(out.Bytes())
}

// parseProbe reads ffprobe's -print_format json output.
func parseProbe(b []byte) (drive.Media, error) {
	var p struct {
		Streams []struct {
			CodecType    string            `json:"codec_type"`
			CodecName    string            `json:"codec_name"`
			Width        int               `json:"width"`
			Height       int               `json:"height"`
			AvgFrameRate string            `json:"avg_frame_rate"`
			Tags         map[string]string `json:"tags"`
			SideData     []struct {
				Rotation float64 `json:"rotation"`
			} `json:"side_data_list"`
		} `json:"streams"`
		Format struct {
			Duration string            `json:"duration"`
			BitRate  string            `json:"bit_rate"`
			Tags     map[string]string `json:"tags"`
		} `json:"format"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return drive.Media{}, fmt.Errorf("media: ffprobe output: %w", err)
	}
	v := &drive.VideoProps{}
	m := drive.Media{}
	for _, s := range p.Streams {
		switch s.CodecType {
		case "audio":
			if v.AudioCodec == "" {
				v.AudioCodec = s.CodecName
			}
		case "video":
			if v.VideoCodec != "" || s.CodecName == "mjpeg" && s.Width == 0 {
				continue
			}
			v.VideoCodec, v.Width, v.Height = s.CodecName, s.Width, s.Height
			if num, den, ok := strings.Cut(s.AvgFrameRate, "/"); ok {
				n, _ := strconv.ParseFloat(num, 64)
				d, _ := strconv.ParseFloat(den, 64)
				if d > 0 {
					v.VideoFrameRate = math.Round(n/d*100) / 100
				}
			}
			rot := 0.0
			if t, ok := s.Tags["rotate"]; ok {
				rot, _ = strconv.ParseFloat(t, 64)
			} else if len(s.SideData) > 0 {
				rot = -s.SideData[0].Rotation
			}
			v.Rotate = (int(math.Round(rot))%360 + 360) % 360
		}
	}
	if v.VideoCodec == "" {
		return drive.Media{}, ErrNotMedia
	}
	if d, err := strconv.ParseFloat(p.Format.Duration, 64); err == nil {
		v.Duration = math.Round(d*1000) / 1000
	}
	v.Bitrate, _ = strconv.ParseInt(p.Format.BitRate, 10, 64)
	if t, err := time.Parse(time.RFC3339Nano, p.Format.Tags["creation_time"]); err == nil && t.Year() > 1904 {
		m.Date = t.UTC()
	}
	m.Video = v
	return m, nil
}

// Frame renders one frame of a video as a PNG with ffmpeg (the frame at
// one second, or the first of a shorter video), feeding it at most
// MaxProbeBytes of the file. It fails when ffmpeg is empty.
func Frame(ctx context.Context, ffmpeg string, timeout time.Duration, r io.ReaderAt, size int64) ([]byte, error) {
	if ffmpeg == "" {
		return nil, errors.New("media: ffmpeg is not installed")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out bytes.Buffer
	for _, seek := range []string{"1", "0"} {
		out.Reset()
		cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error", "-ss", seek, "-i", "pipe:0",
			"-frames:v", "1", "-f", "image2pipe", "-vcodec", "png", "pipe:1")
		cmd.Stdin = io.NewSectionReader(r, 0, min(size, MaxProbeBytes))
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &limitedBuffer{b: &out, left: 64 << 20}, &limitedBuffer{b: &stderr, left: 4 << 10}
		err := cmd.Run()
		if out.Len() > 0 {
			return out.Bytes(), nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("media: ffmpeg: %w", ctx.Err())
		}
		if seek == "0" {
			return nil, fmt.Errorf("media: ffmpeg made no frame: %v: %s", err, strings.TrimSpace(stderr.String()))
		}
	}
	return nil, errors.New("media: ffmpeg made no frame")
}

// limitedBuffer keeps at most left bytes and drops the rest, so a
// misbehaving tool cannot fill memory.
type limitedBuffer struct {
	b    *bytes.Buffer
	left int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.left > 0 {
		k := min(len(p), l.left)
		l.b.Write(p[:k])
		l.left -= k
	}
	return len(p), nil
}
