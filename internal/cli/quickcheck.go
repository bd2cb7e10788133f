package cli

import (
	"context"
	"io/fs"
	"os"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// The quick check of upload and download: a file whose copy on the other
// side has the same size and the same modification time (at millisecond
// precision, as the server keeps contentProperties.mtime) is taken as
// unchanged without reading it. When the times differ, or the server has
// none for the file (stored by another client or before the field), or
// --checksum asks for the strict check, the local file's MD5 is compared
// with the server's instead; equal content is still skipped, and the
// destination's modification time is set to the source's so that the
// next run decides by the quick check.

// remoteModTime is n's contentProperties.mtime, zero when it has none.
func remoteModTime(n *acd.Node) time.Time {
	if n == nil || n.ContentProperties == nil {
		return time.Time{}
	}
	return n.ContentProperties.ModTime.Time
}

// sameMillis reports whether a and b are the same time at millisecond
// precision.
func sameMillis(a, b time.Time) bool { return a.UnixMilli() == b.UnixMilli() }

// sameFile compares the local file at path (st is its Stat) with the
// remote file n. same means the content is equal; timeDiffers that the
// remote modification time is missing or not the local one.
func (o *transferOpts) sameFile(path string, st fs.FileInfo, n *acd.Node) (same, timeDiffers bool, err error) {
	if st.Size() != size(n) {
		return false, false, nil
	}
	rt := remoteModTime(n)
	timeDiffers = rt.IsZero() || !sameMillis(rt, st.ModTime())
	if !timeDiffers && !o.checksum {
		return true, false, nil
	}
	sum, err := fileMD5(path)
	if err != nil {
		return false, false, err
	}
	return sum == md5of(n), timeDiffers, nil
}

// uploadQuickCheck reports whether the local file (st its Stat) may be
// skipped because the remote file existing holds the same bytes; the
// remote modification time is then set to the local one if it differs.
func (s *session) uploadQuickCheck(ctx context.Context, o *transferOpts, local string, st fs.FileInfo, existing *acd.Node) (bool, error) {
	same, timeDiffers, err := o.sameFile(local, st, existing)
	if err != nil || !same {
		return false, err
	}
	if timeDiffers {
		n, err := s.c.SetModTime(ctx, existing.ID, st.ModTime())
		if err != nil {
			// The bytes are there; the next run compares them again.
			s.log.WarnContext(ctx, "modification time not set", "node_id", existing.ID, "err", err)
		} else {
			s.remember(ctx, n)
		}
	}
	return true, nil
}

// downloadQuickCheck reports whether the download of n to local (st its
// Stat) may be skipped because local holds the same bytes; local's
// modification time is then set to the remote one if the server has one.
func (o *transferOpts) downloadQuickCheck(local string, st fs.FileInfo, n *acd.Node) (bool, error) {
	same, timeDiffers, err := o.sameFile(local, st, n)
	if err != nil || !same {
		return false, err
	}
	if rt := remoteModTime(n); timeDiffers && !rt.IsZero() {
		if err := os.Chtimes(local, time.Time{}, rt); err != nil {
			return false, err
		}
	}
	return true, nil
}

// dirTime is a downloaded folder and the time to give it.
type dirTime struct {
	path string
	t    time.Time
}

// folderTime is the time of the local folder for the remote folder n:
// its modifiedDate (folders have no mtime). The root keeps its own.
func folderTime(local string, n *acd.Node) (dirTime, bool) {
	if n.IsRoot {
		return dirTime{}, false
	}
	t, err := time.Parse(time.RFC3339, n.ModifiedDate)
	if err != nil {
		return dirTime{}, false
	}
	return dirTime{local, t}, true
}

// restoreDirTimes sets the times of downloaded folders, once their
// contents are written (which changes them).
func restoreDirTimes(s *session, dirs []dirTime) {
	for _, d := range dirs {
		if err := os.Chtimes(d.path, time.Time{}, d.t); err != nil {
			s.log.Warn("folder time not set", "path", d.path, "err", err)
		}
	}
}
