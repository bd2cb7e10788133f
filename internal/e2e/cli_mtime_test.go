package e2e_test

import (
	"bytes"
	"context"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/cli"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestCLIModTimes: upload sends each file's modification time, download
// restores it; the skip check of both is size and modification time, the
// MD5 with --checksum or when the times differ; files stored without a
// modification time fall back to the MD5.
func TestCLIModTimes(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	u := newCLIUser(t, srv, "cli-mtime")
	ctx := context.Background()
	c := u.sdk()

	src := filepath.Join(t.TempDir(), "tree")
	times := map[string]time.Time{
		"a.txt":         time.Date(2019, 3, 4, 5, 6, 7, 891_234_567, time.UTC), // below a millisecond: not kept
		"sub/b.txt":     time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC),
		"sub/deep/c.md": time.Date(2030, 1, 1, 0, 0, 0, 1_000_000, time.UTC),
	}
	write := func(root, rel, content string, mt time.Time) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	for rel, mt := range times {
		write(src, rel, "content of "+rel, mt)
	}
	mtimeOf := func(p string) time.Time {
		t.Helper()
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.ModTime()
	}
	remote := func(p string) *acd.Node {
		t.Helper()
		n, err := c.Lookup(ctx, p)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", p, err)
		}
		return n
	}
	ms := func(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

	// Upload: every file's mtime, to the millisecond.
	u.mustRun("upload", src, "/m")
	for rel, mt := range times {
		if got := remote("/m/tree/" + rel).ContentProperties.ModTime; !got.Equal(ms(mt)) {
			t.Errorf("/m/tree/%s mtime = %v, want %v", rel, got, ms(mt))
		}
	}

	if out := u.mustRun("stat", "/m/tree/sub/b.txt"); !strings.Contains(out, "2001-09-09T01:46:40.000Z") {
		t.Errorf("stat shows no mtime:\n%s", out)
	}

	// Download into a new place: the mtimes come back.
	dst := t.TempDir()
	u.mustRun("download", "/m/tree", dst)
	got := filepath.Join(dst, "tree")
	for rel, mt := range times {
		if g := mtimeOf(filepath.Join(got, rel)); !g.Equal(ms(mt)) {
			t.Errorf("downloaded %s mtime = %v, want %v", rel, g, ms(mt))
		}
	}

	// Folders, which have no mtime, get their modifiedDate after their
	// files.
	for _, rel := range []string{"", "sub", "sub/deep"} {
		want, err := time.Parse(time.RFC3339, remote(path.Join("/m/tree", rel)).ModifiedDate)
		if err != nil {
			t.Fatal(err)
		}
		if g := mtimeOf(filepath.Join(got, rel)); !g.Equal(want) {
			t.Errorf("downloaded folder %q mtime = %v, want its modifiedDate %v", rel, g, want)
		}
	}

	// Both again: skipped by the quick check.
	for _, args := range [][]string{{"upload", src, "/m"}, {"download", "/m/tree", dst}} {
		if r := u.run(args...); r.code != 0 || !strings.Contains(r.stderr, "skipped 3 unchanged") {
			t.Errorf("%s again: exit %d: %s", args[0], r.code, r.stderr)
		}
	}

	// Same size and mtime but other bytes: the quick check does not read
	// the file and skips it; --checksum finds the difference.
	a := filepath.Join(src, "a.txt")
	write(src, "a.txt", "CONTENT OF a.txt", times["a.txt"])
	if r := u.run("upload", src, "/m"); r.code != 0 || !strings.Contains(r.stderr, "skipped 3 unchanged") {
		t.Errorf("upload of a same-size same-mtime change: exit %d: %s", r.code, r.stderr)
	}
	u.wantCode(cli.ExitConflict, "upload", "--checksum", src, "/m")
	u.mustRun("upload", "-c", "--overwrite", src, "/m")
	if got := u.mustRun("cat", "/m/tree/a.txt"); got != "CONTENT OF a.txt" {
		t.Errorf("/m/tree/a.txt after --checksum --overwrite = %q", got)
	}
	if got := remote("/m/tree/a.txt").ContentProperties.ModTime; !got.Equal(ms(times["a.txt"])) {
		t.Errorf("overwritten /m/tree/a.txt mtime = %v, want %v", got, ms(times["a.txt"]))
	}
	// The download side: the local copy still has the old bytes with the
	// same size and mtime.
	if r := u.run("download", "/m/tree", dst); r.code != 0 || !strings.Contains(r.stderr, "skipped 3 unchanged") {
		t.Errorf("download after a same-size same-mtime change: exit %d: %s", r.code, r.stderr)
	}
	u.wantCode(cli.ExitConflict, "download", "--checksum", "/m/tree", dst)
	u.mustRun("download", "--checksum", "--overwrite", "/m/tree", dst)
	if b, _ := os.ReadFile(filepath.Join(got, "a.txt")); string(b) != "CONTENT OF a.txt" {
		t.Errorf("downloaded a.txt after --checksum --overwrite = %q", b)
	}

	// Only the mtime changed: the MD5 decides, the file is skipped, and
	// the other side takes the new time.
	touched := time.Date(2024, 5, 6, 7, 8, 9, 10_000_000, time.UTC)
	if err := os.Chtimes(a, touched, touched); err != nil {
		t.Fatal(err)
	}
	if r := u.run("upload", src, "/m"); r.code != 0 || !strings.Contains(r.stderr, "uploaded 0 files") || !strings.Contains(r.stderr, "skipped 3 unchanged") {
		t.Errorf("upload after touch: exit %d: %s", r.code, r.stderr)
	}
	if got := remote("/m/tree/a.txt").ContentProperties.ModTime; !got.Equal(touched) {
		t.Errorf("/m/tree/a.txt mtime after touch and upload = %v, want %v", got, touched)
	}
	local := filepath.Join(got, "sub", "b.txt")
	if err := os.Chtimes(local, touched, touched); err != nil {
		t.Fatal(err)
	}
	if r := u.run("download", "/m/tree", dst); r.code != 0 || !strings.Contains(r.stderr, "skipped 3 unchanged") {
		t.Errorf("download after a local touch: exit %d: %s", r.code, r.stderr)
	}
	if g := mtimeOf(local); !g.Equal(times["sub/b.txt"]) {
		t.Errorf("sub/b.txt mtime after download = %v, want the server's %v", g, times["sub/b.txt"])
	}

	// A file stored without an mtime (another client): download gives it
	// modifiedDate, the skip checks compare MD5s, and upload stores the
	// local mtime then.
	root, err := c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Upload(ctx, root.ID, "legacy.txt", bytes.NewReader([]byte("legacy")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !n.ContentProperties.ModTime.IsZero() {
		t.Fatalf("legacy.txt has mtime %v", n.ContentProperties.ModTime)
	}
	ldir := t.TempDir()
	u.mustRun("download", "/legacy.txt", ldir)
	lp := filepath.Join(ldir, "legacy.txt")
	modified, err := time.Parse(time.RFC3339, n.ModifiedDate)
	if err != nil {
		t.Fatal(err)
	}
	if g := mtimeOf(lp); !g.Equal(modified) {
		t.Errorf("legacy.txt local mtime = %v, want modifiedDate %v", g, modified)
	}
	if r := u.run("download", "/legacy.txt", ldir); r.code != 0 || !strings.Contains(r.stderr, "skipped 1 unchanged") {
		t.Errorf("download of legacy.txt again: exit %d: %s", r.code, r.stderr)
	}
	if r := u.run("upload", lp, "/"); r.code != 0 || !strings.Contains(r.stderr, "skipped 1 unchanged") {
		t.Errorf("upload of legacy.txt: exit %d: %s", r.code, r.stderr)
	}
	if got := remote("/legacy.txt").ContentProperties.ModTime; !got.Equal(modified) {
		t.Errorf("legacy.txt mtime after upload = %v, want the local %v", got, modified)
	}
}
