package httpapi

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// Without a public URL the server derives its own base URL from each
// request's Host header: metadataUrl and contentUrl, temp and share
// links, OAuth redirect URIs and the web UI's frame-ancestors all follow
// it. Any name that reaches the listener would be believed, so such a
// server answers only loopback names (the default --addr is 127.0.0.1),
// and `clouddrive serve` refuses a wider --addr without --public-url
// unless --allow-any-host says the Host header is trusted.

// LoopbackHost reports whether a Host header value names the loopback
// interface: localhost, an IPv4 address in 127.0.0.0/8 or [::1], with or
// without a numeric port.
func LoopbackHost(host string) bool {
	name, port := host, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		name, port = host[:i], host[i+1:]
		if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return false
		}
	}
	if strings.EqualFold(name, "localhost") {
		return true
	}
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		ip, err := netip.ParseAddr(name[1 : len(name)-1])
		return err == nil && ip == netip.IPv6Loopback()
	}
	ip, err := netip.ParseAddr(name)
	return err == nil && ip.Is4() && ip.IsLoopback()
}

// CheckHost wraps next, the whole handler chain of a server. Unless
// PublicURL or AllowAnyHost is set, a request whose Host is not a
// loopback name (LoopbackHost) gets 400 in the API's error format, without
// reaching next; GET and HEAD /healthz and /readyz, which hand out no
// URLs, are served whatever the Host.
func (s *Server) CheckHost(next http.Handler) http.Handler {
	if s.PublicURL != "" || s.AllowAnyHost {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		health := (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz")
		if health || LoopbackHost(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		id := newRequestID()
		w.Header().Set("x-amzn-RequestId", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		s.writeError(w, r, &drive.Error{Op: "httpapi.CheckHost", Kind: drive.Invalid, Param: "Host",
			Message: "this server has no --public-url, so it answers only requests for localhost, 127.0.0.1 or [::1]; " +
				"set --public-url to the URL clients use (or --allow-any-host to trust every Host header)"})
	})
}
