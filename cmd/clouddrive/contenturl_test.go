package main

import (
	"strings"
	"testing"
)

// TestContentURLFlag: serve refuses a --content-url it cannot route
// apart from --public-url, before opening anything; a valid one is a
// setting like the others.
func TestContentURLFlag(t *testing.T) {
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--content-url", "https://content.example.com"}, "setting content-url: needs public-url"},
		{[]string{"--public-url", "https://drive.example.com", "--content-url", "https://drive.example.com"}, "another host name"},
		{[]string{"--public-url", "https://drive.example.com", "--content-url", "https://drive.example.com:8443"}, "another host name"},
		{[]string{"--public-url", "https://drive.example.com", "--content-url", "content.example.com"}, "http:// or https://"},
	} {
		args := append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0"}, c.args...)
		_, _, err := run(t, "", args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("clouddrive %s: err %v, want it to contain %q", strings.Join(args, " "), err, c.want)
		}
	}
	out := mustRun(t, "", "serve", "--public-url", "https://drive.example.com", "--content-url", "https://content.example.net", "--print-config")
	if v, s := setting(t, out, "content-url"); v != `"https://content.example.net"` || s != "flag" {
		t.Errorf("content-url = %s (%s)", v, s)
	}
	help := mustRun(t, "", "serve", "--help")
	if !strings.Contains(help, "--content-url") || !strings.Contains(help, "content routes only") {
		t.Errorf("serve --help does not describe --content-url:\n%s", help)
	}
}
