package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricsFlagErrors(t *testing.T) {
	dir := t.TempDir()
	short := writeFile(t, dir, "short", "abc\n")
	good := writeFile(t, dir, "good", "0123456789abcdef0123\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--metrics-public", "--metrics-token-file", good}, "setting metrics-public and metrics-token-file: give one or neither"},
		{[]string{"--metrics-token-file", filepath.Join(dir, "missing")}, "setting metrics-token-file:"},
		{[]string{"--metrics-token-file", short}, "at least 16 bytes"},
		{[]string{"--metrics-addr", "127.0.0.1:notaport"}, "setting metrics-addr:"},
	} {
		_, _, err := run(t, "", append([]string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "d")}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %v: err = %v, want it to contain %q", c.args, err, c.want)
		}
	}
}
