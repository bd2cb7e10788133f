package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestMountUsage: bad flags are usage errors (exit 2), and without a
// login the command asks for one (exit 5) before touching FUSE.
func TestMountUsage(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{EnvConfigDir: dir + "/config", EnvCacheDir: dir + "/cache"}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"mount"}, ExitUsage, "accepts 1 arg"},
		{[]string{"mount", "--cache-size", "lots", dir}, ExitUsage, "--cache-size"},
		{[]string{"mount", "--poll", "2m", dir}, ExitUsage, "--poll"},
		{[]string{"mount", dir}, ExitAuth, "not logged in"},
	} {
		var stderr bytes.Buffer
		env := &Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(k string) string { return vars[k] }}
		if code := Main(context.Background(), env, tc.args); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, want %d; stderr %q lacks %q", tc.args, code, tc.code, stderr.String(), tc.want)
		}
	}
}
