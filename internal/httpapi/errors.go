package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/httpstatus"
)

// classify turns transport-level failures into drive errors: a request
// body that ended early is the client's fault (400), an oversized body is
// 413, a cancelled request is not a server error.
func classify(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return drive.E("httpapi", drive.TooLarge, "request body too large", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return drive.E("httpapi", drive.Invalid, "request body ended before the multipart closing boundary", err)
	case (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) && drive.KindOf(err) == drive.Internal:
		return drive.E("httpapi", drive.Unavailable, "request cancelled", err)
	}
	return err
}

// retryAfter is the Retry-After header value for err: whole seconds,
// rounded up, at least 1.
func retryAfter(err error) string {
	secs := int64(1)
	if de := drive.AsError(err); de != nil && de.RetryAfter > time.Second {
		secs = int64((de.RetryAfter + time.Second - 1) / time.Second)
	}
	return strconv.FormatInt(secs, 10)
}

// writeError writes err as an ACD error body. Internal errors show a
// generic message; their details go to the log under the request's logref.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	err = classify(err)
	kind := drive.KindOf(err)
	status := httpstatus.Of(kind)
	body := acd.Error{Logref: requestID(r.Context()), Message: "Internal failure"}
	if de := drive.AsError(err); de != nil && kind != drive.Internal {
		body.Message = de.Message
		if body.Message == "" {
			body.Message = kind.String()
		}
		if de.Param != "" {
			body.Message = de.Param + ": " + body.Message
		}
		body.Code = de.Code
		if de.NodeID != "" {
			body.Info = &acd.ErrorInfo{NodeID: de.NodeID}
		}
	}
	switch kind {
	case drive.Internal:
		s.Logger.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("request_id", body.Logref), slog.Any("err", err))
	case drive.RateLimited:
		body.Message = "Rate exceeded"
		w.Header().Set("Retry-After", retryAfter(err))
	case drive.Unavailable:
		w.Header().Set("Retry-After", retryAfter(err))
		s.Logger.LogAttrs(r.Context(), slog.LevelWarn, "request unavailable", slog.String("request_id", body.Logref), slog.Any("err", err))
	default:
		s.Logger.LogAttrs(r.Context(), slog.LevelDebug, "request error", slog.String("request_id", body.Logref), slog.Any("err", err))
	}
	if kind == drive.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="clouddrive"`)
	}
	writeJSON(w, status, body)
}
