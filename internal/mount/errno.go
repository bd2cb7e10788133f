package mount

import (
	"context"
	"errors"
	"io/fs"
	"syscall"

	"github.com/clouddrive/clouddrive/client"
)

// Errno maps an error of the SDK (or of local spool I/O) to the errno a
// file system call returns: a name clash (409) is EEXIST, a full account
// (403 QUOTA_EXCEEDED, 507) ENOSPC, a missing node (404) ENOENT, a
// rejected or forbidden token (401, 403) EACCES, a malformed request
// (400) EINVAL, throttling past the retries (429) EAGAIN, an interrupted
// call EINTR, and anything else (5xx past the retries, network) EIO.
// nil is 0.
func Errno(err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &errno):
		return errno
	case errors.Is(err, client.ErrConflict), errors.Is(err, fs.ErrExist):
		return syscall.EEXIST
	case errors.Is(err, client.ErrQuotaExceeded):
		return syscall.ENOSPC
	case errors.Is(err, client.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, client.ErrUnauthorized), errors.Is(err, client.ErrForbidden), errors.Is(err, fs.ErrPermission):
		return syscall.EACCES
	case errors.Is(err, client.ErrInvalid):
		return syscall.EINVAL
	case errors.Is(err, client.ErrRateLimited):
		return syscall.EAGAIN
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	}
	return syscall.EIO
}
