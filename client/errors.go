package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// Sentinel errors. Every error the Client returns for a non-2xx reply is
// an *Error whose Is method matches exactly one of these (or none for
// unusual statuses), so callers test with errors.Is and never look at
// status codes or message text.
var (
	// ErrNotFound: the node (or property, or route) does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a name or content clash (409). The error is also a
	// *ConflictError carrying the existing node's id.
	ErrConflict = errors.New("conflict")
	// ErrQuotaExceeded: the upload would exceed the account's quota (403
	// with code QUOTA_EXCEEDED).
	ErrQuotaExceeded = errors.New("storage quota exceeded")
	// ErrRateLimited: the server throttled the request (429) and the retry
	// budget ran out.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnauthorized: the token is missing, invalid, expired or revoked
	// (401), or it could not be refreshed.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: authenticated but not allowed (403 other than quota),
	// e.g. a read-only token, trashing the root, another app's properties.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid: the server rejected the request as malformed (400).
	ErrInvalid = errors.New("invalid request")
	// ErrRangeNotSatisfiable: a download range starts at or past the end
	// of the file (416).
	ErrRangeNotSatisfiable = errors.New("range not satisfiable")
	// ErrUnavailable: the server kept failing (5xx) past the retry budget.
	ErrUnavailable = errors.New("server unavailable")
	// ErrChecksum: downloaded or uploaded bytes do not have the MD5 the
	// server reports. The error is a *ChecksumError.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNotRewindable: a request body that was already (partly) sent
	// cannot be sent again because its reader is not an io.Seeker.
	ErrNotRewindable = errors.New("request body cannot be rewound for a retry")
)

// Error is a non-2xx reply of the API, decoded from the ACD error body
// {"logref","message","code","info":{"nodeId"}}.
type Error struct {
	// Op is the SDK method, e.g. "client.CreateFolder".
	Op string
	// Method is the HTTP method of the request.
	Method string
	// StatusCode is the HTTP status of the reply.
	StatusCode int
	// Code is the ACD error code (NAME_ALREADY_EXISTS, QUOTA_EXCEEDED, ...)
	// when the server sent one.
	Code string
	// Message is the server's message, or the status text when the body
	// was not an ACD error body.
	Message string
	// Logref identifies the request in the server's logs.
	Logref string
	// NodeID is info.nodeId: the existing node of a conflict.
	NodeID string
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	if e.Message != "" && e.Message != http.StatusText(e.StatusCode) {
		b.WriteString(": " + e.Message)
	}
	if e.Logref != "" {
		b.WriteString(" [logref " + e.Logref + "]")
	}
	return b.String()
}

// Is matches the sentinel of the error's status (and code, for quota).
func (e *Error) Is(target error) bool {
	return target == e.sentinel()
}

func (e *Error) sentinel() error {
	switch e.StatusCode {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusTooManyRequests:
		return ErrRateLimited
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		if e.Code == acd.CodeQuotaExceeded || strings.Contains(strings.ToLower(e.Message), "quota") {
			return ErrQuotaExceeded
		}
		return ErrForbidden
	case http.StatusBadRequest:
		return ErrInvalid
	case http.StatusRequestedRangeNotSatisfiable:
		return ErrRangeNotSatisfiable
	case http.StatusInsufficientStorage:
		return ErrQuotaExceeded
	}
	if e.StatusCode >= 500 {
		return ErrUnavailable
	}
	return nil
}

// ConflictError is a 409 reply: a node with the same name already exists
// in the parent (Code NAME_ALREADY_EXISTS), the same content already
// exists (CONTENT_ALREADY_EXISTS), a localId was reused, or the node is in
// the trash. NodeID is the existing node when the server said which.
// errors.Is(err, ErrConflict) holds for it.
type ConflictError struct {
	NodeID string
	Code   string
	Err    *Error
}

func (e *ConflictError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying *Error.
func (e *ConflictError) Unwrap() error { return e.Err }

// ChecksumError reports bytes whose MD5 differs from the server's.
// errors.Is(err, ErrChecksum) holds for it.
type ChecksumError struct {
	// Name is the file or node concerned.
	Name string
	Want string
	Got  string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: md5 %s, want %s", e.Name, e.Got, e.Want)
}

// Is matches ErrChecksum.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// apiError builds the error of a non-2xx reply from its (possibly empty or
// non-JSON) body.
func apiError(op, method string, status int, hdr http.Header, body []byte, now time.Time) error {
	e := &Error{Op: op, Method: method, StatusCode: status, RetryAfter: parseRetryAfter(hdr.Get("Retry-After"), now)}
	var ab acd.Error
	if err := decodeJSON(body, &ab); err == nil {
		e.Message, e.Code, e.Logref = ab.Message, ab.Code, ab.Logref
		if ab.Info != nil {
			e.NodeID = ab.Info.NodeID
		}
	} else if s := strings.TrimSpace(string(body)); s != "" && len(s) < 200 {
		e.Message = s
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if status == http.StatusConflict {
		id := e.NodeID
		if id == "" {
			id = nodeIDFromMessage(e.Message)
		}
		return &ConflictError{NodeID: id, Code: e.Code, Err: e}
	}
	return e
}

// nodeIDFromMessage finds "conflicting NodeId: <id>" in an ACD 409
// message, for servers that send no info.nodeId.
func nodeIDFromMessage(msg string) string {
	const marker = "conflicting NodeId: "
	i := strings.Index(msg, marker)
	if i < 0 {
		return ""
	}
	id := msg[i+len(marker):]
	if j := strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}); j >= 0 {
		id = id[:j]
	}
	return id
}
