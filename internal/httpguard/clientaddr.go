package httpguard

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr returns a function that names the client of a request for
// per-address limits: the IP address of r.RemoteAddr, or, when that is
// one of the trusted proxies, the rightmost address of X-Forwarded-For
// that is not a trusted proxy itself. Without trusted proxies every
// client behind a reverse proxy has the proxy's address and shares its
// limits. IPv6 addresses are reduced to their /64, the block one
// subscriber usually holds, so that rotating addresses inside it does
// not escape a limit.
func ClientAddr(trusted []netip.Prefix) func(r *http.Request) string {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		a, ok := parseAddr(r.RemoteAddr)
		if !ok {
			return r.RemoteAddr
		}
		if len(trusted) > 0 && isTrusted(a) {
			hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				h, ok := parseAddr(strings.TrimSpace(hops[i]))
				if !ok {
					break
				}
				a = h
				if !isTrusted(h) {
					break
				}
			}
		}
		return key(a)
	}
}

// parseAddr reads an IP address, with or without a port.
func parseAddr(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func key(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// ParsePrefixes reads CIDR prefixes (a bare address is its own /32 or
// /128), for a trusted-proxy setting.
func ParsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
