package cli

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/client"
)

func TestParseResumableMin(t *testing.T) {
	for in, want := range map[string]int64{"64M": 64 << 20, "1G": 1 << 30, "512K": 512 << 10, "off": -1, "0": 1} {
		r, err := parseResumableMin(in)
		if err != nil || r.Threshold != want {
			t.Errorf("parseResumableMin(%q) = %+v, %v; want threshold %d", in, r, err, want)
		}
	}
	for _, bad := range []string{"", "+1M", "-1M", "lots"} {
		if _, err := parseResumableMin(bad); ExitCode(err) != ExitUsage {
			t.Errorf("parseResumableMin(%q) err = %v, want a usage error", bad, err)
		}
	}
}

// TestPendingUploads: the state file of an unfinished upload is found
// again only for the same file (path, size, mtime) and destination, and
// removed unless the upload may still be resumed.
func TestPendingUploads(t *testing.T) {
	ctx := context.Background()
	s := &session{env: &Env{}, dirs: dirs{cache: t.TempDir()}, creds: &Credentials{Server: "http://srv", Account: "acct"},
		log: slog.New(slog.DiscardHandler)}
	mtime := time.Date(2026, 12, 7, 11, 0, 0, 123e6, time.UTC)
	p := s.pending("big.bin", 100, mtime, "parent", "big.bin")
	if p.URL != "" {
		t.Fatalf("fresh state has URL %q", p.URL)
	}
	p.save("http://srv/cdproxy/uploads/u1")
	if got := s.pending("big.bin", 100, mtime, "parent", "big.bin").URL; got != "http://srv/cdproxy/uploads/u1" {
		t.Fatalf("saved URL not found again: %q", got)
	}
	for name, q := range map[string]*pendingUpload{
		"size":   s.pending("big.bin", 101, mtime, "parent", "big.bin"),
		"mtime":  s.pending("big.bin", 100, mtime.Add(time.Millisecond), "parent", "big.bin"),
		"parent": s.pending("big.bin", 100, mtime, "other", "big.bin"),
		"name":   s.pending("big.bin", 100, mtime, "parent", "b.bin"),
		"path":   s.pending("sub/big.bin", 100, mtime, "parent", "big.bin"),
	} {
		if q.URL != "" {
			t.Errorf("another %s found the URL", name)
		}
	}
	// Other accounts keep their own.
	other := &session{env: s.env, dirs: s.dirs, creds: &Credentials{Server: "http://srv", Account: "someone"}, log: s.log}
	if other.pending("big.bin", 100, mtime, "parent", "big.bin").URL != "" {
		t.Error("another account sees the upload")
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	keep := []error{errors.New("connection reset"), &client.Error{StatusCode: http.StatusServiceUnavailable}}
	for _, err := range keep {
		p.finish(ctx, err)
		if _, serr := os.Stat(p.path); serr != nil {
			t.Fatalf("state removed after %v", err)
		}
	}
	p.finish(cancelled, context.Canceled)
	if _, err := os.Stat(p.path); err != nil {
		t.Fatal("state removed after an interruption")
	}
	p.finish(ctx, &client.ConflictError{Code: "NAME_ALREADY_EXISTS", Err: &client.Error{StatusCode: http.StatusConflict}})
	if _, err := os.Stat(p.path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("state kept after a refusal")
	}
	p.save("http://srv/cdproxy/uploads/u2")
	p.finish(ctx, nil)
	if _, err := os.Stat(p.path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("state kept after completion")
	}

	// Old state files are pruned.
	p.save("http://srv/cdproxy/uploads/u3")
	old := time.Now().Add(-8 * 24 * time.Hour)
	if err := os.Chtimes(p.path, old, old); err != nil {
		t.Fatal(err)
	}
	s.prunePending()
	if es, _ := os.ReadDir(filepath.Dir(p.path)); len(es) != 0 {
		t.Errorf("prune left %d files", len(es))
	}
}
