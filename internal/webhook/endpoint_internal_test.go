package webhook

import "testing"

func TestEndpointKey(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://hooks.example.com/a", "hooks.example.com:443"},
		{"https://HOOKS.Example.COM./b?x=1", "hooks.example.com:443"},
		{"https://hooks.example.com:443/c#frag", "hooks.example.com:443"},
		{"http://hooks.example.com/d", "hooks.example.com:80"},
		{"HTTP://hooks.example.com:8080/e", "hooks.example.com:8080"},
		{"https://[2001:DB8::0:1]/f", "[2001:db8::1]:443"},
		{"https://[::ffff:192.0.2.1]:8443/g", "192.0.2.1:8443"},
		{"https://user@hooks.example.com/h", "hooks.example.com:443"},
	} {
		if got := endpointKey(tc.url); got != tc.want {
			t.Errorf("endpointKey(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}
