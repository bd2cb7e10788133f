package httpguard_test

import (
	"net/http"
	"testing"

	"github.com/clouddrive/clouddrive/internal/httpguard"
)

func TestClientAddr(t *testing.T) {
	proxies, err := httpguard.ParsePrefixes([]string{"10.0.0.0/8", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := httpguard.ParsePrefixes([]string{"10.0.0.0/33"}); err == nil {
		t.Error("ParsePrefixes accepted 10.0.0.0/33")
	}
	direct, behind := httpguard.ClientAddr(nil), httpguard.ClientAddr(proxies)
	for _, tc := range []struct {
		name, remote, xff string
		direct, behind    string
	}{
		{"plain", "198.51.100.7:4321", "", "198.51.100.7", "198.51.100.7"},
		{"forged header from a client", "198.51.100.7:4321", "1.2.3.4", "198.51.100.7", "198.51.100.7"},
		{"through a trusted proxy", "10.1.2.3:555", "203.0.113.5", "10.1.2.3", "203.0.113.5"},
		{"client forges, proxy appends", "10.1.2.3:555", "1.2.3.4, 203.0.113.5", "10.1.2.3", "203.0.113.5"},
		{"two trusted proxies", "192.0.2.1:80", "203.0.113.5, 10.9.9.9", "192.0.2.1", "203.0.113.5"},
		{"garbage stops the walk", "10.1.2.3:555", "203.0.113.5, junk", "10.1.2.3", "10.1.2.3"},
		{"IPv6 by /64", "[2001:db8:1:2:aaaa::1]:443", "", "2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"IPv4-mapped", "[::ffff:198.51.100.7]:1", "", "198.51.100.7", "198.51.100.7"},
	} {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := direct(r); got != tc.direct {
			t.Errorf("%s: without trusted proxies = %q, want %q", tc.name, got, tc.direct)
		}
		if got := behind(r); got != tc.behind {
			t.Errorf("%s: with trusted proxies = %q, want %q", tc.name, got, tc.behind)
		}
	}
}
