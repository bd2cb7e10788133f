package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/cli"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// cliUser runs the client commands in-process as one user, with its own
// config and cache directories.
type cliUser struct {
	t     *testing.T
	srv   *drivetest.Server
	vars  map[string]string
	token string
	// transport, if set, carries the CLI's requests (fault and byte
	// counting).
	transport http.RoundTripper
	tty       bool
}

func newCLIUser(t *testing.T, srv *drivetest.Server, user string) *cliUser {
	t.Helper()
	dir := t.TempDir()
	u := &cliUser{t: t, srv: srv, token: srv.Token(user), vars: map[string]string{
		cli.EnvConfigDir: filepath.Join(dir, "config"),
		cli.EnvCacheDir:  filepath.Join(dir, "cache"),
	}}
	u.mustRun("login", "--server", srv.URL, "--token", u.token)
	return u
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func (u *cliUser) runCtx(ctx context.Context, args ...string) cliResult {
	u.t.Helper()
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return u.vars[k] },
		IsTerminal: func(io.Writer) bool { return u.tty }}
	if u.transport != nil {
		env.HTTPClient = &http.Client{Transport: u.transport}
	}
	code := cli.Main(ctx, env, args)
	return cliResult{code, stdout.String(), stderr.String()}
}

func (u *cliUser) run(args ...string) cliResult {
	u.t.Helper()
	return u.runCtx(context.Background(), args...)
}

// mustRun runs a command that must succeed and returns its stdout.
func (u *cliUser) mustRun(args ...string) string {
	u.t.Helper()
	r := u.run(args...)
	if r.code != 0 {
		u.t.Fatalf("clouddrive %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// wantCode runs a command that must fail with code.
func (u *cliUser) wantCode(code int, args ...string) cliResult {
	u.t.Helper()
	r := u.run(args...)
	if r.code != code {
		u.t.Errorf("clouddrive %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

// sdk is an SDK client for the same user: "another device".
func (u *cliUser) sdk() *client.Client {
	c, err := client.New(u.srv.URL, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: u.token}))
	if err != nil {
		u.t.Fatal(err)
	}
	return c
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// oddNames are file names that stress quoting, filters and local paths.
// None differ only in case (names are unique case-insensitively).
var oddNames = []string{
	"plain.txt", "with space.txt", "  leading and trailing  ", `quote"s.txt`, `back\slash.txt`,
	"ünïcödé Straße.txt", "-leading-dash", "(paren) [brk] {brace}.md", "star*and?q.txt", "a+b & c|d ! ^~:.txt",
	"日本語のファイル.txt", "'single'.txt", "percent%20encoded.bin", "hash#tag", ".hidden", "emoji 🎉.txt",
	"semi;colon,comma=eq", "dollar$HOME`tick`", "x.tmp", strings.Repeat("long", 50) + ".txt",
}

// makeTree writes a local tree of about n small files with odd names in
// nested folders and returns its root and the relative paths of the files
// (the *.tmp ones included).
func makeTree(t *testing.T, n int) (string, []string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "tree")
	dirs := []string{".", "sub dir", "sub dir/nested [x]", "ünï", "ünï/-dash", "deep/a/b/c/d", "emoji 🎉"}
	var files []string
	for i := 0; len(files) < n; i++ {
		d := dirs[i%len(dirs)]
		name := fmt.Sprintf("%03d %s", i, oddNames[i%len(oddNames)])
		if i%7 == 0 {
			name = oddNames[i%len(oddNames)] // some bare odd names too
			if slices.Contains(files, filepath.ToSlash(filepath.Join(d, name))) {
				continue
			}
		}
		rel := filepath.Join(d, name)
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		size := (i * 37) % 3000
		if i%50 == 0 {
			size = 0
		}
		if err := os.WriteFile(p, randomBytes(size, uint64(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	if err := os.MkdirAll(filepath.Join(root, "empty folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root, files
}

// sameTree compares two local trees byte for byte (files and folders).
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	read := func(root string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				m[rel+"/"] = nil
				return nil
			}
			b, err := os.ReadFile(p)
			m[rel] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	w, g := read(want), read(got)
	for k, v := range w {
		gv, ok := g[k]
		if !ok {
			t.Errorf("missing after download: %q", k)
		} else if !bytes.Equal(v, gv) {
			t.Errorf("%q differs: %d bytes, want %d", k, len(gv), len(v))
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("unexpected after download: %q", k)
		}
	}
}

// TestCLIUploadSyncListDownload uploads a tree of a few hundred files with
// odd names, syncs, checks ls/tree/find against it, downloads it to a new
// directory and compares byte for byte.
func TestCLIUploadSyncListDownload(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	u := newCLIUser(t, srv, "cli-tree")
	src, files := makeTree(t, 300)
	var kept []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".tmp") {
			kept = append(kept, f)
		}
	}

	r := u.run("upload", "-j", "4", "--exclude", "*.tmp", src, "/backup")
	if r.code != 0 {
		t.Fatalf("upload: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("uploaded %d files", len(kept))) {
		t.Errorf("upload summary = %q, want %d files", r.stderr, len(kept))
	}
	u.mustRun("sync")

	// ls: the top folder's entries, and JSON.
	var top []string
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		name := e.Name()
		if e.IsDir() {
			name += "/"
		}
		top = append(top, name)
	}
	got := lines(u.mustRun("ls", "/backup/tree"))
	slices.Sort(got)
	slices.Sort(top)
	if !slices.Equal(got, top) {
		t.Errorf("ls /backup/tree =\n%q\nwant\n%q", got, top)
	}
	var nodes []*acd.Node
	if err := json.Unmarshal([]byte(u.mustRun("ls", "--json", "/backup/tree")), &nodes); err != nil || len(nodes) != len(top) {
		t.Errorf("ls --json: %d nodes, %v", len(nodes), err)
	}
	long := lines(u.mustRun("ls", "-l", "/backup/tree/sub dir"))
	if len(long) == 0 || !strings.HasPrefix(long[0], "d ") && !strings.HasPrefix(long[0], "- ") {
		t.Errorf("ls -l = %q", long)
	}

	// tree: counts.
	out := u.mustRun("tree", "/backup/tree")
	folders := 0
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != src {
			folders++
		}
		return nil
	})
	if want := fmt.Sprintf("\n%d folders, %d files\n", folders, len(kept)); !strings.HasSuffix(out, want) || !strings.Contains(out, "└── ") {
		t.Errorf("tree does not end with %q:\n%s", want, tail([]byte(out)))
	}

	// find: by name, md5, size and date.
	found := lines(u.mustRun("find", "/backup", "--name", "*.TXT", "--type", "f"))
	want := 0
	for _, f := range kept {
		if strings.HasSuffix(strings.ToLower(f), ".txt") {
			want++
		}
	}
	if len(found) != want {
		t.Errorf("find --name *.TXT: %d paths, want %d", len(found), want)
	}
	target := kept[5]
	data, _ := os.ReadFile(filepath.Join(src, target))
	found = lines(u.mustRun("find", "--md5", md5hex(data)))
	if !slices.Contains(found, "/backup/tree/"+target) {
		t.Errorf("find --md5 = %q, want /backup/tree/%s among them", found, target)
	}
	big := 0
	for _, f := range kept {
		if st, _ := os.Stat(filepath.Join(src, f)); st.Size() > 2048 {
			big++
		}
	}
	if found = lines(u.mustRun("find", "/backup", "--size", "+2k")); len(found) != big {
		t.Errorf("find --size +2k: %d, want %d", len(found), big)
	}
	if found = lines(u.mustRun("find", "/backup", "--type", "f", "--modified", "-1h")); len(found) != len(kept) {
		t.Errorf("find --modified -1h: %d, want %d", len(found), len(kept))
	}
	if found = lines(u.mustRun("find", "/backup", "--modified", "+1h")); len(found) != 0 {
		t.Errorf("find --modified +1h: %d, want 0", len(found))
	}

	// Download to a new directory and compare byte for byte.
	dst := filepath.Join(t.TempDir(), "restore")
	r = u.run("download", "-j", "4", "/backup/tree", dst)
	if r.code != 0 {
		t.Fatalf("download: exit %d: %s", r.code, r.stderr)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".tmp") {
			os.Remove(filepath.Join(src, f))
		}
	}
	sameTree(t, src, filepath.Join(dst, "tree"))

	// Running either again transfers nothing.
	if r := u.run("upload", src, "/backup"); r.code != 0 || !strings.Contains(r.stderr, "uploaded 0 files (0 B)") ||
		!strings.Contains(r.stderr, fmt.Sprintf("skipped %d unchanged", len(kept))) {
		t.Errorf("second upload: exit %d: %s", r.code, r.stderr)
	}
	if r := u.run("download", "/backup/tree", dst); r.code != 0 || !strings.Contains(r.stderr, fmt.Sprintf("skipped %d unchanged", len(kept))) {
		t.Errorf("second download: exit %d: %s", r.code, r.stderr)
	}
	// A changed local file is a conflict unless --overwrite.
	changed := filepath.Join(src, kept[1])
	os.WriteFile(changed, []byte("changed"), 0o644)
	u.wantCode(cli.ExitConflict, "upload", src, "/backup")
	u.mustRun("upload", "--overwrite", src, "/backup")
	if got := u.mustRun("cat", "/backup/tree/"+kept[1]); got != "changed" {
		t.Errorf("cat after --overwrite = %q", got)
	}
	u.wantCode(cli.ExitConflict, "download", "/backup/tree", dst)
	u.mustRun("download", "--overwrite", "/backup/tree", dst)
	sameTree(t, src, filepath.Join(dst, "tree"))
}

// countingTransport counts content bytes received and the Range headers
// of content requests, and can cancel a context after some bytes.
type countingTransport struct {
	base     http.RoundTripper
	bytes    atomic.Int64
	cancelAt int64
	cancel   context.CancelFunc
	mu       sync.Mutex
	ranges   []string
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/content") {
		return resp, err
	}
	c.mu.Lock()
	c.ranges = append(c.ranges, req.Header.Get("Range"))
	c.mu.Unlock()
	resp.Body = &countingBody{ReadCloser: resp.Body, c: c}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	c *countingTransport
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	total := b.c.bytes.Add(int64(n))
	if b.c.cancel != nil && total >= b.c.cancelAt {
		b.c.cancel()
	}
	return n, err
}

// TestCLIResumeDownload interrupts a large download and resumes it: the
// partial file is reused, not fetched again.
func TestCLIResumeDownload(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	u := newCLIUser(t, srv, "cli-resume")
	const size = 20 << 20
	data := randomBytes(size, 2024)
	local := filepath.Join(t.TempDir(), "big.bin")
	os.WriteFile(local, data, 0o644)
	u.mustRun("upload", local, "/")

	dst := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone(), cancelAt: 8 << 20, cancel: cancel}
	u.transport = first
	r := u.runCtx(ctx, "download", "/big.bin", dst)
	if r.code != cli.ExitInterrupted {
		t.Fatalf("interrupted download: exit %d, want %d: %s", r.code, cli.ExitInterrupted, r.stderr)
	}
	if !strings.Contains(r.stderr, "interrupted") {
		t.Errorf("stderr does not say what happened: %s", r.stderr)
	}
	partial := filepath.Join(dst, "big.bin"+client.IncompleteSuffix)
	st, err := os.Stat(partial)
	if err != nil {
		t.Fatalf("no partial file: %v", err)
	}
	have := st.Size()
	if have < 8<<20 || have >= size {
		t.Fatalf("partial file has %d bytes, want between 8 MiB and %d", have, size)
	}
	if _, err := os.Stat(filepath.Join(dst, "big.bin")); !os.IsNotExist(err) {
		t.Fatalf("final file exists before the download completed")
	}

	second := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	u.transport = second
	u.mustRun("download", "/big.bin", dst)
	got, err := os.ReadFile(filepath.Join(dst, "big.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("resumed file: %d bytes, equal %v, %v", len(got), bytes.Equal(got, data), err)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("partial file still there")
	}
	if wantRange := fmt.Sprintf("bytes=%d-%d", have, size-1); !slices.Equal(second.ranges, []string{wantRange}) {
		t.Errorf("resume requests = %q, want [%s]", second.ranges, wantRange)
	}
	if n := second.bytes.Load(); n != size-have {
		t.Errorf("resume fetched %d bytes, want %d (the rest only)", n, size-have)
	}
}

// TestCLIChangesReflectedAfterSync: mv, rename, trash, restore and purge,
// done by another client or by the CLI, show in ls/find after sync.
func TestCLIChangesReflectedAfterSync(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	u := newCLIUser(t, srv, "cli-ops")
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "proj")
	for _, f := range []string{"a.txt", "b.txt", "c.txt", "docs/readme.md", "docs/old/legacy.txt", "tmp/x.bin"} {
		p := filepath.Join(src, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(f), 0o644)
	}
	u.mustRun("upload", src, "/")
	u.mustRun("sync")
	ls := func(p string) []string {
		t.Helper()
		return lines(u.mustRun("ls", p))
	}
	if got := ls("/proj"); !slices.Equal(got, []string{"a.txt", "b.txt", "c.txt", "docs/", "tmp/"}) {
		t.Fatalf("ls /proj = %q", got)
	}

	// Another client changes things.
	c := u.sdk()
	look := func(p string) *acd.Node {
		t.Helper()
		n, err := c.Lookup(ctx, p)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", p, err)
		}
		return n
	}
	proj, docs := look("/proj"), look("/proj/docs")
	if _, err := c.Rename(ctx, look("/proj/a.txt").ID, "alpha.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(ctx, look("/proj/b.txt").ID, proj.ID, docs.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Trash(ctx, look("/proj/tmp").ID); err != nil {
		t.Fatal(err)
	}
	legacy := look("/proj/docs/old/legacy.txt")
	if _, err := c.Trash(ctx, legacy.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Restore(ctx, legacy.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Purge(ctx, look("/proj/c.txt").ID); err != nil {
		t.Fatal(err)
	}
	// Not yet in the cache...
	if got := ls("/proj"); !slices.Equal(got, []string{"a.txt", "b.txt", "c.txt", "docs/", "tmp/"}) {
		t.Errorf("ls before sync = %q; the cache should not have changed", got)
	}
	// stat reads the API, and says the cache is behind.
	if r := u.run("stat", "/proj/a.txt"); r.code != 0 || !strings.Contains(r.stdout, "alpha.txt") || !strings.Contains(r.stderr, "run clouddrive sync") {
		t.Errorf("stat of a node renamed elsewhere: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// ...until sync.
	r := u.run("sync")
	if r.code != 0 || !strings.Contains(r.stderr, "incremental") || !strings.Contains(r.stderr, "1 purged") {
		t.Errorf("sync: exit %d: %s", r.code, r.stderr)
	}
	if got := ls("/proj"); !slices.Equal(got, []string{"alpha.txt", "docs/"}) {
		t.Errorf("ls /proj after sync = %q, want [alpha.txt docs/]", got)
	}
	if got := ls("/proj/docs"); !slices.Equal(got, []string{"b.txt", "old/", "readme.md"}) {
		t.Errorf("ls /proj/docs after sync = %q", got)
	}
	if got := lines(u.mustRun("find", "--name", "legacy.txt")); !slices.Equal(got, []string{"/proj/docs/old/legacy.txt"}) {
		t.Errorf("find legacy.txt = %q (restored)", got)
	}
	if got := lines(u.mustRun("find", "--name", "x.bin")); len(got) != 0 {
		t.Errorf("find x.bin = %q, want nothing (trashed with its folder)", got)
	}
	if got := lines(u.mustRun("ls", "--trash")); !slices.Equal(got, []string{"/proj/tmp/"}) {
		t.Errorf("ls --trash = %q", got)
	}

	// Now the CLI does the same kinds of changes.
	u.mustRun("mv", "/proj/alpha.txt", "/proj/docs")
	u.mustRun("mv", "/proj/docs/b.txt", "/proj/beta.txt") // move and rename at once
	u.mustRun("rename", "/proj/docs/readme.md", "README.md")
	u.mustRun("mkdir", "-p", "/proj/new/deeper")
	u.mustRun("trash", "/proj/docs/old")
	u.mustRun("restore", "/proj/tmp")
	u.mustRun("trash", "/proj/tmp/x.bin")
	u.mustRun("purge", "/proj/tmp/x.bin")
	check := func(when string) {
		t.Helper()
		if got := ls("/proj"); !slices.Equal(got, []string{"beta.txt", "docs/", "new/", "tmp/"}) {
			t.Errorf("%s: ls /proj = %q", when, got)
		}
		if got := ls("/proj/docs"); !slices.Equal(got, []string{"alpha.txt", "README.md"}) {
			t.Errorf("%s: ls /proj/docs = %q", when, got)
		}
		if got := ls("/proj/tmp"); len(got) != 0 {
			t.Errorf("%s: ls /proj/tmp = %q, want empty", when, got)
		}
		if got := lines(u.mustRun("ls", "--trash")); !slices.Equal(got, []string{"/proj/docs/old/"}) {
			t.Errorf("%s: ls --trash = %q", when, got)
		}
	}
	check("at once")
	u.mustRun("sync")
	check("after sync")
	u.mustRun("sync", "--full")
	check("after a full sync")
	// The other client sees the CLI's changes.
	if n := look("/proj/docs/README.md"); n.Name != "README.md" {
		t.Errorf("SDK sees %q", n.Name)
	}
	if _, err := c.Lookup(ctx, "/proj/tmp/x.bin"); err == nil {
		t.Errorf("purged file still found")
	}
	// Purge needs the trash (or --force).
	u.wantCode(cli.ExitFailure, "purge", "/proj/beta.txt")
	u.mustRun("purge", "--force", "/proj/beta.txt")
	u.wantCode(cli.ExitNotFound, "stat", "/proj/beta.txt")
}

// TestCLIErrorsAndHelp checks exit codes, hints, the credentials file and
// that every command has --help.
func TestCLIErrorsAndHelp(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	dir := t.TempDir()
	u := &cliUser{t: t, srv: srv, vars: map[string]string{cli.EnvConfigDir: filepath.Join(dir, "c"), cli.EnvCacheDir: filepath.Join(dir, "k")}}

	r := u.wantCode(cli.ExitAuth, "ls", "/")
	if !strings.Contains(r.stderr, "clouddrive login --server") {
		t.Errorf("not logged in: %q", r.stderr)
	}
	u.wantCode(cli.ExitUsage, "login", "--token", "x")
	u.wantCode(cli.ExitUsage, "login", "--server", "ftp://x", "--token", "x")
	u.wantCode(cli.ExitUsage, "login", "--server", srv.URL, "--browser", "--device")
	r = u.wantCode(cli.ExitAuth, "login", "--server", srv.URL, "--token", "bogus")
	if !strings.Contains(r.stderr, "admin token") {
		t.Errorf("bad token hint: %q", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "c", "credentials.json")); !os.IsNotExist(err) {
		t.Errorf("a rejected token was stored")
	}
	tok := srv.Token("cli-errors")
	u.token = tok
	u.mustRun("login", "--server", srv.URL+"/", "--token", tok)
	st, err := os.Stat(filepath.Join(dir, "c", "credentials.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, %v; want mode 0600", st, err)
	}

	u.mustRun("mkdir", "/d")
	u.wantCode(cli.ExitConflict, "mkdir", "/d")
	u.mustRun("mkdir", "-p", "/d")
	u.wantCode(cli.ExitNotFound, "mkdir", "/nope/x")
	r = u.wantCode(cli.ExitNotFound, "ls", "/missing/path")
	if !strings.Contains(r.stderr, "hint:") {
		t.Errorf("no hint: %q", r.stderr)
	}
	u.wantCode(cli.ExitNotFound, "upload", filepath.Join(dir, "no-such-file"), "/d")
	u.wantCode(cli.ExitUsage, "ls", "--bogus")
	u.wantCode(cli.ExitUsage, "rename", "/d")
	u.wantCode(cli.ExitUsage, "find", "--size", "huge")
	u.wantCode(cli.ExitUsage, "upload", "-j", "0", dir, "/d")
	u.wantCode(cli.ExitUsage, "nosuchcommand")

	// Every command answers --help with its usage and the exit codes.
	for _, c := range cli.Commands(&cli.Env{}) {
		cmds := append([]string{c.Name()}, nil...)
		if c.HasSubCommands() {
			for _, s := range c.Commands() {
				r := u.run(c.Name(), s.Name(), "--help")
				if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
					t.Errorf("%s %s --help: exit %d: %s", c.Name(), s.Name(), r.code, r.stdout)
				}
			}
		}
		r := u.run(append(cmds, "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") && c.Runnable() {
			t.Errorf("%s --help: exit %d: %s", c.Name(), r.code, r.stdout)
		}
		if c.Runnable() && !strings.Contains(r.stdout, "Exit codes:") {
			t.Errorf("%s --help does not list the exit codes", c.Name())
		}
	}

	// A token the server no longer accepts.
	creds := filepath.Join(dir, "c", "credentials.json")
	raw, _ := os.ReadFile(creds)
	os.WriteFile(creds, bytes.Replace(raw, []byte(tok), []byte("revoked-token"), 1), 0o600)
	r = u.wantCode(cli.ExitAuth, "stat", "/d")
	if !strings.Contains(r.stderr, "clouddrive login") {
		t.Errorf("rejected token hint: %q", r.stderr)
	}
	u.mustRun("logout")
	u.wantCode(cli.ExitAuth, "quota")
}

// TestCLIMisc covers props, link, cat, stat, usage, quota and the
// progress output.
func TestCLIMisc(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	u := newCLIUser(t, srv, "cli-misc")
	dir := t.TempDir()
	data := randomBytes(300<<10, 3)
	os.WriteFile(filepath.Join(dir, "one.bin"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "two.txt"), []byte("two"), 0o644)

	// -P without a terminal: one line per file and a total.
	r := u.run("upload", "-P", filepath.Join(dir, "one.bin"), filepath.Join(dir, "two.txt"), "/m")
	if r.code != 0 || !strings.Contains(r.stderr, "/m/one.bin: 300 KiB in") || !strings.Contains(r.stderr, "total: 2 files") {
		t.Errorf("upload -P (no tty): exit %d: %s", r.code, r.stderr)
	}
	// -P on a terminal: bars with rate and ETA.
	u.tty = true
	r = u.run("download", "-P", "/m", filepath.Join(dir, "dl"))
	if r.code != 0 || !strings.Contains(r.stderr, "total") || !strings.Contains(r.stderr, "/s") {
		t.Errorf("download -P (tty): exit %d: %q", r.code, r.stderr)
	}
	u.tty = false
	// -q: nothing on stderr.
	if r := u.run("download", "-q", "--overwrite", "/m", filepath.Join(dir, "dl")); r.code != 0 || r.stderr != "" || r.stdout != "" {
		t.Errorf("download -q printed %q %q", r.stdout, r.stderr)
	}

	if got := u.mustRun("cat", "/m/two.txt", "/m/two.txt"); got != "twotwo" {
		t.Errorf("cat = %q", got)
	}
	out := u.mustRun("stat", "/m/one.bin")
	if !strings.Contains(out, md5hex(data)) || !strings.Contains(out, "307200") {
		t.Errorf("stat = %s", out)
	}
	var sn []*acd.Node
	if err := json.Unmarshal([]byte(u.mustRun("stat", "--json", "/m/one.bin")), &sn); err != nil || len(sn) != 1 || sn[0].ContentProperties.MD5 != md5hex(data) {
		t.Errorf("stat --json: %v, %v", sn, err)
	}
	u.mustRun("props", "set", "/m/one.bin", "color", "blue")
	u.mustRun("props", "set", "/m/one.bin", "shape", "round")
	if got := u.mustRun("props", "get", "/m/one.bin"); got != "color=blue\nshape=round\n" {
		t.Errorf("props get = %q", got)
	}
	if got := u.mustRun("props", "get", "/m/one.bin", "color"); got != "blue\n" {
		t.Errorf("props get color = %q", got)
	}
	u.mustRun("props", "rm", "/m/one.bin", "color")
	u.wantCode(cli.ExitNotFound, "props", "get", "/m/one.bin", "color")

	link := strings.TrimSpace(u.mustRun("link", "/m/one.bin"))
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, data) {
		t.Errorf("link serves %d bytes", len(body))
	}
	u.wantCode(cli.ExitUsage, "link", "/m")

	if out := u.mustRun("usage"); !strings.Contains(out, "total") || !strings.Contains(out, fmt.Sprint(len(data)+3)) {
		t.Errorf("usage = %s", out)
	}
	var q acd.Quota
	if err := json.Unmarshal([]byte(u.mustRun("quota", "--json")), &q); err != nil || q.Quota-q.Available != int64(len(data)+3) {
		t.Errorf("quota --json = %+v, %v", q, err)
	}
	// id: paths.
	id := sn[0].ID
	if got := u.mustRun("cat", "id:"+id); got != string(data) {
		t.Errorf("cat id: returned %d bytes", len(got))
	}
}

// TestCLICachePerAccount: two users whose logins share one cache
// directory each list and find only their own nodes after sync, whether
// they have config directories of their own or take turns in one; a
// cache file left from the server-only key of older versions is dropped
// at login.
func TestCLICachePerAccount(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "shared-cache")
	user := func(name, config string) *cliUser {
		u := &cliUser{t: t, srv: srv, token: srv.Token(name), vars: map[string]string{
			cli.EnvConfigDir: filepath.Join(dir, config), cli.EnvCacheDir: cacheDir}}
		u.mustRun("login", "--server", srv.URL, "--token", u.token)
		return u
	}
	src := t.TempDir()
	file := func(name string) string {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	alice, bob := user("cache-alice", "alice"), user("cache-bob", "bob")
	alice.mustRun("upload", file("alice-secret.txt"), "/private/")
	bob.mustRun("upload", file("bob-notes.txt"), "/private/")
	// The other user's client changed things too: both sync.
	alice.mustRun("sync")
	bob.mustRun("sync")
	for _, tc := range []struct {
		u          *cliUser
		mine, not  string
		whose      string
		mineInList []string
	}{
		{alice, "alice-secret.txt", "bob-notes.txt", "alice", []string{"alice-secret.txt"}},
		{bob, "bob-notes.txt", "alice-secret.txt", "bob", []string{"bob-notes.txt"}},
	} {
		if got := lines(tc.u.mustRun("ls", "/private")); !slices.Equal(got, tc.mineInList) {
			t.Errorf("%s: ls /private = %q, want %q", tc.whose, got, tc.mineInList)
		}
		if got := lines(tc.u.mustRun("find", "--name", "*.txt")); !slices.Equal(got, []string{"/private/" + tc.mine}) {
			t.Errorf("%s: find = %q, want only /private/%s", tc.whose, got, tc.mine)
		}
		if out := tc.u.mustRun("tree", "/"); strings.Contains(out, tc.not) {
			t.Errorf("%s sees the other user's file: %s", tc.whose, out)
		}
	}

	// One config directory, logins taking turns: each sees their own.
	shared := user("cache-alice", "turns")
	shared.mustRun("sync")
	if got := lines(shared.mustRun("find", "--name", "*.txt")); !slices.Equal(got, []string{"/private/alice-secret.txt"}) {
		t.Errorf("alice in turns: find = %q", got)
	}
	shared.token = srv.Token("cache-bob")
	shared.mustRun("login", "--server", srv.URL, "--token", shared.token)
	if got := lines(shared.mustRun("find", "--name", "*.txt")); !slices.Equal(got, []string{"/private/bob-notes.txt"}) {
		t.Errorf("bob after alice in one config dir: find = %q", got)
	}

	// Credentials stored before the account was kept (no "account") learn
	// it on first use and still get a cache of their own.
	creds := filepath.Join(dir, "bob", "credentials.json")
	raw, err := os.ReadFile(creds)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m["account"] == "" || m["account"] == nil {
		t.Fatalf("credentials hold no account: %s", raw)
	}
	delete(m, "account")
	raw, _ = json.Marshal(m)
	os.WriteFile(creds, raw, 0o600)
	if got := lines(bob.mustRun("ls", "/private")); !slices.Equal(got, []string{"bob-notes.txt"}) {
		t.Errorf("bob with old credentials: ls /private = %q", got)
	}
	raw, _ = os.ReadFile(creds)
	if !strings.Contains(string(raw), `"account"`) {
		t.Errorf("the account was not learned: %s", raw)
	}

	// The cache of older versions (nodes-<12 hex of sha256(server)>.db),
	// which any user of the server may have filled, is removed at login.
	sum := sha256.Sum256([]byte(srv.URL))
	legacy := filepath.Join(cacheDir, "nodes-"+hex.EncodeToString(sum[:6])+".db")
	if err := os.WriteFile(legacy, []byte("not a cache of this account"), 0o600); err != nil {
		t.Fatal(err)
	}
	alice.mustRun("login", "--server", srv.URL, "--token", alice.token)
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Errorf("legacy server-wide cache kept: %v", err)
	}
}

// TestCLIUploadAsName: a single file uploaded to a new file-like name is
// stored under that name in the folder above, as cp does; folders stay
// folders, and a name that could be either is refused with the two ways
// to say which.
func TestCLIUploadAsName(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	u := newCLIUser(t, srv, "cli-upload-as")
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	os.WriteFile(a, []byte("alpha"), 0o644)
	other := filepath.Join(dir, "other.txt")
	os.WriteFile(other, []byte("other content"), 0o644)
	ctx := context.Background()
	c := u.sdk()
	kindOf := func(p string) string {
		t.Helper()
		n, err := c.Lookup(ctx, p)
		if err != nil {
			return "missing"
		}
		return n.Kind
	}

	// A new file-like name, in a folder that does not exist yet either.
	u.mustRun("upload", a, "/x/b.txt")
	if got := u.mustRun("cat", "/x/b.txt"); got != "alpha" {
		t.Errorf("/x/b.txt = %q", got)
	}
	if k := kindOf("/x/b.txt/a.txt"); k != "missing" {
		t.Errorf("a folder b.txt was made (%s)", k)
	}
	// Its own name without an extension is a file too.
	mk := filepath.Join(dir, "Makefile")
	os.WriteFile(mk, []byte("all:"), 0o644)
	u.mustRun("upload", mk, "/x/Makefile")
	if k := kindOf("/x/Makefile"); k != client.KindFile {
		t.Errorf("/x/Makefile is %s", k)
	}
	// An existing folder, or a name ending in /, is a folder.
	u.mustRun("upload", a, "/x")
	if k := kindOf("/x/a.txt"); k != client.KindFile {
		t.Errorf("/x/a.txt is %s", k)
	}
	u.mustRun("upload", a, "/new.d/")
	if k := kindOf("/new.d/a.txt"); k != client.KindFile {
		t.Errorf("/new.d/a.txt is %s", k)
	}
	// Several sources need a folder: made even for a file-like name.
	u.mustRun("upload", a, other, "/many")
	if k := kindOf("/many/other.txt"); k != client.KindFile {
		t.Errorf("/many/other.txt is %s", k)
	}
	// Ambiguous: a new name without an extension for one file.
	r := u.wantCode(cli.ExitUsage, "upload", a, "/Backup")
	if !strings.Contains(r.stderr, "/Backup/") || !strings.Contains(r.stderr, "/Backup/a.txt") {
		t.Errorf("ambiguous DEST: no hint with both ways: %s", r.stderr)
	}
	if k := kindOf("/Backup"); k != "missing" {
		t.Errorf("a refused upload created /Backup (%s)", k)
	}
	// Onto an existing file: the same content is skipped, other content
	// is a conflict unless --overwrite.
	if r := u.run("upload", a, "/x/b.txt"); r.code != 0 || !strings.Contains(r.stderr, "skipped 1 unchanged") {
		t.Errorf("same file again: exit %d: %s", r.code, r.stderr)
	}
	u.wantCode(cli.ExitConflict, "upload", other, "/x/b.txt")
	u.mustRun("upload", "--overwrite", other, "/x/b.txt")
	if got := u.mustRun("cat", "/x/b.txt"); got != "other content" {
		t.Errorf("/x/b.txt after --overwrite = %q", got)
	}
	// Several sources onto a file: a conflict.
	u.wantCode(cli.ExitConflict, "upload", a, other, "/x/b.txt")
}

// TestCLIFriendlyOutput: global flags before the command, consistent exit
// codes for restore and purge outside the trash, mkdir -p naming what it
// made, an unlimited quota in words, -P without a terminal listing only
// transfers, and errors without SDK method names.
func TestCLIFriendlyOutput(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	u := newCLIUser(t, srv, "cli-friendly")
	dir := t.TempDir()
	f := filepath.Join(dir, "f.txt")
	os.WriteFile(f, []byte("f"), 0o644)

	// -v and -q before the command name.
	if r := u.run("-v", "upload", f, "/d/"); r.code != 0 || !strings.Contains(r.stderr, "level=DEBUG") {
		t.Errorf("clouddrive -v upload: exit %d: %s", r.code, r.stderr)
	}
	if r := u.run("-v", "ls", "/"); r.code != 0 || r.stdout != "d/\n" {
		t.Errorf("clouddrive -v ls /: exit %d: %q %s", r.code, r.stdout, r.stderr)
	}
	if r := u.run("-q", "mkdir", "/q"); r.code != 0 || r.stderr != "" {
		t.Errorf("clouddrive -q mkdir: exit %d: %q", r.code, r.stderr)
	}
	u.wantCode(cli.ExitUsage, "--bogus", "ls")
	u.wantCode(cli.ExitUsage, "nosuchcommand")

	// restore and purge of a node that is not in the trash: both 1.
	r := u.wantCode(cli.ExitFailure, "restore", "/d/f.txt")
	if !strings.Contains(r.stderr, "not in the trash") || !strings.Contains(r.stderr, "ls --trash") {
		t.Errorf("restore outside the trash: %s", r.stderr)
	}
	u.wantCode(cli.ExitFailure, "purge", "/d/f.txt")

	// mkdir -p prints each folder it made, and only those.
	r = u.run("mkdir", "-p", "/d/e/g")
	if r.code != 0 || r.stderr != "created /d/e/\ncreated /d/e/g/\n" {
		t.Errorf("mkdir -p: exit %d: %q", r.code, r.stderr)
	}
	if r := u.run("mkdir", "-p", "/d/e/g"); r.code != 0 || r.stderr != "" {
		t.Errorf("mkdir -p of existing folders: exit %d: %q", r.code, r.stderr)
	}

	// No quota: "unlimited", not 1.0 PiB.
	out := u.mustRun("quota")
	if !strings.Contains(out, "quota:     unlimited") || !strings.Contains(out, "available: unlimited") || strings.Contains(out, "PiB") {
		t.Errorf("quota = %q", out)
	}

	// -P without a terminal: skipped files are not listed as transfers.
	g := filepath.Join(dir, "g.txt")
	os.WriteFile(g, []byte("gg"), 0o644)
	r = u.run("upload", "-P", f, g, "/d")
	if r.code != 0 || strings.Contains(r.stderr, "/d/f.txt:") || !strings.Contains(r.stderr, "/d/g.txt: 2 B in") ||
		!strings.Contains(r.stderr, "total: 1 file, 2 B") || !strings.Contains(r.stderr, "1 unchanged, skipped") {
		t.Errorf("upload -P with one unchanged file: exit %d: %s", r.code, r.stderr)
	}

	// A 400 from the server: what it refused, without the SDK's names.
	r = u.wantCode(cli.ExitFailure, "props", "set", "/d/f.txt", "k", strings.Repeat("v", 600))
	if strings.Contains(r.stderr, "client.") || strings.Contains(r.stderr, "400 Bad Request") ||
		!strings.Contains(r.stderr, "the server refused the request: ") || !strings.Contains(r.stderr, "logref") {
		t.Errorf("400 error: %s", r.stderr)
	}
	// A token of another server or data directory, right at login.
	other := drivetest.New(t, drivetest.Options{})
	r = u.wantCode(cli.ExitAuth, "login", "--server", srv.URL, "--token", other.Token("cli-friendly"))
	if strings.Contains(r.stderr, "client.") || !strings.Contains(r.stderr, "--data") {
		t.Errorf("token of another data dir: %s", r.stderr)
	}
}

// TestCLIBinaryExitCodes runs the real binary: an unknown command and a
// bad flag before or after the command exit 2 as documented, global flags
// work before the command name, and serve on a busy address names --addr.
func TestCLIBinaryExitCodes(t *testing.T) {
	bin, data, tok := binaryTest(t, "exit-codes")
	p := startServe(t, bin, "--data", data)
	home := t.TempDir()
	run := func(args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), cli.EnvConfigDir+"="+filepath.Join(home, "c"), cli.EnvCacheDir+"="+filepath.Join(home, "k"))
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%v: %v", args, err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"nosuchcommand"}, cli.ExitUsage},
		{[]string{"--bogus"}, cli.ExitUsage},
		{[]string{"--bogus", "ls"}, cli.ExitUsage},
		{[]string{"ls", "--bogus"}, cli.ExitUsage},
		{[]string{"admin", "user", "add"}, cli.ExitUsage},
		{[]string{"admin", "nosuch"}, cli.ExitUsage},
		{[]string{"-v", "ls", "/"}, cli.ExitAuth},
		{[]string{"login", "--server", "http://" + p.addr, "--token", tok}, cli.ExitOK},
		{[]string{"-v", "ls", "/"}, cli.ExitOK},
		{[]string{"-q", "mkdir", "-p", "/a/b"}, cli.ExitOK},
		{[]string{"restore", "/a/b"}, cli.ExitFailure},
		{[]string{"purge", "/a/b"}, cli.ExitFailure},
	} {
		if code, out := run(tc.args...); code != tc.code {
			t.Errorf("clouddrive %s: exit %d, want %d\n%s", strings.Join(tc.args, " "), code, tc.code, out)
		}
	}
	code, out := run("serve", "--data", t.TempDir(), "--addr", p.addr)
	if code != cli.ExitFailure || !strings.Contains(out, "--addr") || !strings.Contains(out, "in use") {
		t.Errorf("serve on a busy address: exit %d: %s", code, out)
	}
}
