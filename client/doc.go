// Package client is the Go SDK for clouddrive and other servers of the
// Amazon Cloud Drive REST API v1. It covers every endpoint: account
// (endpoint, info, quota, usage), nodes (list with filters, get, create
// folder, patch, rename, move, add and remove parents, purge, bulk purge),
// properties, trash (list, trash, restore), the changes feed, and the
// content API (streaming upload, overwrite, ranged download, temp links).
// Wire types are those of package acd.
//
//	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
//	c, err := client.New("https://drive.example.com", ts)
//	root, err := c.Root(ctx)
//	n, err := c.UploadFile(ctx, root.ID, "notes.txt", "/tmp/notes.txt", nil)
//	err = c.DownloadFile(ctx, n, "/tmp/copy.txt", nil)
//
// # Request core
//
// Every call goes through one core (Client.do), in the manner of rclone's
// lib/rest: it resolves the call's relative path against the metadata or
// content URL (both end with '/'; the bootstrap URL is baseURL +
// /drive/v1/), adds the bearer token from the oauth2.TokenSource (asked
// before every request, so a refreshing source keeps it fresh), decodes
// JSON replies whatever their Content-Type, and turns every non-2xx reply
// into an *Error, decoded from the ACD error body. Errors support
// errors.Is with the sentinels ErrNotFound, ErrConflict, ErrQuotaExceeded,
// ErrRateLimited, ErrUnauthorized, ErrForbidden, ErrInvalid, ... and a 409
// is a *ConflictError whose NodeID is the existing node.
//
// # Endpoints
//
// The metadata and content URLs come from GET account/endpoint on first
// use and are kept for DefaultEndpointTTL (3 days, as acd_cli did); an
// EndpointCache such as FileEndpointCache keeps them across processes.
//
// # Retries
//
// 429, 500, 502, 503, 504 and 408 replies, connection errors and replies
// cut short are retried with exponential back-off and full jitter
// (Retry), at least as long as the server's Retry-After, for a bounded
// number of attempts. A request that changes something and is not
// idempotent (create folder, upload, move, restore, purge) is never sent
// twice blindly: when the first attempt may have reached the server, the
// client first checks whether it took effect (the name is looked up, the
// node's parents or status read) and returns that result if it did. A
// 429 or a refused connection is retried outright, since the server did
// not act on it; so is an upload whose body was cut off before its end,
// which never creates a file.
//
// # Content
//
// Upload streams a multipart body (metadata part first, then content)
// through an io.Pipe, with a progress callback and the MD5 of the bytes
// sent checked against the server's. Deduplication and name conflicts are
// handled per UploadOptions: fail with the conflicting node id, return the
// existing node, or overwrite it. Large uploads of a known size (64 MiB
// and more, WithResumable) are resumable when the server offers tus 1.0 on
// {contentUrl}uploads/: the bytes go in checksummed chunks, a failure
// resumes from the server's offset, and UploadOptions.OnResumeURL and
// ResumeURL let another process finish an interrupted upload; servers
// without that route get multipart. DownloadFile fetches ranged chunks into
// NAME.__incomplete opened for append, so an interrupted download resumes
// where it stopped, and renames the file only after its MD5 matched.
//
// # Changes
//
// Changes iterates over the changes feed, following checkpoints across
// responses cut by maxNodes or by the network, so a cache can apply each
// ChangeSet and save its checkpoint.
package client
