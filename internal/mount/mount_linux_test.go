//go:build linux

package mount_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/cli"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/testbytes"
)

// requireFUSE skips the test where a FUSE mount cannot work: /dev/fuse
// cannot be opened (not root, no module), or, outside CI, fusermount3 is
// missing. Under CI a missing fusermount3 fails, since the CI script
// installs it.
func requireFUSE(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("FUSE mount tests skipped: cannot open /dev/fuse read-write (%v); they need root (or a fuse group) and the fuse kernel module", err)
	}
	f.Close()
	if _, err := exec.LookPath("fusermount3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("fusermount3 missing under CI: scripts/test.sh runs scripts/install-fuse.sh, which should have installed fuse3")
		}
		t.Skip("FUSE mount tests skipped: fusermount3 missing; run scripts/install-fuse.sh (as root) or apt-get install fuse3")
	}
}

// user is one account on the test server, with the CLI logged in.
type user struct {
	t     *testing.T
	srv   *drivetest.Server
	token string
	vars  map[string]string
	c     *client.Client // the same account through the SDK: "another device"
}

func newUser(t *testing.T, srv *drivetest.Server, name string) *user {
	t.Helper()
	dir := t.TempDir()
	u := &user{t: t, srv: srv, token: srv.Token(name), vars: map[string]string{
		cli.EnvConfigDir: filepath.Join(dir, "config"),
		cli.EnvCacheDir:  filepath.Join(dir, "cache"),
	}}
	if code, _, stderr := u.cli(context.Background(), "login", "--server", srv.URL, "--token", u.token); code != 0 {
		t.Fatalf("login: exit %d: %s", code, stderr)
	}
	c, err := client.New(srv.URL, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: u.token}))
	if err != nil {
		t.Fatal(err)
	}
	u.c = c
	return u
}

func (u *user) cli(ctx context.Context, args ...string) (int, string, string) {
	var stdout, stderr syncBuffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return u.vars[k] }}
	code := cli.Main(ctx, env, args)
	return code, stdout.String(), stderr.String()
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in
// different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mounted reports whether dir is a mount point.
func mounted(dir string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && fields[4] == dir {
			return true
		}
	}
	return false
}

// abort ends a FUSE mount that no longer answers: every pending and
// future request fails (ENOTCONN), and the mount point is detached.
func abort(t *testing.T, dir string, dev uint64) {
	minor := (dev & 0xff) | ((dev >> 12) & 0xfff00)
	if err := os.WriteFile(fmt.Sprintf("/sys/fs/fuse/connections/%d/abort", minor), []byte("1"), 0); err != nil {
		t.Logf("abort FUSE connection %d: %v", minor, err)
	}
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil && mounted(dir) {
		t.Logf("lazy unmount %s: %v", dir, err)
	}
}

// mountCLI runs `clouddrive mount ARGS... DIR` in the background on a new
// directory, waits until it serves, and returns the directory and a
// function that stops the command (as SIGINT does) and returns its exit
// code and stderr, and a function that waits up to a time for the command
// to return on its own (false if it did not). The mount is always gone
// when the test ends, even after a failure or a hang: a watchdog aborts
// the FUSE connection if the test runs past limit.
func (u *user) mountCLI(limit time.Duration, args ...string) (string, func() (int, string), func(time.Duration) (int, string, bool)) {
	t := u.t
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	var stderr syncBuffer
	go func() {
		env := &cli.Env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(k string) string { return u.vars[k] }}
		done <- result{cli.Main(ctx, env, append(append([]string{"mount"}, args...), dir)), stderr.String()}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !mounted(dir) {
		select {
		case r := <-done:
			cancel()
			t.Fatalf("clouddrive mount exited with %d before mounting: %s", r.code, r.stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("not mounted after 20s: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	dev := st.Dev
	watchdog := time.AfterFunc(limit, func() {
		t.Errorf("mount test ran past %v: aborting the FUSE connection", limit)
		abort(t, dir, dev)
	})
	var once sync.Once
	var res result
	stop := func() (int, string) {
		once.Do(func() {
			watchdog.Stop()
			cancel()
			select {
			case res = <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("clouddrive mount did not return 30s after the interrupt")
				abort(t, dir, dev)
				res = result{-1, stderr.String()}
			}
			if mounted(dir) {
				t.Errorf("%s still mounted after clouddrive mount returned", dir)
				abort(t, dir, dev)
			}
		})
		return res.code, res.stderr
	}
	exited := func(d time.Duration) (int, string, bool) {
		select {
		case r := <-done:
			done <- r // for stop
			return r.code, r.stderr, true
		case <-time.After(d):
			return 0, "", false
		}
	}
	t.Cleanup(func() { stop() })
	return dir, stop, exited
}

// sh runs a command line with a time limit and fails the test on error.
func sh(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := run(dir, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func run(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// eventually retries check until it returns nil or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// makeSource writes a local tree: nested folders, an empty one, empty,
// small and multi-chunk files, names with spaces, '%' and Unicode.
func makeSource(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "src")
	files := map[string]int{
		"top.txt":                     100,
		"empty":                       0,
		"100% done.txt":               2000,
		"sub dir/ünïcödé 🎉.bin":       70000,
		"sub dir/nested/deep.txt":     5,
		"sub dir/nested/big.bin":      3<<20 + 12345, // several 1 MiB chunks
		"other/.hidden":               42,
		"other/-dash (x) [y] {z}.txt": 999,
	}
	for rel, n := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, testbytes.Random(n, uint64(len(rel)*n+1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "empty folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func download(t *testing.T, c *client.Client, id string) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := c.Download(context.Background(), id, &b); err != nil {
		t.Fatalf("download %s: %v", id, err)
	}
	return b.Bytes()
}

func lookup(c *client.Client, path string) (*acd.Node, error) {
	return c.Lookup(context.Background(), path)
}

// cacheDirName finds the mount's cache directory (mount-<hash>) in the
// CLI's cache directory.
func cacheDirName(t *testing.T, dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "mount-*"))
	if len(m) != 1 {
		t.Fatalf("mount cache directories in %s: %v", dir, m)
	}
	return filepath.Base(m[0])
}

// TestMount drives a real mount of a real server with the shell's tools:
// cp -r in and diff -r back, ranged reads, mkdir, mv, append, rm, rmdir,
// escaped names, multi-parent nodes, statfs, changes made through the
// API showing up in the mount and the mount's changes in the API and the
// changes feed, and a clean unmount on interrupt.
func TestMount(t *testing.T) {
	requireFUSE(t)
	ctx := context.Background()
	srv := drivetest.New(t, drivetest.Options{DefaultQuota: 10 << 30})
	u := newUser(t, srv, "mounter")
	mnt, stop, _ := u.mountCLI(4*time.Minute, "--poll", "20s", "--cache-size", "2M")
	src := makeSource(t)
	root, err := u.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("CopyInDiffBack", func(t *testing.T) {
		sh(t, mnt, "cp", "-r", src, filepath.Join(mnt, "tree"))
		sh(t, mnt, "diff", "-r", src, filepath.Join(mnt, "tree"))
		// The bytes are on the server, under the same names.
		for _, rel := range []string{"top.txt", "empty", "100% done.txt", "sub dir/ünïcödé 🎉.bin", "sub dir/nested/big.bin"} {
			n, err := lookup(u.c, "/tree/"+rel)
			if err != nil {
				t.Fatalf("%s through the API: %v", rel, err)
			}
			want, _ := os.ReadFile(filepath.Join(src, rel))
			if n.ContentProperties == nil || n.ContentProperties.Size != int64(len(want)) || n.ContentProperties.MD5 != testbytes.MD5(want) {
				t.Errorf("%s on the server: %+v, want %d bytes md5 %s", rel, n.ContentProperties, len(want), testbytes.MD5(want))
			}
		}
		if n, err := lookup(u.c, "/tree/empty folder"); err != nil || n.Kind != client.KindFolder {
			t.Errorf("empty folder through the API: %v %v", n, err)
		}
	})

	t.Run("Attributes", func(t *testing.T) {
		fi, err := os.Stat(filepath.Join(mnt, "tree/sub dir/nested/big.bin"))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := lookup(u.c, "/tree/sub dir/nested/big.bin")
		mod := n.ContentProperties.ModTime.Time // uploaded with the time of its last write
		if fi.Size() != 3<<20+12345 || fi.Mode() != 0o644 || !fi.ModTime().Equal(mod) {
			t.Errorf("big.bin: size %d mode %v mtime %v; want %d 0644 %v", fi.Size(), fi.Mode(), fi.ModTime(), 3<<20+12345, mod)
		}
		di, err := os.Stat(filepath.Join(mnt, "tree/sub dir"))
		if err != nil || di.Mode() != os.ModeDir|0o755 {
			t.Errorf("folder mode: %v %v", di, err)
		}
		var st syscall.Statfs_t
		if err := syscall.Statfs(mnt, &st); err != nil {
			t.Fatal(err)
		}
		q, _ := u.c.Quota(ctx)
		if total := int64(st.Blocks) * st.Bsize; total != q.Quota/4096*4096 || int64(st.Bavail)*st.Bsize > q.Available {
			t.Errorf("statfs: %d blocks of %d, %d free; quota %+v", st.Blocks, st.Bsize, st.Bavail, q)
		}
	})

	t.Run("RandomReads", func(t *testing.T) {
		want, _ := os.ReadFile(filepath.Join(src, "sub dir/nested/big.bin"))
		f, err := os.Open(filepath.Join(mnt, "tree/sub dir/nested/big.bin"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := rand.New(rand.NewPCG(7, 7))
		for range 200 {
			off := r.Int64N(int64(len(want)))
			n := 1 + r.IntN(300000)
			got := make([]byte, n)
			k, err := f.ReadAt(got, off)
			if err != nil && !(errors.Is(err, io.EOF) && off+int64(n) > int64(len(want))) {
				t.Fatalf("ReadAt(%d, %d): %v", off, n, err)
			}
			if !bytes.Equal(got[:k], want[off:min(off+int64(n), int64(len(want)))]) {
				t.Fatalf("ReadAt(%d, %d): %d bytes differ from the source", off, n, k)
			}
		}
		if _, err := f.ReadAt(make([]byte, 10), int64(len(want))); !errors.Is(err, io.EOF) {
			t.Errorf("read at EOF: %v", err)
		}
		// The read cache holds chunks, within --cache-size (2M).
		var total int64
		ents, _ := os.ReadDir(filepath.Join(u.vars[cli.EnvCacheDir], cacheDirName(t, u.vars[cli.EnvCacheDir]), "chunks"))
		for _, e := range ents {
			if fi, err := e.Info(); err == nil {
				total += fi.Size()
			}
		}
		if len(ents) == 0 || total > 2<<20 {
			t.Errorf("read cache: %d chunks, %d bytes; want some, at most 2 MiB", len(ents), total)
		}
	})

	t.Run("MkdirMvAppendRm", func(t *testing.T) {
		sh(t, mnt, "mkdir", "-p", "moved/inner")
		sh(t, mnt, "mv", "tree/top.txt", "moved/inner/renamed.txt") // move and rename
		sh(t, mnt, "mv", "tree/other", "moved/other2")              // a folder
		sh(t, mnt, "mv", "moved/inner/renamed.txt", "moved/inner/again.txt")
		n, err := lookup(u.c, "/moved/inner/again.txt")
		if err != nil {
			t.Fatalf("moved file through the API: %v", err)
		}
		if _, err := lookup(u.c, "/tree/top.txt"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("old path still resolves: %v", err)
		}
		if _, err := lookup(u.c, "/moved/other2/.hidden"); err != nil {
			t.Errorf("moved folder's child: %v", err)
		}
		orig, _ := os.ReadFile(filepath.Join(src, "top.txt"))
		sh(t, mnt, "sh", "-c", "printf ' appended' >> moved/inner/again.txt")
		want := append(append([]byte{}, orig...), " appended"...)
		if got := download(t, u.c, n.ID); !bytes.Equal(got, want) {
			t.Errorf("after append the server has %d bytes, want %d", len(got), len(want))
		}
		if got, _ := os.ReadFile(filepath.Join(mnt, "moved/inner/again.txt")); !bytes.Equal(got, want) {
			t.Errorf("after append the mount shows %d bytes, want %d", len(got), len(want))
		}
		// mv over an existing file replaces it.
		sh(t, mnt, "sh", "-c", "echo replacement > moved/new.txt")
		sh(t, mnt, "mv", "-f", "moved/new.txt", "moved/inner/again.txt")
		if got, _ := os.ReadFile(filepath.Join(mnt, "moved/inner/again.txt")); string(got) != "replacement\n" {
			t.Errorf("after mv over a file: %q", got)
		}
		// Truncate an existing file to a shorter length.
		if err := os.Truncate(filepath.Join(mnt, "moved/inner/again.txt"), 4); err != nil {
			t.Fatal(err)
		}
		if a, _ := lookup(u.c, "/moved/inner/again.txt"); a == nil || a.ContentProperties.Size != 4 {
			t.Errorf("truncate not uploaded: %+v", a)
		}

		if _, err := run(mnt, "rmdir", "moved/inner"); err == nil {
			t.Error("rmdir of a non-empty folder succeeded")
		}
		if err := os.Mkdir(filepath.Join(mnt, "moved/inner"), 0o755); !errors.Is(err, os.ErrExist) {
			t.Errorf("mkdir of an existing name: %v, want EEXIST", err)
		}
		again, _ := lookup(u.c, "/moved/inner/again.txt")
		sh(t, mnt, "rm", "moved/inner/again.txt")
		sh(t, mnt, "rmdir", "moved/inner")
		if n, err := u.c.Node(ctx, again.ID, nil); err != nil || n.Status != client.StatusTrash {
			t.Errorf("rm: node %v %v, want it in the trash", n, err)
		}
		sh(t, mnt, "rm", "-r", "moved/other2")
		if _, err := lookup(u.c, "/moved/other2"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("rm -r: %v", err)
		}
		if out := sh(t, mnt, "ls", "-a", "moved"); out != ".\n..\n" {
			t.Errorf("moved/ after the removals: %q", out)
		}
	})

	t.Run("APIChangesAppear", func(t *testing.T) {
		dir, err := u.c.CreateFolder(ctx, root.ID, "from api", nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := u.c.Upload(ctx, dir.ID, "note.txt", strings.NewReader("version one"), nil)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(mnt, "from api", "note.txt")
		readIs := func(want string) func() error {
			return func() error {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if string(b) != want {
					return fmt.Errorf("content %q, want %q", b, want)
				}
				return nil
			}
		}
		eventually(t, 10*time.Second, "a file uploaded through the API", readIs("version one"))
		if _, err := u.c.Overwrite(ctx, f.ID, strings.NewReader("version two, longer"), nil); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "an overwrite through the API", readIs("version two, longer"))
		if _, err := u.c.Rename(ctx, f.ID, "renamed.txt"); err != nil {
			t.Fatal(err)
		}
		p = filepath.Join(mnt, "from api", "renamed.txt")
		eventually(t, 10*time.Second, "a rename through the API", func() error {
			if _, err := os.Stat(filepath.Join(mnt, "from api", "note.txt")); err == nil {
				return errors.New("old name still there")
			}
			return readIs("version two, longer")()
		})
		// A second parent: the file appears in both folders.
		if _, err := u.c.AddParent(ctx, root.ID, f.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "a second parent", func() error {
			_, err := os.Stat(filepath.Join(mnt, "renamed.txt"))
			return err
		})
		a, _ := os.Stat(filepath.Join(mnt, "renamed.txt"))
		b, _ := os.Stat(p)
		if !os.SameFile(a, b) || a.Sys().(*syscall.Stat_t).Nlink != 2 {
			t.Errorf("a file with two parents is not one inode with two links")
		}
		// A folder with two parents lists the same in both.
		if err := os.Mkdir(filepath.Join(mnt, "second home"), 0o755); err != nil {
			t.Fatal(err)
		}
		home, err := lookup(u.c, "/second home")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.c.AddParent(ctx, home.ID, dir.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "a folder with a second parent", func() error {
			b, err := os.ReadFile(filepath.Join(mnt, "second home", "from api", "renamed.txt"))
			if err == nil && string(b) != "version two, longer" {
				err = fmt.Errorf("content %q", b)
			}
			return err
		})
		// Unlinking one of them only removes that parent.
		sh(t, mnt, "rm", "renamed.txt")
		if n, err := u.c.Node(ctx, f.ID, nil); err != nil || n.Status != client.StatusAvailable || len(n.Parents) != 1 {
			t.Errorf("after unlinking one link: %+v %v", n, err)
		}
		// Escaping: this server refuses '/', NUL, "." and "..", so the
		// names tried here hold the escape characters themselves, which
		// are quoted with ‛ (see the package doc).
		if _, err := u.c.Upload(ctx, dir.ID, "a∕b ‛q", strings.NewReader("quoted"), nil); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "a name with escape characters", func() error {
			_, err := os.Stat(filepath.Join(mnt, "from api", "a‛∕b ‛‛q"))
			return err
		})
		if err := os.WriteFile(filepath.Join(mnt, "from api", "c‛∕d"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := u.c.ChildByName(ctx, dir.ID, "c∕d"); err != nil {
			t.Errorf("c‛∕d created in the mount is not c∕d on the server: %v", err)
		}
		// ∕ alone stands for '/', which the server refuses; a lone ‛
		// is no valid escape.
		for _, bad := range []string{"e∕f", "g‛h"} {
			if err := os.WriteFile(filepath.Join(mnt, "from api", bad), nil, 0o644); !errors.Is(err, syscall.EINVAL) {
				t.Errorf("create %q: %v, want EINVAL", bad, err)
			}
		}
		// Trashed through the API: gone from the mount.
		if _, err := u.c.Trash(ctx, dir.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "a folder trashed through the API", func() error {
			if _, err := os.Stat(filepath.Join(mnt, "from api")); !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("stat: %v", err)
			}
			return nil
		})
	})

	t.Run("MountChangesInFeed", func(t *testing.T) {
		cp := ""
		for set, err := range u.c.Changes(ctx, client.ChangesOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			cp = set.Checkpoint
		}
		if err := os.Mkdir(filepath.Join(mnt, "feed check"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mnt, "feed check", "f.txt"), []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		seen := map[string]*acd.Node{}
		for set, err := range u.c.Changes(ctx, client.ChangesOptions{Checkpoint: cp}) {
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range set.Nodes {
				seen[n.Name] = n
			}
		}
		if n := seen["feed check"]; n == nil || n.Kind != client.KindFolder {
			t.Errorf("the changes feed lacks the folder made in the mount: %v", seen)
		}
		if n := seen["f.txt"]; n == nil || n.ContentProperties == nil || n.ContentProperties.Size != 5 {
			t.Errorf("the changes feed lacks the file written in the mount: %+v", n)
		}
	})

	code, stderr := stop()
	if code != 0 {
		t.Errorf("clouddrive mount exited %d after the interrupt: %s", code, stderr)
	}
	if !strings.Contains(stderr, "unmounted") {
		t.Errorf("stderr lacks the unmount message: %s", stderr)
	}
}

// TestMountReadOnlyAndQuota: a --read-only mount shows 0444/0555 and
// refuses changes with EROFS; on a full account a write fails at close
// with ENOSPC.
func TestMountReadOnlyAndQuota(t *testing.T) {
	requireFUSE(t)
	ctx := context.Background()
	srv := drivetest.New(t, drivetest.Options{DefaultQuota: 1 << 20})
	u := newUser(t, srv, "small")
	root, err := u.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.c.Upload(ctx, root.ID, "kept.txt", strings.NewReader("kept"), nil); err != nil {
		t.Fatal(err)
	}

	ro, stopRO, _ := u.mountCLI(2*time.Minute, "--read-only")
	fi, err := os.Stat(filepath.Join(ro, "kept.txt"))
	if err != nil || fi.Mode() != 0o444 {
		t.Errorf("read-only file: %v %v", fi, err)
	}
	if di, err := os.Stat(ro); err != nil || di.Mode() != os.ModeDir|0o555 {
		t.Errorf("read-only root: %v %v", di, err)
	}
	if err := os.WriteFile(filepath.Join(ro, "new.txt"), []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("write on a read-only mount: %v, want EROFS", err)
	}
	if err := os.Remove(filepath.Join(ro, "kept.txt")); !errors.Is(err, syscall.EROFS) {
		t.Errorf("rm on a read-only mount: %v, want EROFS", err)
	}
	if code, stderr := stopRO(); code != 0 {
		t.Errorf("read-only mount exited %d: %s", code, stderr)
	}

	rw, stopRW, exitedRW := u.mountCLI(2*time.Minute, "--purge-on-delete", "--poll", "0")
	f, err := os.Create(filepath.Join(rw, "too big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(testbytes.Random(2<<20, 1)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("close of a file past the quota: %v, want ENOSPC", err)
	}
	// The failed upload left nothing on the server; the file stays in
	// the mount, where a smaller retry succeeds.
	absent(t, u.c, root.ID, "too big.bin")
	big := filepath.Join(rw, "too big.bin")
	if fi, err := os.Stat(big); err != nil || fi.Size() != 2<<20 {
		t.Errorf("the file whose upload failed, in the mount: %v %v", fi, err)
	}
	if err := os.Truncate(big, 100); err != nil {
		t.Fatal(err)
	}
	absent(t, u.c, root.ID, "too big.bin")
	if f, err := os.OpenFile(big, os.O_WRONLY, 0); err != nil {
		t.Fatal(err)
	} else {
		if _, err := f.WriteAt([]byte("retry"), 0); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Errorf("retry after truncating: %v", err)
		}
	}
	if n, err := u.c.ChildByName(ctx, root.ID, "too big.bin"); err != nil || n.ContentProperties.Size != 100 {
		t.Errorf("after the retry: %+v %v, want 100 bytes", n, err)
	}
	// A failed new file can be removed: it was never on the server.
	if err := os.WriteFile(filepath.Join(rw, "also too big.bin"), testbytes.Random(2<<20, 2), 0o644); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("write of a file past the quota: %v, want ENOSPC", err)
	}
	if err := os.Remove(filepath.Join(rw, "also too big.bin")); err != nil {
		t.Errorf("rm of a file whose upload failed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(rw, "also too big.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat after rm: %v", err)
	}
	absent(t, u.c, root.ID, "also too big.bin")
	// --purge-on-delete: rm purges.
	kept, _ := u.c.ChildByName(ctx, root.ID, "kept.txt")
	if err := os.Remove(filepath.Join(rw, "kept.txt")); err != nil {
		t.Fatal(err)
	}
	if n, err := u.c.Node(ctx, kept.ID, nil); !errors.Is(err, client.ErrNotFound) && (n == nil || n.Status != client.StatusPurged) {
		t.Errorf("rm with --purge-on-delete: %+v %v, want purged", n, err)
	}
	// Unmounted from outside: the command returns on its own.
	sh(t, rw, "fusermount3", "-u", rw)
	if code, stderr, ok := exitedRW(30 * time.Second); !ok {
		t.Errorf("clouddrive mount still running 30s after fusermount3 -u")
	} else if code != 0 {
		t.Errorf("mount unmounted from outside exited %d: %s", code, stderr)
	}
	stopRW()
}

// requests sums the server's request counters (any status) of route,
// e.g. "POST /cdproxy/nodes", from /metrics (served by the handler of the
// metrics listener, not the API port).
func requests(t *testing.T, srv *drivetest.Server, route string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.App.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	total := 0
	for line := range strings.Lines(rec.Body.String()) {
		if !strings.HasPrefix(line, "clouddrive_http_requests_total{") || !strings.Contains(line, `route="`+route+`"`) {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		total += int(v)
	}
	return total
}

const (
	routeUpload    = "POST /cdproxy/nodes"
	routeOverwrite = "PUT /cdproxy/nodes/{id}/content"
)

// uploads counts the uploads (new files, overwrites) fn makes.
func uploads(t *testing.T, srv *drivetest.Server, fn func()) (created, overwritten int) {
	t.Helper()
	c0, o0 := requests(t, srv, routeUpload), requests(t, srv, routeOverwrite)
	fn()
	return requests(t, srv, routeUpload) - c0, requests(t, srv, routeOverwrite) - o0
}

// absent fails the test if folder parent has a child called name on the
// server.
func absent(t *testing.T, c *client.Client, parent, name string) {
	t.Helper()
	if n, err := c.ChildByName(context.Background(), parent, name); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("%q exists on the server: %+v %v", name, n, err)
	}
}

// TestMountPendingFiles: a file created in the mount exists only in the
// mount until its first close, which uploads it once with its bytes; it
// can be renamed or removed before that without the server seeing it;
// its own upload coming back through the changes feed changes nothing;
// overwriting an existing file uploads once.
func TestMountPendingFiles(t *testing.T) {
	requireFUSE(t)
	ctx := context.Background()
	srv := drivetest.New(t, drivetest.Options{DefaultQuota: 1 << 30})
	u := newUser(t, srv, "pending")
	mnt, stop, _ := u.mountCLI(3*time.Minute, "--poll", "1s")
	root, err := u.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := testbytes.Random(3<<20+17, 42)

	t.Run("InvisibleUntilClose", func(t *testing.T) {
		p := filepath.Join(mnt, "growing.bin")
		var ino uint64
		created, overwritten := uploads(t, srv, func() {
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write(data[:1<<20]); err != nil {
				t.Fatal(err)
			}
			// Seen in the mount, with what was written so far...
			fi, err := os.Stat(p)
			if err != nil || fi.Size() != 1<<20 {
				t.Fatalf("stat of a file being written: %v %v", fi, err)
			}
			ino = fi.Sys().(*syscall.Stat_t).Ino
			if out := sh(t, mnt, "ls"); !strings.Contains(out, "growing.bin") {
				t.Errorf("ls lacks the file being written: %q", out)
			}
			// ...but not by the API, even after the feed had time to
			// run.
			time.Sleep(1500 * time.Millisecond)
			absent(t, u.c, root.ID, "growing.bin")
			if _, err := f.Write(data[1<<20:]); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
		})
		if created != 1 || overwritten != 0 {
			t.Errorf("writing a new file made %d uploads and %d overwrites, want 1 and 0", created, overwritten)
		}
		n, err := u.c.ChildByName(ctx, root.ID, "growing.bin")
		if err != nil {
			t.Fatalf("after close: %v", err)
		}
		if cp := n.ContentProperties; cp == nil || cp.Size != int64(len(data)) || cp.MD5 != testbytes.MD5(data) {
			t.Errorf("after close the server has %+v, want %d bytes md5 %s", cp, len(data), testbytes.MD5(data))
		}
		// The feed brings the upload back: still one entry, the same
		// inode, the same bytes.
		time.Sleep(2500 * time.Millisecond)
		if out := sh(t, mnt, "ls"); strings.Count(out, "growing.bin") != 1 {
			t.Errorf("ls after the feed: %q", out)
		}
		fi, err := os.Stat(p)
		if err != nil || fi.Sys().(*syscall.Stat_t).Ino != ino || fi.Size() != int64(len(data)) {
			t.Errorf("after the feed: %v %v, want inode %d of %d bytes", fi, err, ino, len(data))
		}
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, data) {
			t.Errorf("reading back: %d bytes, %v", len(got), err)
		}
	})

	t.Run("CpUploadsOnce", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "src.bin")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cp := ""
		for set, err := range u.c.Changes(ctx, client.ChangesOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			cp = set.Checkpoint
		}
		created, overwritten := uploads(t, srv, func() { sh(t, mnt, "cp", src, "copied.bin") })
		if created != 1 || overwritten != 0 {
			t.Errorf("cp made %d uploads and %d overwrites, want 1 and 0", created, overwritten)
		}
		n, err := u.c.ChildByName(ctx, root.ID, "copied.bin")
		if err != nil || n.ContentProperties == nil || n.ContentProperties.MD5 != testbytes.MD5(data) {
			t.Fatalf("copied.bin on the server: %+v %v", n, err)
		}
		changes := 0
		for set, err := range u.c.Changes(ctx, client.ChangesOptions{Checkpoint: cp}) {
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range set.Nodes {
				if c.ID == n.ID {
					changes++
				}
			}
		}
		if changes != 1 {
			t.Errorf("the changes feed holds %d changes of copied.bin, want 1", changes)
		}

		// cp and > onto an existing file: one overwrite each, nothing
		// else.
		src2 := filepath.Join(t.TempDir(), "src2.bin")
		data2 := testbytes.Random(100000, 43)
		if err := os.WriteFile(src2, data2, 0o644); err != nil {
			t.Fatal(err)
		}
		created, overwritten = uploads(t, srv, func() { sh(t, mnt, "cp", src2, "copied.bin") })
		if created != 0 || overwritten != 1 {
			t.Errorf("cp onto an existing file made %d uploads and %d overwrites, want 0 and 1", created, overwritten)
		}
		if got := download(t, u.c, n.ID); !bytes.Equal(got, data2) {
			t.Errorf("after cp onto it the server has %d bytes, want %d", len(got), len(data2))
		}
		created, overwritten = uploads(t, srv, func() { sh(t, mnt, "sh", "-c", "echo replaced > copied.bin") })
		if created != 0 || overwritten != 1 {
			t.Errorf("> onto an existing file made %d uploads and %d overwrites, want 0 and 1", created, overwritten)
		}
		if got := download(t, u.c, n.ID); string(got) != "replaced\n" {
			t.Errorf("after > the server has %q", got)
		}
	})

	t.Run("RenameBeforeClose", func(t *testing.T) {
		if err := os.Mkdir(filepath.Join(mnt, "dest"), 0o755); err != nil {
			t.Fatal(err)
		}
		dest, err := u.c.ChildByName(ctx, root.ID, "dest")
		if err != nil {
			t.Fatal(err)
		}
		created, _ := uploads(t, srv, func() {
			f, err := os.Create(filepath.Join(mnt, "draft.tmp"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("final words"); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(mnt, "draft.tmp"), filepath.Join(mnt, "dest", "final.txt")); err != nil {
				t.Fatalf("rename of a pending file: %v", err)
			}
			if _, err := os.Stat(filepath.Join(mnt, "draft.tmp")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("old name after the rename: %v", err)
			}
			absent(t, u.c, root.ID, "draft.tmp")
			absent(t, u.c, dest.ID, "final.txt")
			if err := f.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
		})
		if created != 1 {
			t.Errorf("%d uploads, want 1", created)
		}
		absent(t, u.c, root.ID, "draft.tmp")
		n, err := u.c.ChildByName(ctx, dest.ID, "final.txt")
		if err != nil {
			t.Fatalf("after close: %v", err)
		}
		if got := download(t, u.c, n.ID); string(got) != "final words" {
			t.Errorf("final.txt on the server: %q", got)
		}
		if got, _ := os.ReadFile(filepath.Join(mnt, "dest", "final.txt")); string(got) != "final words" {
			t.Errorf("final.txt in the mount: %q", got)
		}
	})

	t.Run("UnlinkBeforeClose", func(t *testing.T) {
		created, _ := uploads(t, srv, func() {
			f, err := os.Create(filepath.Join(mnt, "scratch"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("never saved"); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(mnt, "scratch")); err != nil {
				t.Fatalf("unlink of a pending file: %v", err)
			}
			if _, err := f.WriteString(", still writable"); err != nil {
				t.Errorf("write after unlink: %v", err)
			}
			if err := f.Close(); err != nil {
				t.Errorf("close after unlink: %v", err)
			}
		})
		if created != 0 {
			t.Errorf("%d uploads, want 0", created)
		}
		absent(t, u.c, root.ID, "scratch")
		if _, err := os.Stat(filepath.Join(mnt, "scratch")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat after unlink: %v", err)
		}
	})

	t.Run("EmptyFile", func(t *testing.T) {
		// Nothing written: the upload comes with the release that
		// follows the close.
		sh(t, mnt, "touch", "empty.txt")
		eventually(t, 10*time.Second, "touch of a new file", func() error {
			n, err := u.c.ChildByName(ctx, root.ID, "empty.txt")
			if err == nil && (n.ContentProperties == nil || n.ContentProperties.Size != 0) {
				err = fmt.Errorf("%+v, want an empty file", n.ContentProperties)
			}
			return err
		})
		// A shell's redirection closes a copy of the descriptor before
		// the command writes: still one upload, with the bytes.
		created, overwritten := uploads(t, srv, func() { sh(t, mnt, "sh", "-c", "echo new > redirected.txt") })
		if created != 1 || overwritten != 0 {
			t.Errorf("> to a new file made %d uploads and %d overwrites, want 1 and 0", created, overwritten)
		}
	})

	if code, stderr := stop(); code != 0 {
		t.Errorf("mount exited %d: %s", code, stderr)
	}
}

// TestMountCreateExisting: without the changes feed the mount does not
// know a file made elsewhere, but creating its name still finds it:
// EEXIST with O_EXCL, otherwise the existing file is opened (and
// truncated with O_TRUNC), as open(2) does.
func TestMountCreateExisting(t *testing.T) {
	requireFUSE(t)
	ctx := context.Background()
	srv := drivetest.New(t, drivetest.Options{DefaultQuota: 1 << 30})
	u := newUser(t, srv, "existing")
	mnt, stop, _ := u.mountCLI(2*time.Minute, "--poll", "0")
	root, err := u.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := u.c.Upload(ctx, root.ID, "elsewhere.txt", strings.NewReader("made elsewhere"), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(mnt, "elsewhere.txt")
	if _, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, os.ErrExist) {
		t.Errorf("O_EXCL create of a name taken on the server: %v, want EEXIST", err)
	}
	if err := os.WriteFile(p, []byte("changed here"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := download(t, u.c, n.ID); string(got) != "changed here" {
		t.Errorf("the existing file now holds %q", got)
	}
	if _, err := u.c.Upload(ctx, root.ID, "Case.txt", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "case.txt"), []byte("y"), 0o644); !errors.Is(err, os.ErrExist) {
		t.Errorf("create of a name taken on the server but for case: %v, want EEXIST", err)
	}
	if code, stderr := stop(); code != 0 {
		t.Errorf("mount exited %d: %s", code, stderr)
	}
}
