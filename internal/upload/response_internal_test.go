package upload

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/clouddrive/clouddrive/acd"
)

// TestTusErrorsInAPIFormat: tusd's plain-text errors reach the client as
// the API's error JSON with tusd's status, except a lock timeout (503,
// Retry-After: try again) and internal errors (no details).
func TestTusErrorsInAPIFormat(t *testing.T) {
	for _, c := range []struct {
		err    tusd.Error
		status int
		code   string
		msg    string
	}{
		{tusd.ErrMismatchOffset, http.StatusConflict, "MISMATCHED_OFFSET", "mismatched offset"},
		{errChecksumMismatch, 460, "CHECKSUM_MISMATCH", errChecksumMismatch.Message},
		{tusd.ErrLockTimeout, http.StatusServiceUnavailable, "LOCK_TIMEOUT", "another request for this upload is still running; try again"},
		{tusd.ErrUploadInterrupted, http.StatusLocked, "UPLOAD_INTERRUPTED", "another request for this upload took it over; ask HEAD for the offset and resume"},
		{tusd.NewError("ERR_INTERNAL_SERVER_ERROR", "open /secret/path: permission denied", 500), 500, "", "Internal failure"},
	} {
		rec := httptest.NewRecorder()
		rec.Header().Set("X-Amzn-Requestid", "ref-1")
		w := &response{ResponseWriter: rec, r: httptest.NewRequest("PATCH", "/cdproxy/uploads/x", nil), h: &Handler{}}
		for k, v := range c.err.HTTPResponse.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(c.err.HTTPResponse.StatusCode)
		_, _ = w.Write([]byte(c.err.HTTPResponse.Body))
		w.flush()
		var e acd.Error
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != c.status ||
			e.Code != c.code || e.Message != c.msg || e.Logref != "ref-1" ||
			rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %v %s", c.err.ErrorCode, rec.Code, rec.Header(), rec.Body)
		}
		if c.status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", c.err.ErrorCode)
		}
	}
}
