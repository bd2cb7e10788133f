package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesOpenAddrWithoutPublicURL: on an address beyond loopback
// the Host header would decide redirect URIs and links, so serve wants
// --public-url, or --allow-any-host to say the Host is trusted.
func TestServeRefusesOpenAddrWithoutPublicURL(t *testing.T) {
	dir := t.TempDir()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "drive.example:0"} {
		_, _, err := run(t, "", "serve", "--addr", addr, "--data", filepath.Join(dir, "d"))
		if err == nil || !strings.Contains(err.Error(), "--public-url") || !strings.Contains(err.Error(), "--allow-any-host") {
			t.Errorf("serve --addr %s: err = %v, want a refusal naming --public-url and --allow-any-host", addr, err)
		}
	}
	for _, c := range []struct {
		addr, publicURL string
		anyHost         bool
	}{
		{"127.0.0.1:8080", "", false}, {"localhost:8080", "", false}, {"[::1]:8080", "", false}, {"127.0.0.2:0", "", false},
		{"0.0.0.0:8080", "https://drive.example.com", false}, {":8080", "", true},
	} {
		if err := checkListenAddr(c.addr, c.publicURL, c.anyHost); err != nil {
			t.Errorf("checkListenAddr(%q, %q, %t) = %v, want nil", c.addr, c.publicURL, c.anyHost, err)
		}
	}
}
