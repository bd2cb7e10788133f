// Package httpstatus is the one map from error kinds (drive.Kind) to HTTP
// status codes. Every HTTP edge (httpapi's ACD error bodies, oauth's
// RFC 6749 error bodies and sign-in pages) asks it, so a kind answers with
// the same status wherever it surfaces; the bodies stay each protocol's
// own.
package httpstatus

import (
	"net/http"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// Of is the HTTP status of an error of kind k; Internal and any kind not
// listed are 500.
func Of(k drive.Kind) int {
	switch k {
	case drive.Invalid:
		return http.StatusBadRequest
	case drive.Unauthorized:
		return http.StatusUnauthorized
	case drive.Forbidden, drive.QuotaExceeded:
		return http.StatusForbidden
	case drive.NotFound:
		return http.StatusNotFound
	case drive.Conflict:
		return http.StatusConflict
	case drive.RateLimited:
		return http.StatusTooManyRequests
	case drive.RangeNotSatisfiable:
		return http.StatusRequestedRangeNotSatisfiable
	case drive.PreconditionFailed:
		return http.StatusPreconditionFailed
	case drive.Expired:
		return http.StatusBadRequest
	case drive.Unavailable:
		return http.StatusServiceUnavailable
	case drive.TooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusInternalServerError
	}
}

// OfErr is Of(drive.KindOf(err)).
func OfErr(err error) int { return Of(drive.KindOf(err)) }
