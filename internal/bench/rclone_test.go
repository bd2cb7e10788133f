package bench

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestRcloneReference starts the rclone reference server, when an rclone
// binary is found, and puts and gets a file through it as the benchmark
// does.
func TestRcloneReference(t *testing.T) {
	bin, err := FindRclone("")
	if IsNoRclone(err) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	rc, err := StartRclone(t.Context(), bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Stop()
	r := &runner{rc: rc, hc: &http.Client{}}
	data := bytes.Repeat([]byte("clouddrive "), 10000)
	if err := r.rclonePut(t.Context(), bytes.NewReader(data), int64(len(data)), "f.bin"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(rc.Dir, "f.bin")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("served directory holds %d bytes (%v), want the %d put", len(got), err, len(data))
	}
	n, err := r.download(t.Context(), rc.URL+"/f.bin", "", 100, 1000)
	if err != nil || n != 1000 {
		t.Fatalf("ranged GET = %d bytes, %v; want 1000", n, err)
	}
	if v := RcloneVersion(bin); v == "" {
		t.Error("RcloneVersion is empty")
	}
}

func TestFindRcloneMissing(t *testing.T) {
	if _, err := FindRclone(filepath.Join(t.TempDir(), "nope")); !IsNoRclone(err) {
		t.Errorf("FindRclone(missing path) = %v, want a no-rclone error", err)
	}
}
