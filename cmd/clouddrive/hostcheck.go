package main

import (
	"fmt"
	"net"

	"github.com/clouddrive/clouddrive/internal/httpapi"
)

// checkListenAddr refuses to serve beyond loopback without --public-url:
// the server would then build its redirect URIs and links from whatever
// Host header a client sends (and, to stop that, answer only loopback
// names, which nobody on the network would use). --allow-any-host says
// the Host header is trusted (a proxy that sets it, a closed network).
func checkListenAddr(addr, publicURL string, anyHost bool) error {
	if publicURL != "" || anyHost {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("setting addr: %q is not HOST:PORT", addr)
	}
	if host != "" && (httpapi.LoopbackHost(host) || httpapi.LoopbackHost("["+host+"]")) {
		return nil
	}
	return fmt.Errorf("setting addr: %s listens beyond loopback, and without --public-url the server would take its own URL "+
		"(OAuth redirect URIs, links, metadataUrl) from each request's Host header; set --public-url to the URL clients use, "+
		"or pass --allow-any-host to trust the Host header", addr)
}
