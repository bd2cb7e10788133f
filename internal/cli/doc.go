// Package cli implements the client commands of the clouddrive binary
// (login, logout, sync, ls, tree, find, stat, upload, download, cat,
// mkdir, mv, rename, trash, restore, purge, usage, quota, props, link):
// what acd_cli did, on top of the public SDK (package client) and wire
// types (package acd) only. It imports no server package; cmd/clouddrive
// adds Commands to its root, and tests run them in-process with Main.
//
// Two commands serve the unmodified ACD clients instead (connect.go,
// shim.go): connect registers an OAuth app for rclone or acd_cli with the
// user's own login (POST apps; the secret is kept in apps.json under the
// config dir), logs in for it with the browser or device flow, and writes
// the client's files; shim runs package shim, the proxy that serves the
// Amazon hosts those clients call from the server.
//
// # Files
//
// Credentials (server URL and token) live in
// os.UserConfigDir()/clouddrive/credentials.json with mode 0600, or under
// $CLOUDDRIVE_CONFIG_DIR. The node cache (package cache, one SQLite
// database per server and account: the account is the id of its root
// folder, kept in the credentials, and a database records whose it is, so
// logins sharing a cache directory never see each other's nodes) and the
// endpoint cache live in
// os.UserCacheDir()/clouddrive/, or $CLOUDDRIVE_CACHE_DIR. Tokens from
// OAuth flows (login --browser with PKCE on a loopback redirect, login
// --device with the device grant; the CLI is the server's public client
// "clouddrive-cli") are refreshed through golang.org/x/oauth2, written
// back, and revoked by logout.
//
// # Paths and the cache
//
// Remote paths resolve through the node cache, name by name, and fall back
// to the API (a name lookup) for anything the cache does not hold; what
// the API returns is added to the cache. ls, tree and find read the cache
// (synced first if it never was); sync applies the changes feed from the
// saved checkpoint. Commands that change nodes put the server's reply in
// the cache at once, so the cache is current for this CLI's own changes
// and catches up on other clients' at the next sync. stat always reads
// the API.
//
// # Transfers
//
// upload and download walk their sources, plan the jobs (creating remote
// folders or local directories on the way), and run them on -j workers.
// Files whose size and MD5 already match are skipped, so a rerun resumes
// a batch; a partial download is continued from NAME.__incomplete by the
// SDK. Errors of single files are collected and reported together; the
// batch goes on.
//
// Progress bars use github.com/vbauerster/mpb/v8 rather than
// schollz/progressbar/v3: transfers run in parallel, and mpb renders
// several bars at once (one per running file, removed when it completes,
// plus a total bar with bytes, rate and ETA) from concurrent goroutines,
// which progressbar, a single-bar library, cannot do without interleaved
// output. Bars are drawn on stderr only when -P is given and stderr is a
// terminal (at 100 columns when the terminal reports a width of 0); with
// -P and no terminal a line per transferred file is printed instead (files
// skipped as unchanged are only counted), and -q silences both.
//
// # Exit codes
//
// 0 success, 1 failure, 2 usage, 3 not found, 4 conflict, 5 login
// needed, 130 interrupted (see ExitCode and `clouddrive help
// exit-codes`). RootFlags makes the binary's unknown commands and bad
// flags usage errors too, and accepts -q and -v before the command name.
// Every error is printed in words (message: the server's message and
// logref, never the SDK's method names) with a hint saying what to do
// next.
package cli
