package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/bytesize"
)

// A resumable upload that `clouddrive upload` did not finish (Ctrl-C, a
// kill, a crash, a network gone for longer than the retries) leaves a
// small state file in the account's cache directory with the upload's
// URL, keyed by the local file (absolute path, size, modification time)
// and the destination (parent folder id and name). The next upload of the
// same unchanged file to the same place passes that URL to the SDK, which
// carries on from the server's offset. The file goes when the upload
// completes or the server refuses it for good.

// pendingMaxAge is how long a state file is kept: far longer than the
// server keeps an unfinished upload (a day by default), so older ones
// can only name uploads that are gone.
const pendingMaxAge = 7 * 24 * time.Hour

// pendingDir is the directory of one account's unfinished uploads.
func (d dirs) pendingDir(server, account string) string {
	sum := sha256.Sum256([]byte(server + "\n" + account))
	return filepath.Join(d.cache, "uploads-"+hex.EncodeToString(sum[:8]))
}

// pendingUpload is the state file of one unfinished upload.
type pendingUpload struct {
	path string
	s    *session

	URL     string    `json:"url"`
	Local   string    `json:"local"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	Parent  string    `json:"parent"`
	Name    string    `json:"name"`
	Saved   time.Time `json:"saved"`
}

// pending returns the state of an upload of the local file (of size and
// mtime) as name into the folder parent: URL is set when an earlier run
// left one.
func (s *session) pending(local string, size int64, mtime time.Time, parent, name string) *pendingUpload {
	abs, err := filepath.Abs(local)
	if err != nil {
		abs = local
	}
	key := strings.Join([]string{abs, strconv.FormatInt(size, 10), strconv.FormatInt(mtime.UnixNano(), 10), parent, name}, "\n")
	sum := sha256.Sum256([]byte(key))
	p := &pendingUpload{s: s, Local: abs, Size: size, ModTime: mtime, Parent: parent, Name: name,
		path: filepath.Join(s.dirs.pendingDir(s.creds.Server, s.creds.Account), hex.EncodeToString(sum[:12])+".json")}
	raw, err := os.ReadFile(p.path)
	if err != nil {
		return p
	}
	var old pendingUpload
	if json.Unmarshal(raw, &old) == nil && old.Local == abs && old.Size == size && old.ModTime.Equal(mtime) &&
		old.Parent == parent && old.Name == name {
		p.URL = old.URL
	}
	return p
}

// save records url (the SDK's OnResumeURL); a failure to write only costs
// the resume of this upload.
func (p *pendingUpload) save(url string) {
	if url == p.URL {
		return
	}
	p.URL, p.Saved = url, p.s.env.now().UTC()
	raw, err := json.MarshalIndent(p, "", "  ")
	if err == nil {
		err = client.WriteFileAtomic(p.path, raw, 0o600)
	}
	if err != nil {
		p.s.log.Warn("unfinished upload not recorded: an interruption will start it again", "path", p.Local, "err", err)
	}
}

// finish removes the state file unless err leaves the upload resumable:
// an interruption, a network failure, a server error.
func (p *pendingUpload) finish(ctx context.Context, err error) {
	if p.URL == "" {
		return
	}
	if err != nil && resumable(ctx, err) {
		p.s.log.Debug("upload left unfinished: the next upload of the file resumes it", "path", p.Local, "url", p.URL)
		return
	}
	if rerr := os.Remove(p.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		p.s.log.Warn("unfinished upload record not removed", "path", p.path, "err", rerr)
	}
}

// resumable reports whether an upload that failed with err may be
// carried on later: anything but a refusal of the server (4xx).
func resumable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	var ae *client.Error
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500 || ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode == http.StatusRequestTimeout
	}
	var ce *client.ConflictError
	return !errors.As(err, &ce) && !errors.Is(err, client.ErrChecksum)
}

// prunePending removes state files older than pendingMaxAge.
func (s *session) prunePending() {
	if s.creds.Account == "" {
		return
	}
	dir := s.dirs.pendingDir(s.creds.Server, s.creds.Account)
	es, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	now := s.env.now()
	for _, e := range es {
		info, err := e.Info()
		if err == nil && info.Mode().IsRegular() && now.Sub(info.ModTime()) > pendingMaxAge {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// parseResumableMin reads --resumable-min: a size (64M, 1G, 0) or off.
func parseResumableMin(v string) (client.Resumable, error) {
	if strings.EqualFold(v, "off") || strings.EqualFold(v, "never") {
		return client.Resumable{Threshold: -1}, nil
	}
	n, err := bytesize.Parse(v)
	if err != nil || n < 0 {
		return client.Resumable{}, usageErrorf("--resumable-min %q: want a size such as 64M, 1G or 512K, or off", v)
	}
	if n == 0 {
		n = 1 // every file with content
	}
	return client.Resumable{Threshold: n}, nil
}

// resumeFlags are upload's flags for resumable uploads.
type resumeFlags struct {
	min, chunk string
}

func (f *resumeFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.min, "resumable-min", "64M", "send files of at least SIZE as resumable uploads when the server offers them (off: never)")
	c.Flags().StringVar(&f.chunk, "chunk-size", "64M", "bytes per request of a resumable upload (a failure sends at most one chunk again)")
}

// apply adds the SDK option of the flags to o's session.
func (f *resumeFlags) apply(o *common) error {
	r, err := parseResumableMin(f.min)
	if err != nil {
		return err
	}
	c, err := bytesize.Parse(f.chunk)
	if err != nil || c < 1 {
		return usageErrorf("--chunk-size %q: want a size such as 64M or 8M", f.chunk)
	}
	r.ChunkSize = c
	o.sdk = append(o.sdk, client.WithResumable(r))
	return nil
}

// resumeOptions prepares uo for a resumable upload of local (of size
// bytes, modified at mtime) as name into the folder parent: the URL an earlier run left, and
// the callback that records a new one. The returned function takes the
// upload's outcome and removes the record unless the upload may still be
// resumed.
func (s *session) resumeOptions(local string, size int64, mtime time.Time, parent, name string, uo *client.UploadOptions) func(context.Context, error) {
	if s.creds.Account == "" {
		return func(context.Context, error) {}
	}
	p := s.pending(local, size, mtime, parent, name)
	if p.URL != "" {
		s.log.Info("resuming an interrupted upload", "path", p.Local)
	}
	uo.ResumeURL, uo.OnResumeURL = p.URL, p.save
	return p.finish
}
