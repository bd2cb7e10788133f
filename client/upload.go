package client

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// UploadOptions tune Upload and Overwrite.
type UploadOptions struct {
	// Dedup lets the server refuse content the account already stores
	// (409 CONTENT_ALREADY_EXISTS). By default suppress=deduplication is
	// sent and identical files may coexist, as with go-acd and rclone.
	Dedup bool
	// OnConflict says what Upload does when the name is taken (or, with
	// Dedup, the content exists).
	OnConflict Conflict
	// LocalID is an idempotency key: the server refuses a second upload
	// with the same localId (409 LOCAL_ID_ALREADY_USED).
	LocalID string
	// ContentType of the bytes; empty lets the server guess from the name.
	ContentType string
	Labels      []string
	Description string
	// Properties are set at creation: owner → key → value.
	Properties map[string]map[string]string
	// ModTime is the local file's modification time, stored by the server
	// as contentProperties.mtime; zero sends none.
	ModTime time.Time
	// Size is the number of bytes r will yield, if known (-1 or 0 when
	// unknown); it is passed to Progress as the total.
	Size int64
	// Progress, if set, is called as content bytes are handed to the
	// network, with the bytes sent so far in the current attempt and
	// Size. A retry starts again from 0, except for a resumable upload,
	// where sent is the offset reached in the content: a resumed upload
	// reports the server's offset first, then counts on from there. It is
	// called from the goroutine that writes the body, never concurrently
	// with itself.
	Progress func(sent, total int64)

	// MD5 of the content (hex), if known: a resumable upload sends it at
	// creation and the server refuses content with another (400).
	MD5 string
	// ResumeURL is the upload URL of an earlier, unfinished resumable
	// upload of the same bytes to the same destination (as OnResumeURL
	// reported it, possibly in another process): the upload carries on
	// from where the server's copy ends. A URL the server no longer knows
	// (expired, or for other bytes or another destination) starts a new
	// upload. Setting it makes the upload resumable whatever its size.
	ResumeURL string
	// OnResumeURL, if set, is called with the URL of a resumable upload
	// once the server created it, before its bytes are sent, so a caller
	// can persist it and pass it as ResumeURL after a crash or a kill.
	OnResumeURL func(url string)
	// TerminateOnCancel deletes a resumable upload's staged bytes on the
	// server when ctx is cancelled, instead of keeping them for a resume
	// until they expire.
	TerminateOnCancel bool
}

// Upload creates a file called name in parentID with the bytes of r,
// streamed as multipart (the metadata part first, then the content) over
// a chunked request without buffering the content.
//
// Retries: a failure that may have happened after the whole body reached
// the server (5xx, a dropped connection, a cut reply) never triggers a
// blind second upload. The name is looked up first and, if a file with
// the size and MD5 just sent is there, it is returned (rclone's
// behaviour). Otherwise, and after a 429, the upload is sent again, which
// requires r to be an io.Seeker (it is rewound to where it was when Upload
// was called); if it is not, the first error is returned.
//
// The MD5 of the bytes sent is compared with the server's; a mismatch is
// a *ChecksumError.
//
// Resumable uploads: when o.Size is known and at least the client's
// threshold (WithResumable, 64 MiB by default), r is an io.ReaderAt or an
// io.ReadSeeker holding at least o.Size bytes, no Labels, Description or
// Properties are set, and the server offers tus 1.0 on
// {contentUrl}uploads/, the bytes go there instead: the server checks
// name, parent and quota before any byte is sent, the bytes follow in
// chunks (each with its checksum), and after a failure the upload goes
// on from the server's offset instead of from the start. See ResumeURL
// for a resume by another process. A server without that route gets
// multipart.
func (c *Client) Upload(ctx context.Context, parentID, name string, r io.Reader, o *UploadOptions) (*acd.Node, error) {
	if o == nil {
		o = &UploadOptions{}
	}
	t := tusTarget{op: "client.Upload", name: name, parent: parentID}
	if src, start, ok := c.resumableSource(r, o, t); ok {
		n, err := c.tusUpload(ctx, t, src, start, o)
		var ce *ConflictError
		if errors.As(err, &ce) {
			return c.uploadConflict(ctx, err, r, o, start)
		}
		if !errors.Is(err, errNoTus) {
			return n, err
		}
	}
	meta, err := json.Marshal(acd.NewNode{Name: name, Kind: KindFile, Parents: []string{parentID}, Labels: o.Labels,
		Description: o.Description, Properties: o.Properties, ModTime: acd.FormatTime(o.ModTime)})
	if err != nil {
		return nil, fmt.Errorf("client.Upload: %w", err)
	}
	q := url.Values{}
	if !o.Dedup {
		q.Set("suppress", "deduplication")
	}
	if o.LocalID != "" {
		q.Set("localId", o.LocalID)
	}
	body, err := newUploadBody(r, meta, name, o)
	if err != nil {
		return nil, err
	}
	var found *acd.Node
	req := &request{op: "client.Upload", method: "POST", base: contentBase, path: "nodes", query: q,
		body: body.attempt, sent: body.complete,
		confirm: func(ctx context.Context) (bool, error) {
			n, err := c.ChildByName(ctx, parentID, name)
			if errors.Is(err, ErrNotFound) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			if n.Kind == KindFile && n.ContentProperties != nil && body.matches(n.ContentProperties.Size, n.ContentProperties.MD5) {
				found = n
				return true, nil
			}
			return false, nil
		}}
	var created acd.Node
	err = c.call(ctx, req, &created)
	body.close()
	if err == nil {
		if found != nil {
			return found, nil
		}
		return &created, body.verify(name, &created)
	}
	return c.uploadConflict(ctx, err, body.r, o, body.start)
}

// uploadConflict applies o.OnConflict to the failure err of an upload of
// r (which started at offset start): the existing node, or an overwrite
// of it with r rewound.
func (c *Client) uploadConflict(ctx context.Context, err error, r io.Reader, o *UploadOptions, start int64) (*acd.Node, error) {
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.NodeID == "" {
		return nil, err
	}
	switch o.OnConflict {
	case ConflictReturnExisting:
		n, gerr := c.Node(ctx, ce.NodeID, nil)
		if gerr != nil {
			return nil, err
		}
		return n, nil
	case ConflictOverwrite:
		if ce.Code != acd.CodeNameAlreadyExists && ce.Code != "" {
			return nil, err
		}
		n, gerr := c.Node(ctx, ce.NodeID, nil)
		if gerr != nil || n.Kind != KindFile {
			return nil, err
		}
		s, ok := r.(io.Seeker)
		if !ok {
			return nil, err
		}
		if _, serr := s.Seek(start, io.SeekStart); serr != nil {
			return nil, err
		}
		oo := *o
		oo.ResumeURL = "" // that upload was for a new file
		return c.overwrite(ctx, ce.NodeID, r, &oo, start)
	}
	return nil, err
}

// Overwrite replaces the content of a file (PUT nodes/{id}/content),
// streamed like Upload. It is retried only when r is an io.Seeker. A
// large one is resumable, as for Upload.
func (c *Client) Overwrite(ctx context.Context, id string, r io.Reader, o *UploadOptions) (*acd.Node, error) {
	if o == nil {
		o = &UploadOptions{}
	}
	start, _ := offsetOf(r)
	return c.overwrite(ctx, id, r, o, start)
}

func (c *Client) overwrite(ctx context.Context, id string, r io.Reader, o *UploadOptions, start int64) (*acd.Node, error) {
	t := tusTarget{op: "client.Overwrite", nodeID: id}
	if src, start, ok := c.resumableSource(r, o, t); ok {
		n, err := c.tusUpload(ctx, t, src, start, o)
		if !errors.Is(err, errNoTus) {
			return n, err
		}
	}
	q := url.Values{}
	if !o.Dedup {
		q.Set("suppress", "deduplication")
	}
	if !o.ModTime.IsZero() {
		q.Set("mtime", acd.FormatTime(o.ModTime))
	}
	body, err := newUploadBody(r, nil, "content", o)
	if err != nil {
		return nil, err
	}
	body.start = start
	// Overwriting with the same bytes twice has the same outcome.
	var out acd.Node
	err = c.call(ctx, &request{op: "client.Overwrite", method: "PUT", base: contentBase, path: "nodes/" + seg(id) + "/content",
		query: q, body: body.attempt, sent: body.complete, idempotent: true}, &out)
	body.close()
	if err != nil {
		return nil, err
	}
	return &out, body.verify(id, &out)
}

// UploadFile uploads a local file; see Upload. The file is reopened for
// each attempt, so every retry is possible. Unless o sets them, the size
// and the modification time are the file's.
func (c *Client) UploadFile(ctx context.Context, parentID, name, path string, o *UploadOptions) (*acd.Node, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if o == nil {
		o = &UploadOptions{}
	}
	if o.Size <= 0 || o.ModTime.IsZero() {
		if st, err := f.Stat(); err == nil {
			oo := *o
			if oo.Size <= 0 {
				oo.Size = st.Size()
			}
			if oo.ModTime.IsZero() {
				oo.ModTime = st.ModTime()
			}
			o = &oo
		}
	}
	return c.Upload(ctx, parentID, name, f, o)
}

// uploadBody produces the multipart body of each attempt through an
// io.Pipe and remembers what the last attempt sent.
type uploadBody struct {
	r        io.Reader
	seeker   io.Seeker
	start    int64
	meta     []byte // nil for overwrites
	filename string
	o        *UploadOptions

	mu    sync.Mutex
	done  bool // the last attempt's body was written to the end
	size  int64
	md5   string
	pipes []*io.PipeReader
	wg    sync.WaitGroup
}

func offsetOf(r io.Reader) (int64, bool) {
	s, ok := r.(io.Seeker)
	if !ok {
		return 0, false
	}
	off, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, false
	}
	return off, true
}

func newUploadBody(r io.Reader, meta []byte, filename string, o *UploadOptions) (*uploadBody, error) {
	b := &uploadBody{r: r, meta: meta, filename: filename, o: o}
	if off, ok := offsetOf(r); ok {
		b.seeker, b.start = r.(io.Seeker), off
	}
	return b, nil
}

func (b *uploadBody) rewind() error {
	if b.seeker == nil {
		return ErrNotRewindable
	}
	_, err := b.seeker.Seek(b.start, io.SeekStart)
	return err
}

// attempt returns the body of attempt n.
func (b *uploadBody) attempt(n int) (io.Reader, string, error) {
	b.close() // the previous attempt's writer is done with r
	if n > 0 {
		if err := b.rewind(); err != nil {
			return nil, "", ErrNotRewindable
		}
	}
	b.mu.Lock()
	b.done, b.size, b.md5 = false, 0, ""
	b.mu.Unlock()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	b.mu.Lock()
	b.pipes = append(b.pipes, pr)
	b.mu.Unlock()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		pw.CloseWithError(b.write(mw))
	}()
	return pr, mw.FormDataContentType(), nil
}

func (b *uploadBody) write(mw *multipart.Writer) error {
	if b.meta != nil {
		if err := mw.WriteField("metadata", string(b.meta)); err != nil {
			return err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="content"; filename="`+escapeQuotes(b.filename)+`"`)
	ct := b.o.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	sum := md5.New()
	n, err := io.Copy(part, &progressReader{r: b.r, h: sum, fn: b.o.Progress, total: b.o.Size})
	if err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	b.mu.Lock()
	b.done, b.size, b.md5 = true, n, hex.EncodeToString(sum.Sum(nil))
	b.mu.Unlock()
	return nil
}

// complete reports whether the last attempt's body was written to the end.
func (b *uploadBody) complete() bool {
	b.close()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done
}

func (b *uploadBody) matches(size int64, md5hex string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done && b.size == size && strings.EqualFold(b.md5, md5hex)
}

// verify compares the MD5 the server computed with the one sent.
func (b *uploadBody) verify(name string, n *acd.Node) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done || n.ContentProperties == nil || n.ContentProperties.MD5 == "" {
		return nil
	}
	if !strings.EqualFold(n.ContentProperties.MD5, b.md5) {
		return &ChecksumError{Name: name, Want: b.md5, Got: n.ContentProperties.MD5}
	}
	return nil
}

// close ends the writers of earlier attempts, whose requests are over
// (a writer blocked on a reply that came before the whole body was read
// gets io.ErrClosedPipe), and waits for them.
func (b *uploadBody) close() {
	b.mu.Lock()
	for _, p := range b.pipes {
		p.Close()
	}
	b.pipes = nil
	b.mu.Unlock()
	b.wg.Wait()
}

type progressReader struct {
	r     io.Reader
	h     hash.Hash
	fn    func(sent, total int64)
	total int64
	n     int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.h.Write(b[:n])
		p.n += int64(n)
		if p.fn != nil {
			p.fn(p.n, p.total)
		}
	}
	return n, err
}

func escapeQuotes(s string) string {
	return strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", " ", "\n", " ").Replace(s)
}
