package e2e_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestGoACDReadsFilesWithModTime: go-acd, which knows nothing of
// contentProperties.mtime, lists and downloads a file that has one and
// overwrites it (which clears it: go-acd sends none).
func TestGoACDReadsFilesWithModTime(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c, tok := newClient(t, s, "goacd-mtime")
	sdk, err := client.New(s.URL, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	root, err := sdk.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("kept with its time")
	mt := time.Date(2018, 4, 5, 6, 7, 8, 9_000_000, time.UTC)
	if _, err := sdk.Upload(ctx, root.ID, "timed.txt", bytes.NewReader(data), &client.UploadOptions{ModTime: mt}); err != nil {
		t.Fatal(err)
	}

	groot, _, err := c.Nodes.GetRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := groot.GetFile("timed.txt")
	if err != nil {
		t.Fatalf("GetFile: %v", err)
	}
	if f.ContentProperties == nil || f.ContentProperties.Size == nil || *f.ContentProperties.Size != uint64(len(data)) ||
		f.ContentProperties.Md5 == nil || *f.ContentProperties.Md5 != md5hex(data) {
		t.Errorf("go-acd contentProperties = %+v", f.ContentProperties)
	}
	rc, _, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("go-acd download = %q, %v", got, err)
	}
	if _, _, err := f.Overwrite(bytes.NewReader([]byte("new bytes"))); err != nil {
		t.Fatalf("go-acd Overwrite: %v", err)
	}
	n, err := sdk.Node(ctx, *f.Id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !n.ContentProperties.ModTime.IsZero() {
		t.Errorf("mtime after an overwrite without one = %v, want none", n.ContentProperties.ModTime)
	}
}
