// Package e2e holds end-to-end tests: a real clouddrive server on a
// loopback port driven by unmodified third-party ACD clients (go-acd, the
// library rclone's acd backend is built on) and by raw HTTP.
package e2e
