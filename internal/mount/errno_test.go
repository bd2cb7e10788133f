package mount

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/clouddrive/clouddrive/client"
)

func TestErrno(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want syscall.Errno
	}{
		{nil, 0},
		{&client.ConflictError{Code: "NAME_ALREADY_EXISTS", Err: &client.Error{StatusCode: http.StatusConflict}}, syscall.EEXIST},
		{fmt.Errorf("wrapped: %w", &client.ConflictError{Err: &client.Error{StatusCode: http.StatusConflict}}), syscall.EEXIST},
		{&client.Error{StatusCode: http.StatusForbidden, Code: "QUOTA_EXCEEDED"}, syscall.ENOSPC},
		{&client.Error{StatusCode: http.StatusInsufficientStorage}, syscall.ENOSPC},
		{&client.Error{StatusCode: http.StatusNotFound}, syscall.ENOENT},
		{&client.Error{StatusCode: http.StatusUnauthorized}, syscall.EACCES},
		{&client.Error{StatusCode: http.StatusForbidden}, syscall.EACCES},
		{&client.Error{StatusCode: http.StatusBadRequest}, syscall.EINVAL},
		{&client.Error{StatusCode: http.StatusTooManyRequests}, syscall.EAGAIN},
		{&client.Error{StatusCode: http.StatusInternalServerError}, syscall.EIO},
		{&client.Error{StatusCode: http.StatusServiceUnavailable}, syscall.EIO},
		{&client.ChecksumError{Name: "x"}, syscall.EIO},
		{errors.New("connection reset"), syscall.EIO},
		{context.Canceled, syscall.EINTR},
		{&os.PathError{Op: "open", Path: "/x", Err: syscall.ENOSPC}, syscall.ENOSPC},
		{fs.ErrNotExist, syscall.ENOENT},
		{syscall.ENOTEMPTY, syscall.ENOTEMPTY},
	} {
		if got := Errno(tc.err); got != tc.want {
			t.Errorf("Errno(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
