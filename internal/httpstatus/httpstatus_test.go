package httpstatus

import (
	"errors"
	"net/http"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drive"
)

func TestOf(t *testing.T) {
	for k, want := range map[drive.Kind]int{
		drive.Internal: 500, drive.Invalid: 400, drive.Unauthorized: 401, drive.Forbidden: 403,
		drive.NotFound: 404, drive.Conflict: 409, drive.QuotaExceeded: 403, drive.RateLimited: 429,
		drive.RangeNotSatisfiable: 416, drive.PreconditionFailed: 412, drive.Expired: 400,
		drive.Unavailable: 503, drive.TooLarge: 413, drive.Kind(200): 500,
	} {
		if got := Of(k); got != want {
			t.Errorf("Of(%v) = %d, want %d", k, got, want)
		}
	}
	if got := OfErr(drive.Wrap("x", drive.E("y", drive.NotFound, "gone"))); got != http.StatusNotFound {
		t.Errorf("OfErr(wrapped not found) = %d", got)
	}
	if got := OfErr(errors.New("boom")); got != http.StatusInternalServerError {
		t.Errorf("OfErr(plain) = %d", got)
	}
}
