package drive

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// Kind classifies an error. The HTTP layer maps each Kind to exactly one
// status code (internal/httpapi/errors.go); nothing else looks at HTTP.
// Values are never renumbered.
type Kind uint8

// Error kinds.
const (
	Internal            Kind = iota // unexpected; details are logged, never shown
	Invalid                         // bad input from the client (400)
	Unauthorized                    // missing or bad credentials (401)
	Forbidden                       // authenticated but not allowed, e.g. scope (403)
	NotFound                        // no such node for this user (404)
	Conflict                        // name or content already exists (409)
	QuotaExceeded                   // storage quota would be exceeded (403)
	RateLimited                     // too many requests (429)
	RangeNotSatisfiable             // range starts at or past the end (416)
	PreconditionFailed              // If-Match style precondition failed (412)
	Expired                         // a token or link has expired (400 for nextToken, 401/404 elsewhere)
	Unavailable                     // a dependency is down (503)
	TooLarge                        // request body too large (413)
)

var kindNames = [...]string{
	Internal:            "internal",
	Invalid:             "invalid",
	Unauthorized:        "unauthorized",
	Forbidden:           "forbidden",
	NotFound:            "not_found",
	Conflict:            "conflict",
	QuotaExceeded:       "quota_exceeded",
	RateLimited:         "rate_limited",
	RangeNotSatisfiable: "range_not_satisfiable",
	PreconditionFailed:  "precondition_failed",
	Expired:             "expired",
	Unavailable:         "unavailable",
	TooLarge:            "too_large",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is the error type of the domain. Op names the operation
// ("nodes.Move"), Kind classifies it, Message is safe to show to the
// client, Err is the wrapped cause (never shown to the client).
type Error struct {
	Op      string
	Kind    Kind
	Message string
	// Code is an optional ACD error code, one of acd's Code constants
	// such as acd.CodeNameAlreadyExists.
	Code string
	// NodeID is the conflicting node for Conflict errors, if known.
	NodeID string
	// Param names the bad parameter for Invalid errors.
	Param string
	// RetryAfter tells a RateLimited or Unavailable caller when to retry.
	RetryAfter time.Duration
	Err        error

	// nested marks an Error made by Wrap around another *Error: it adds
	// Op to the message and copies Kind and Code, and AsError looks
	// through it to the Error that describes the failure.
	nested bool
}

// Error reads "op: message: cause". An Error from Wrap reads
// "outer op: " and then the wrapped error, so the ops of a chain read
// from the outermost call inwards.
func (e *Error) Error() string {
	if e.nested {
		return e.Op + ": " + e.Err.Error()
	}
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error with a client-safe message and an optional cause.
func E(op string, kind Kind, msg string, cause ...error) *Error {
	e := &Error{Op: op, Kind: kind, Message: msg}
	if len(cause) > 0 {
		e.Err = cause[0]
	}
	return e
}

// NameConflict is the 409 NAME_ALREADY_EXISTS error of a name that node
// id already holds in folder parent. Its message is ACD's, which clients
// parse for the id when they ignore info.nodeId; id may be empty when it
// is not known (yet).
func NameConflict(op, parent, name, id string) *Error {
	return &Error{Op: op, Kind: Conflict, Code: acd.CodeNameAlreadyExists, NodeID: id,
		Message: "Node with the name " + strings.ToLower(name) + " already exists under parentId " + parent + " conflicting NodeId: " + id}
}

// Errorf is E with a formatted message.
func Errorf(op string, kind Kind, format string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap annotates err with op. When err already holds an *Error, the
// result nests it, as upspin's errors.E does: it keeps that error's Kind
// and Code (and AsError still finds its Message, NodeID, Param and
// RetryAfter), and its text reads "op: " followed by err's. Wrapping with
// the op err's outermost *Error already has returns err unchanged, so a
// chain does not stutter. Any other error becomes an Internal error with
// err as its cause. Wrap(op, nil) is nil.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *Error
	if errors.As(err, &de) {
		if de.Op == op {
			return err
		}
		return &Error{Op: op, Kind: de.Kind, Code: de.Code, Err: err, nested: true}
	}
	return &Error{Op: op, Kind: Internal, Err: err}
}

// KindOf reports the Kind of err: the Kind of the *Error AsError finds,
// or Internal for any other non-nil error.
func KindOf(err error) Kind {
	if de := AsError(err); de != nil {
		return de.Kind
	}
	return Internal
}

// Is reports whether err is a drive error of kind k.
func Is(k Kind, err error) bool {
	if err == nil {
		return false
	}
	return KindOf(err) == k
}

// AsError returns the *Error in err's chain that describes the failure:
// the outermost one that is not a Wrap of another, or nil when err holds
// none.
func AsError(err error) *Error {
	var de *Error
	for errors.As(err, &de) {
		if !de.nested {
			return de
		}
		err = de.Err
	}
	return de
}
