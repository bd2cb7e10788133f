package cli

import (
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/clouddrive/clouddrive/client"
)

// sdkOp matches the SDK method an error names ("client.CreateFolder: "),
// which is for programmers; the CLI leaves it out.
var sdkOp = regexp.MustCompile(`\bclient\.[A-Z][A-Za-z]*: `)

// message returns err's text for a person: each API error says in words
// what the server refused and why (its message, and the logref that finds
// the request in the server's log) instead of the SDK method and the HTTP
// status line, and no SDK method is named.
func message(err error) string {
	msg := err.Error()
	var ae *client.Error
	if errors.As(err, &ae) {
		if raw := ae.Error(); strings.Contains(msg, raw) {
			msg = strings.Replace(msg, raw, describeAPIError(ae), 1)
		}
	}
	return sdkOp.ReplaceAllString(msg, "")
}

// describeAPIError words a non-2xx reply of the server.
func describeAPIError(e *client.Error) string {
	var what string
	switch {
	case errors.Is(e, client.ErrUnauthorized):
		what = "the server rejected the token"
	case errors.Is(e, client.ErrQuotaExceeded):
		what = "the account's storage quota is used up"
	case errors.Is(e, client.ErrForbidden):
		what = "the server does not allow this"
	case errors.Is(e, client.ErrNotFound):
		what = "not found on the server"
	case errors.Is(e, client.ErrConflict):
		what = "the name or content exists already"
	case errors.Is(e, client.ErrInvalid):
		what = "the server refused the request"
	case errors.Is(e, client.ErrRateLimited):
		what = "the server is throttling requests"
	case errors.Is(e, client.ErrRangeNotSatisfiable):
		what = "the range starts past the end of the file"
	case errors.Is(e, client.ErrUnavailable):
		what = "the server failed (" + strings.ToLower(http.StatusText(e.StatusCode)) + ")"
	default:
		what = "the server answered " + http.StatusText(e.StatusCode)
	}
	if m := strings.TrimSpace(e.Message); m != "" && m != http.StatusText(e.StatusCode) {
		what += ": " + m
	}
	if e.Logref != "" {
		what += " (logref " + e.Logref + ")"
	}
	return what
}
