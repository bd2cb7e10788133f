package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// cgnat is the shared address space of RFC 6598, internal like RFC 1918.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// internalAddr reports whether ip is not a public unicast address:
// loopback, private (RFC 1918, fc00::/7), shared (100.64/10), link-local
// (which holds cloud metadata services at 169.254.169.254), unspecified
// or multicast.
func internalAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip)
}

// NewClient returns the HTTP client deliveries go out with. It follows no
// redirects (a redirect is a failed attempt) and uses no proxy. Unless
// allowInternal is set, it refuses to connect to internal addresses, so
// a subscription cannot make the server call services on its own network
// (SSRF); the check runs on the address actually dialled, after DNS
// resolution, so a name that resolves to an internal address is refused
// too.
func NewClient(allowInternal bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowInternal {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhook: unexpected dial address %q", address)
			}
			if internalAddr(ap.Addr()) {
				return fmt.Errorf("webhook: refusing to connect to internal address %s (serve --webhook-allow-internal permits it)", ap.Addr())
			}
			return nil
		}
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   DefaultPerEndpoint,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: DefaultTimeout,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
