package upload

import (
	"context"
	"encoding/json"
	"errors"
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

// timeoutLock is a lock another request never lets go of.
type timeoutLock struct{}

func (timeoutLock) Lock(context.Context, func()) error { return tusd.ErrLockTimeout }
func (timeoutLock) Unlock() error                      { return nil }

// TestLockTimeoutOnHead: a lock timeout is 503 with Retry-After also for
// a HEAD, whose reply carries no error code to map (tusd's own status for
// it is 500, a server failure).
func TestLockTimeoutOnHead(t *testing.T) {
	err := busyLock{timeoutLock{}}.Lock(t.Context(), func() {})
	var te tusd.Error
	if !errors.As(err, &te) || !errors.Is(err, tusd.ErrLockTimeout) || te.HTTPResponse.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("busyLock.Lock = %v, want ERR_LOCK_TIMEOUT with 503", err)
	}
	rec := httptest.NewRecorder()
	w := &response{ResponseWriter: rec, r: httptest.NewRequest("HEAD", "/cdproxy/uploads/x", nil), h: &Handler{}}
	for k, v := range te.HTTPResponse.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(te.HTTPResponse.StatusCode) // tusd sends a HEAD no body
	w.flush()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || rec.Body.Len() != 0 {
		t.Errorf("HEAD after a lock timeout = %d %v %q, want 503 with Retry-After and no body", rec.Code, rec.Header(), rec.Body)
	}
}
