package client

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// IncompleteSuffix is appended to the name of a file being downloaded by
// DownloadFile; the partial file is renamed when it is complete and its
// MD5 verified, and reused by the next DownloadFile of the same path.
const IncompleteSuffix = ".__incomplete"

// DefaultChunkSize is the size of each ranged request of DownloadFile.
const DefaultChunkSize = 64 << 20

// Open returns the bytes of file id from offset off; length < 0 means up
// to the end. The reader survives broken connections and cut-off replies:
// it asks again from where it stopped, with Range, within the retry
// policy. Close it when done.
func (c *Client) Open(ctx context.Context, id string, off, length int64) (io.ReadCloser, error) {
	return c.openContent(ctx, "client.Open", contentBase, "nodes/"+seg(id)+"/content", false, off, length, 0)
}

// OpenTempLink is Open for a temporary link (Node with TempLink): no
// Authorization header is sent.
func (c *Client) OpenTempLink(ctx context.Context, link string, off, length int64) (io.ReadCloser, error) {
	return c.openContent(ctx, "client.OpenTempLink", absoluteURL, link, true, off, length, 0)
}

func (c *Client) openContent(ctx context.Context, op string, b base, path string, noAuth bool, off, length, chunk int64) (io.ReadCloser, error) {
	if off < 0 {
		return nil, fmt.Errorf("%s: negative offset", op)
	}
	end := int64(-1)
	if length >= 0 {
		end = off + length
	}
	r := &contentReader{c: c, ctx: ctx, op: op, base: b, path: path, noAuth: noAuth, off: off, end: end, chunk: chunk}
	if end == off {
		return r, nil // nothing to read: no request
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

// contentReader reads [off, end) of a file (end < 0: to EOF), in ranged
// requests of at most chunk bytes (0: one request), re-opening at the
// current offset after a transient failure.
type contentReader struct {
	c      *Client
	ctx    context.Context
	op     string
	base   base
	path   string
	noAuth bool

	off, end int64
	chunk    int64
	body     io.ReadCloser
	reqEnd   int64 // end of the current request's range; -1 unknown
	fails    int
	closed   bool
}

func (r *contentReader) open() error {
	hdr := http.Header{}
	r.reqEnd = r.end
	if r.end >= 0 && r.chunk > 0 {
		r.reqEnd = min(r.end, r.off+r.chunk)
	}
	switch {
	case r.reqEnd >= 0:
		hdr.Set("Range", "bytes="+strconv.FormatInt(r.off, 10)+"-"+strconv.FormatInt(r.reqEnd-1, 10))
	case r.off > 0:
		hdr.Set("Range", "bytes="+strconv.FormatInt(r.off, 10)+"-")
	}
	resp, err := r.c.do(r.ctx, &request{op: r.op, method: "GET", base: r.base, path: r.path, header: hdr,
		noAuth: r.noAuth, idempotent: true}, nil)
	if err != nil {
		if errors.Is(err, ErrRangeNotSatisfiable) {
			// The offset is at or past the end of the file: nothing more.
			r.end, r.reqEnd, r.body = r.off, r.off, http.NoBody
			return nil
		}
		return err
	}
	// Learn the file's size and clamp a range that runs past it.
	if total := totalSize(resp); total >= 0 {
		if r.end < 0 || r.end > total {
			r.end = total
		}
		if r.reqEnd < 0 || r.reqEnd > total {
			r.reqEnd = total
		}
	}
	if resp.StatusCode == http.StatusOK && r.off > 0 {
		// The server ignored Range: skip to the offset.
		if _, err := io.CopyN(io.Discard, resp.Body, r.off); err != nil {
			resp.Body.Close()
			return fmt.Errorf("%s: skip to offset: %w", r.op, err)
		}
	}
	if resp.StatusCode == http.StatusOK && r.reqEnd >= 0 {
		// A whole-file reply: read only up to the requested end.
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, r.reqEnd-r.off), resp.Body}
	}
	r.body = resp.Body
	return nil
}

// totalSize returns the size of the whole file from a download reply:
// the total of a 206's Content-Range, or the length of a 200; -1 if
// unknown.
func totalSize(resp *http.Response) int64 {
	switch resp.StatusCode {
	case http.StatusPartialContent:
		cr := resp.Header.Get("Content-Range")
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil && n >= 0 {
				return n
			}
		}
	case http.StatusOK:
		if resp.ContentLength >= 0 {
			return resp.ContentLength
		}
	}
	return -1
}

func (r *contentReader) Read(p []byte) (int, error) {
	for {
		if r.closed {
			return 0, errors.New(r.op + ": read after close")
		}
		if r.end >= 0 && r.off >= r.end {
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
		if r.end >= 0 {
			p = p[:min(int64(len(p)), r.end-r.off)]
		}
		if r.body == nil {
			if err := r.open(); err != nil {
				return 0, err
			}
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		if n > 0 {
			r.fails = 0
		}
		if err == io.EOF {
			if r.reqEnd < 0 {
				return n, io.EOF // to-EOF request, ended cleanly
			}
			if r.off >= r.reqEnd {
				// This range is done; the loop opens the next one.
				r.body.Close()
				r.body = nil
				if n > 0 {
					return n, nil
				}
				continue
			}
			err = errTruncated
		}
		if err == nil {
			return n, nil
		}
		// A transient failure mid-body: reopen at the offset reached.
		r.body.Close()
		r.body = nil
		if classify(r.ctx, err) == permanent || r.fails+1 >= r.c.retry.MaxAttempts {
			if n > 0 {
				return n, nil // report the bytes; the error comes back on the next Read
			}
			return 0, fmt.Errorf("%s: at offset %d: %w", r.op, r.off, err)
		}
		wait := r.c.retry.Delay(r.fails, 0)
		r.fails++
		r.c.log.DebugContext(r.ctx, "resuming download", "op", r.op, "offset", r.off, "wait", wait, "err", err)
		if serr := r.c.retry.Sleep(r.ctx, wait); serr != nil {
			return n, serr
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (r *contentReader) Close() error {
	r.closed = true
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}

// Download writes the whole content of file id to w and returns the
// number of bytes written.
func (c *Client) Download(ctx context.Context, id string, w io.Writer) (int64, error) {
	rc, err := c.Open(ctx, id, 0, -1)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.Copy(w, rc)
}

// DownloadOptions tune DownloadFile.
type DownloadOptions struct {
	// ChunkSize is the size of each ranged request; 0 means
	// DefaultChunkSize.
	ChunkSize int64
	// Progress, if set, is called as bytes arrive, with the bytes of the
	// file present so far (a resumed partial file included) and the size.
	Progress func(done, total int64)
}

// DownloadFile downloads a FILE node to path. The bytes go to
// path+IncompleteSuffix, opened for append: a partial file left by an
// interrupted DownloadFile is continued with a ranged request, not
// restarted. When every byte is there, the file's MD5 is checked against
// the node's and the file is renamed to path (replacing it) with the
// node's modification time as it was uploaded (contentProperties.mtime)
// or, when it has none, its modifiedDate. On an MD5 mismatch the
// partial file is deleted and, if it had been resumed, downloaded once
// more from scratch; otherwise a *ChecksumError is returned. On any other
// failure, cancellation included, the partial file is kept.
func (c *Client) DownloadFile(ctx context.Context, n *acd.Node, path string, o *DownloadOptions) error {
	if o == nil {
		o = &DownloadOptions{}
	}
	if n.Kind != KindFile || n.ContentProperties == nil {
		return fmt.Errorf("client.DownloadFile: %s is a %s, not a file", n.ID, n.Kind)
	}
	resumed, err := c.downloadFile(ctx, n, path, o)
	if errors.Is(err, ErrChecksum) && resumed {
		c.log.WarnContext(ctx, "resumed download failed verification; downloading again", "node_id", n.ID, "path", path)
		_, err = c.downloadFile(ctx, n, path, o)
	}
	return err
}

func (c *Client) downloadFile(ctx context.Context, n *acd.Node, path string, o *DownloadOptions) (resumed bool, err error) {
	size, want := n.ContentProperties.Size, n.ContentProperties.MD5
	partial := path + IncompleteSuffix
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		return false, err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	off := st.Size()
	if off > size {
		// Longer than the file: not a prefix of this version.
		if err := f.Truncate(0); err != nil {
			return false, err
		}
		off = 0
	}
	h := md5.New()
	if off > 0 {
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, off)); err != nil {
			return false, fmt.Errorf("client.DownloadFile: hash partial file: %w", err)
		}
		c.log.DebugContext(ctx, "resuming download", "node_id", n.ID, "path", partial, "offset", off)
	}
	resumed = off > 0
	if o.Progress != nil {
		o.Progress(off, size)
	}
	if off < size {
		chunk := o.ChunkSize
		if chunk <= 0 {
			chunk = DefaultChunkSize
		}
		rc, err := c.openContent(ctx, "client.DownloadFile", contentBase, "nodes/"+seg(n.ID)+"/content", false, off, size-off, chunk)
		if err != nil {
			return resumed, err
		}
		w := io.MultiWriter(f, h, &progressWriter{n: off, total: size, fn: o.Progress})
		got, err := io.Copy(w, rc)
		rc.Close()
		if err != nil {
			return resumed, err
		}
		if off+got != size {
			return resumed, fmt.Errorf("client.DownloadFile: got %d of %d bytes", off+got, size)
		}
	}
	if sum := hex.EncodeToString(h.Sum(nil)); want != "" && sum != want {
		f.Close()
		f = nil
		os.Remove(partial)
		return resumed, &ChecksumError{Name: path, Want: want, Got: sum}
	}
	if err := f.Sync(); err != nil {
		return resumed, err
	}
	if err := f.Close(); err != nil {
		f = nil
		return resumed, err
	}
	f = nil
	if t := n.ContentProperties.ModTime.Time; !t.IsZero() {
		_ = os.Chtimes(partial, t, t)
	} else if t, err := time.Parse(time.RFC3339, n.ModifiedDate); err == nil {
		_ = os.Chtimes(partial, t, t)
	}
	return resumed, os.Rename(partial, path)
}

type progressWriter struct {
	n, total int64
	fn       func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.fn != nil {
		p.fn(p.n, p.total)
	}
	return len(b), nil
}
