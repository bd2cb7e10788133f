package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/client"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in     string
		n      int64
		match  []int64
		reject []int64
	}{
		{"0", 0, []int64{0}, []int64{1}},
		{"+1M", 1 << 20, []int64{1<<20 + 1}, []int64{1 << 20, 5}},
		{"-10k", 10 << 10, []int64{0, 10<<10 - 1}, []int64{10 << 10}},
		{"1.5K", 1536, []int64{1536}, []int64{1535}},
		{"+2GiB", 2 << 30, []int64{2<<30 + 1}, []int64{2 << 30}},
		{"100B", 100, []int64{100}, []int64{101}},
		{"+1MB", 1e6, []int64{1e6 + 1}, []int64{1e6}},
		{"-1.5 MiB", 3 << 19, []int64{3<<19 - 1}, []int64{3 << 19}},
	} {
		f, err := parseSize(tc.in)
		if err != nil || f.n != tc.n {
			t.Errorf("parseSize(%q) = %+v, %v; want n=%d", tc.in, f, err, tc.n)
			continue
		}
		for _, v := range tc.match {
			if !f.match(v) {
				t.Errorf("parseSize(%q).match(%d) = false", tc.in, v)
			}
		}
		for _, v := range tc.reject {
			if f.match(v) {
				t.Errorf("parseSize(%q).match(%d) = true", tc.in, v)
			}
		}
	}
	for _, bad := range []string{"", "huge", "+", "1X", "--1", "+-1", "1e3"} {
		if _, err := parseSize(bad); ExitCode(err) != ExitUsage {
			t.Errorf("parseSize(%q) err = %v, want a usage error", bad, err)
		}
	}
}

func TestParseModified(t *testing.T) {
	now := time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)
	day := func(d int, h int) time.Time { return time.Date(2025, 6, d, h, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		in     string
		match  []time.Time
		reject []time.Time
	}{
		{"-7d", []time.Time{day(9, 0), now}, []time.Time{day(8, 11)}},
		{"+7d", []time.Time{day(8, 11)}, []time.Time{day(8, 13)}},
		{"-2h", []time.Time{day(15, 11)}, []time.Time{day(15, 9)}},
		{"2025-06-01", []time.Time{day(1, 0), day(1, 23)}, []time.Time{day(2, 0), time.Date(2025, 5, 31, 23, 0, 0, 0, time.UTC)}},
		{"2025-06-01..2025-06-03", []time.Time{day(1, 0), day(3, 23)}, []time.Time{day(4, 0)}},
		{"2025-06-10..", []time.Time{day(10, 0), now}, []time.Time{day(9, 23)}},
		{"..2025-06-01", []time.Time{day(1, 23), day(1, 0).AddDate(-1, 0, 0)}, []time.Time{day(2, 0)}},
	} {
		f, err := parseModified(tc.in, now)
		if err != nil {
			t.Errorf("parseModified(%q): %v", tc.in, err)
			continue
		}
		for _, v := range tc.match {
			if !f.match(v) {
				t.Errorf("parseModified(%q).match(%v) = false", tc.in, v)
			}
		}
		for _, v := range tc.reject {
			if f.match(v) {
				t.Errorf("parseModified(%q).match(%v) = true", tc.in, v)
			}
		}
	}
	for _, bad := range []string{"", "yesterday", "-7y", "2025-13-01", "1..2"} {
		if _, err := parseModified(bad, now); ExitCode(err) != ExitUsage {
			t.Errorf("parseModified(%q) err = %v, want a usage error", bad, err)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*.jpg", "IMG_1.JPG", true},
		{"*.jpg", "a.jpeg", false},
		{"straße*", "STRASSE.txt", true},
		{"file?.txt", "file1.txt", true},
		{"[ab]*", "Bob", true},
	} {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestExitCode(t *testing.T) {
	notFound := &client.Error{StatusCode: 404}
	conflict := &client.ConflictError{Err: &client.Error{StatusCode: 409}}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain", errors.New("x"), ExitFailure},
		{"usage", usageErrorf("bad"), ExitUsage},
		{"not logged in", errNotLoggedIn, ExitAuth},
		{"401", fmt.Errorf("op: %w", &client.Error{StatusCode: 401}), ExitAuth},
		{"404", fmt.Errorf("/a: %w", notFound), ExitNotFound},
		{"no such path", fmt.Errorf("/a: %w", errNoSuchPath), ExitNotFound},
		{"local missing", &fs.PathError{Op: "stat", Path: "x", Err: fs.ErrNotExist}, ExitNotFound},
		{"409", conflict, ExitConflict},
		{"exists", withHint(fmt.Errorf("a: %w", errExists), "h"), ExitConflict},
		{"cancelled", fmt.Errorf("x: %w", context.Canceled), ExitInterrupted},
		{"quota", &client.Error{StatusCode: 403, Code: "QUOTA_EXCEEDED"}, ExitFailure},
		{"joined same", errors.Join(notFound, fmt.Errorf("b: %w", errNoSuchPath)), ExitNotFound},
		{"joined mixed", errors.Join(notFound, conflict), ExitFailure},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("%s: ExitCode(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
		if tc.err != nil && tc.want != ExitUsage && tc.want != ExitFailure && hint(tc.err) == "" {
			t.Errorf("%s: no hint for %v", tc.name, tc.err)
		}
	}
}

func TestSplitPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"/", nil}, {"", nil}, {"a/b", []string{"a", "b"}}, {"/a//b/", []string{"a", "b"}},
		{"/a/../b", []string{"b"}}, {"/../..", nil}, {" /x y/ ", []string{"x y"}},
	} {
		if got := splitPath(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("splitPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSafeName(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "a/b", "nul\x00"} {
		if safeName(bad) == nil {
			t.Errorf("safeName(%q) = nil", bad)
		}
	}
	for _, ok := range []string{"a", ".hidden", "...", `back\slash`, "ünï 🎉"} {
		if err := safeName(ok); err != nil {
			t.Errorf("safeName(%q) = %v", ok, err)
		}
	}
}

func TestExcluded(t *testing.T) {
	o := transferOpts{excludes: []string{"*.tmp", "src/.git", "build"}}
	for _, tc := range []struct {
		name, rel string
		want      bool
	}{
		{"a.tmp", "src/a.tmp", true}, {"a.txt", "src/a.txt", false}, {".git", "src/.git", true},
		{".git", "other/.git", false}, {"build", "x/build", true},
	} {
		if got := o.excluded(tc.name, tc.rel); got != tc.want {
			t.Errorf("excluded(%q, %q) = %v, want %v", tc.name, tc.rel, got, tc.want)
		}
	}
}

// TestMessage: errors of the SDK are printed in words, without the SDK
// method (client.CreateFolder) or the HTTP status line.
func TestMessage(t *testing.T) {
	bad := &client.Error{Op: "client.CreateFolder", Method: "POST", StatusCode: 400, Message: "name: must not be empty", Logref: "L1"}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("/x: %w", bad), "/x: the server refused the request: name: must not be empty (logref L1)"},
		{&client.ConflictError{Err: &client.Error{Op: "client.Move", StatusCode: 409, Code: "NAME_ALREADY_EXISTS", Message: "a node named a exists"}},
			"the name or content exists already: a node named a exists"},
		{fmt.Errorf("checking the token: %w", &client.Error{Op: "client.Node", StatusCode: 401, Message: "Unauthorized"}), "checking the token: the server rejected the token"},
		{&client.Error{Op: "client.Upload", StatusCode: 503, Message: "Service Unavailable"}, "the server failed (service unavailable)"},
		{fmt.Errorf("/a: %w", fmt.Errorf("client.Node: %w", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"))),
			"/a: dial tcp 127.0.0.1:1: connect: connection refused"},
	} {
		if got := message(tc.err); got != tc.want {
			t.Errorf("message(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestFileLike: which new names a single uploaded file is stored as.
func TestFileLike(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      bool
	}{
		{"b.txt", "a.txt", true}, {"archive.tar.gz", "x", true}, {"Makefile", "makefile", true},
		{"Backup", "a.txt", false}, {".hidden", "a.txt", false}, {"trailing.", "a.txt", false},
	} {
		if got := fileLike(tc.name, tc.src); got != tc.want {
			t.Errorf("fileLike(%q, %q) = %v, want %v", tc.name, tc.src, got, tc.want)
		}
	}
}
