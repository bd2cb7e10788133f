package shim

import (
	"net"
	"strings"
)

// The Amazon hosts the ACD clients call.
const (
	// HostDrive is the metadata host: rclone, go-acd and acd_cli ask it
	// for the endpoints (GET /drive/v1/account/endpoint).
	HostDrive = "drive.amazonaws.com"
	// HostCDWS is the metadata host ACD's endpoint call returned.
	HostCDWS = "cdws.us-east-1.amazonaws.com"
	// HostAPI is Login with Amazon's token endpoint host.
	HostAPI = "api.amazon.com"
	// HostWWW is Login with Amazon's authorization page host.
	HostWWW = "www.amazon.com"
)

// contentPrefix and contentSuffix frame the content hosts:
// content-na.drive.amazonaws.com, content-eu..., content-fe... .
const (
	contentPrefix = "content-"
	contentSuffix = "." + HostDrive
)

// constraintDomains are the CA's permitted DNS domains. A constraint
// permits the name and every name below it, so HostDrive covers the
// content hosts.
var constraintDomains = []string{HostDrive, HostCDWS, HostAPI, HostWWW}

// LeafNames are the names CA.WriteLeaf puts in its certificate, and the
// names to point at 127.0.0.1 in a hosts file (which takes no wildcards):
// every intercepted host, with the content hosts of ACD's three regions.
func LeafNames() []string {
	return []string{HostDrive, HostCDWS, "content-na" + contentSuffix, "content-eu" + contentSuffix,
		"content-fe" + contentSuffix, HostAPI, HostWWW}
}

// canonicalHost lowercases host and drops a port and a trailing dot.
func canonicalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// Intercepted reports whether the shim answers host (a name, with or
// without a port) itself: one of the fixed Amazon hosts, or
// content-REGION.drive.amazonaws.com for a single label REGION. Any
// other name, e.g. evil-drive.amazonaws.com.example, is not.
func Intercepted(host string) bool {
	h := canonicalHost(host)
	switch h {
	case HostDrive, HostCDWS, HostAPI, HostWWW:
		return true
	}
	region, ok := strings.CutPrefix(h, contentPrefix)
	if !ok {
		return false
	}
	region, ok = strings.CutSuffix(region, contentSuffix)
	return ok && isLabel(region)
}

// isLabel reports whether s is one DNS label of lowercase letters,
// digits and inner hyphens.
func isLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Routed reports whether the shim forwards path on host (an intercepted
// host) to the server: the metadata API on the metadata hosts, content on
// the content hosts, the token endpoints on api.amazon.com and the
// authorization pages on www.amazon.com. The path is the same on the
// server.
func Routed(host, path string) bool {
	var prefix string
	switch h := canonicalHost(host); h {
	case HostDrive, HostCDWS:
		prefix = "/drive/v1/"
	case HostAPI:
		prefix = "/auth/o2/"
	case HostWWW:
		prefix = "/ap/"
	default:
		if !Intercepted(h) {
			return false
		}
		prefix = "/cdproxy/"
	}
	return strings.HasPrefix(path, prefix) && !hasDotSegment(path)
}

// hasDotSegment reports whether path has a "." or ".." segment, which
// could climb out of the prefix once the server cleans it.
func hasDotSegment(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
