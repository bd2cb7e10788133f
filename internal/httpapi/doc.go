// Package httpapi is the HTTP edge of the Amazon Cloud Drive v1 API: it
// decodes requests, calls the domain services and writes ACD's JSON back.
// It holds no business rules of its own; those live in the services it is
// given (package nodes for the tree and content, changes for the feed,
// auth for bearer tokens, share, webhook, thumbnail, templink, oauth.Apps),
// which internal/app builds and wires into Server.
//
// The routes (routes.go, one table) follow ACD: metadata under
// /drive/v1/ (account, nodes and the filter language, children,
// properties, trash, changes), content under /cdproxy/ (multipart upload
// and overwrite, ranged download, temp links, and the extensions archive
// and resumable uploads), plus share links under /s/ and /healthz,
// /readyz and, when configured, /metrics.
//
// Errors: services return *drive.Error values with a Kind; package
// httpstatus is the only map from kinds to HTTP statuses (oauth uses it
// too), and writeError in errors.go the only writer of ACD's error body
// ({"code", "message", "logref"}).
// Messages are in the API's words: decodeJSON names the field a client got
// wrong, never a Go type.
//
// Wire forms: the JSON shapes are the acd package's types; wire.go renders
// nodes (NodeJSON for responses and webhooks, NodeWire for the bytes the
// metadata store keeps for the changes feed), and golden files under
// testdata pin every response shape.
//
// User bytes: everything that returns a user's content (downloads, temp
// links, share links, thumbnails, archives) goes through usercontent.go,
// which sandboxes it (CSP sandbox, nosniff, attachment for active types)
// so that it can never run script on the server's origin; with
// Server.ContentURL files come from a separate origin as well.
package httpapi
