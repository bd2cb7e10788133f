package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/media/mediatest"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// TestAdminMediaBackfill stores a photo, a video and a text file through a
// node service without a media extractor (as a server from before media
// extraction did), then backfills: the photo and the video get their
// properties and contentDate with a new version and a change, the text
// file stays as it was, and a second run updates nothing.
func TestAdminMediaBackfill(t *testing.T) {
	data := t.TempDir()
	ctx := t.Context()
	mustRun(t, "", "admin", "token", "--data", data, "pat")
	cfg := app.Config{DataDir: data}
	m, err := app.OpenMeta(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := app.OpenBlobs(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	old := app.NewNodes(cfg, m, b)
	old.Media = nil
	u, err := old.EnsureUser(ctx, "pat")
	if err != nil {
		t.Fatal(err)
	}
	pctx := drive.NewContext(ctx, drive.Principal{UserID: u.ID, Scopes: []string{"clouddrive:read_all", "clouddrive:write"}})
	root, err := old.Root(pctx)
	if err != nil {
		t.Fatal(err)
	}
	shot := time.Date(2018, 7, 1, 12, 0, 0, 0, time.UTC)
	put := func(name string, body []byte) *drive.Node {
		n, err := old.Upload(pctx, nodes.NewNode{Name: name, Kind: drive.KindFile, Parents: []string{root.ID}},
			bytes.NewReader(body), nodes.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n.Content.Image != nil || n.Content.Video != nil {
			t.Fatalf("%s stored with media properties", name)
		}
		return n
	}
	photo := put("old.jpg", mediatest.JPEG(32, 24, mediatest.EXIF{Make: "Nikon", DateTimeOriginal: shot, Lat: 1, Long: 2}))
	clip := put("old.mp4", mediatest.MP4{Created: shot, Seconds: 2, Width: 320, Height: 240, Frames: 50}.Bytes())
	text := put("old.txt", []byte("not a photo"))
	var seq0 int64
	err = m.View(ctx, func(tx meta.Tx) error { seq0, err = tx.CurrentSeq(ctx, u.ID); return err })
	if err != nil {
		t.Fatal(err)
	}
	m.Close()

	out := mustRun(t, "", "admin", "media", "backfill", "--data", data)
	if !strings.Contains(out, "read 2 files of 1 users, updated 2") {
		t.Errorf("first backfill printed %q, want 2 of 2 updated", out)
	}
	inspect(t, data, func(ctx context.Context, tx meta.Tx) error {
		p, err := tx.Node(ctx, u.ID, photo.ID)
		if err != nil {
			return err
		}
		if img := p.Content.Image; img == nil || img.Width != 32 || img.Height != 24 || img.Make != "Nikon" {
			t.Errorf("photo image = %+v", p.Content.Image)
		} else if img.Latitude != nil {
			t.Error("GPS position kept without --keep-gps")
		}
		if !p.Content.ContentDate.Equal(shot) {
			t.Errorf("photo contentDate = %v, want %v", p.Content.ContentDate, shot)
		}
		if p.Version != photo.Version+1 {
			t.Errorf("photo version %d, want %d", p.Version, photo.Version+1)
		}
		v, err := tx.Node(ctx, u.ID, clip.ID)
		if err != nil {
			return err
		}
		if v.Content.Video == nil || v.Content.Video.Width != 320 || !v.Content.ContentDate.Equal(shot) {
			t.Errorf("video = %+v, contentDate %v", v.Content.Video, v.Content.ContentDate)
		}
		x, err := tx.Node(ctx, u.ID, text.ID)
		if err != nil {
			return err
		}
		if x.Version != text.Version || x.Content.Image != nil {
			t.Errorf("text file changed: version %d -> %d", text.Version, x.Version)
		}
		seq, err := tx.CurrentSeq(ctx, u.ID)
		if err == nil && seq != seq0+2 {
			t.Errorf("change counter %d -> %d, want one change for each of the two files", seq0, seq)
		}
		return err
	})

	out = mustRun(t, "", "admin", "media", "backfill", "--data", data, "--user", "pat")
	if !strings.Contains(out, "updated 0") {
		t.Errorf("second backfill printed %q, want updated 0", out)
	}
	if _, _, err := run(t, "", "admin", "media", "backfill", "--data", data, "--user", "nobody"); err == nil {
		t.Error("backfill of a missing user succeeded")
	}
}
