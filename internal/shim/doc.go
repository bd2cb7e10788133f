// Package shim lets unmodified Amazon Cloud Drive clients (rclone's
// "amazon cloud drive" backend, go-acd, acd_cli) use a clouddrive server
// without patching them or their hard-coded Amazon URLs.
//
// Those clients make a few calls to fixed Amazon hosts: rclone and go-acd
// ask https://drive.amazonaws.com/drive/v1/account/endpoint for the
// metadata and content URLs on every start (acd_cli too, when its cached
// endpoint_data expires), and refresh tokens at
// https://api.amazon.com/auth/o2/token unless told otherwise (acd_cli
// always does). Everything else follows the URLs the endpoint call
// returned, which a clouddrive server points at itself.
//
// A Proxy is an HTTP proxy (what HTTPS_PROXY names) that terminates TLS
// for exactly those hosts and passes every other host through untouched:
//
//	drive.amazonaws.com/drive/v1/...            -> SERVER/drive/v1/...
//	cdws.us-east-1.amazonaws.com/drive/v1/...   -> SERVER/drive/v1/...
//	content-REGION.drive.amazonaws.com/cdproxy/ -> SERVER/cdproxy/...
//	api.amazon.com/auth/o2/...                  -> SERVER/auth/o2/...
//	www.amazon.com/ap/...                       -> SERVER/ap/...
//
// Other paths on those hosts get 404 from the shim; other hosts, and other
// ports of those hosts, get a plain CONNECT tunnel, and plain-HTTP proxy
// requests are forwarded as they are. Only clients on the loopback
// interface are served unless Config.AllowRemote is set: a proxy that
// tunnels anywhere must not be open to the network.
//
// # Certificates
//
// The intercepted hosts are answered with leaf certificates made on
// demand (one per host, kept in memory) and signed by a CA that
// LoadOrCreateCA makes once and keeps in a directory (ca.pem and
// ca-key.pem, mode 0600). Clients are told to trust that CA only
// (rclone --ca-cert, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS). The CA
// carries critical name constraints that permit only the Amazon names
// above, so even a leaked CA key cannot be used to impersonate any other
// site to a client that trusts it; and the Proxy never signs another name.
//
// For clients that ignore proxies, the same names can be pointed at
// 127.0.0.1 in the hosts file: Proxy.ServeTLS answers TLS connections
// for them directly (the server picks the certificate by SNI), and
// CA.WriteLeaf writes one certificate for all of them, for a clouddrive
// server that listens on port 443 itself.
//
// Only the standard library is used (crypto/x509, crypto/tls, net/http,
// httputil.ReverseProxy).
package shim
