package upload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/clouddrive/clouddrive/internal/lease"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// leaseName is the server setting that holds the expiry lease.
const leaseName = "upload_expiry_lease"

// Collect removes the uploads whose record expired: the staged bytes of
// an unfinished one and the record (a completed upload has only its
// record left). It also removes staged uploads that have no record (a
// server stopped between the two writes of a creation) once they are
// older than the expiry. It returns how many
// uploads it removed; a failure for one upload is logged and the run goes
// on, the first error returned at the end.
func (h *Handler) Collect(ctx context.Context) (int, error) {
	keys, err := h.staging.records.keys(ctx)
	if err != nil {
		return 0, err
	}
	now := h.now()
	n := 0
	var first error
	fail := func(id string, err error) {
		h.log.Warn("upload expiry: removing an expired upload failed", "upload", id, "err", err)
		if first == nil {
			first = err
		}
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		rec, err := h.staging.records.get(ctx, k)
		if err != nil {
			fail(k, err)
			continue
		}
		if rec == nil || !now.After(rec.Expires) {
			continue
		}
		// A completed upload has no staged bytes left, unless its server
		// stopped between recording the completion and removing them.
		if err := h.terminate(ctx, rec.ID); err != nil {
			fail(rec.ID, err)
			continue
		}
		if err := h.staging.records.delete(ctx, k); err != nil {
			fail(rec.ID, err)
			continue
		}
		n++
	}
	var m int
	switch c := h.staging.core.(type) {
	case s3Core:
		m, err = h.collectS3Orphans(ctx, c, now)
	default:
		if h.staging.dir != "" {
			m, err = h.collectOrphans(ctx, now)
		}
	}
	n += m
	if err != nil && first == nil {
		first = err
	}
	return n, first
}

// collectS3Orphans aborts the multipart uploads under the staging prefix
// that have no record and began before the expiry (a server stopped
// between creating the upload and its record), with their info and part
// objects.
func (h *Handler) collectS3Orphans(ctx context.Context, c s3Core, now time.Time) (int, error) {
	cutoff := now.Add(-h.expiry)
	n := 0
	p := s3.NewListMultipartUploadsPaginator(c.client, &s3.ListMultipartUploadsInput{Bucket: &c.bucket, Prefix: &c.prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("listing staged uploads: %w", err)
		}
		for _, u := range page.Uploads {
			key := strings.TrimPrefix(aws.ToString(u.Key), c.prefix)
			if !validKey(key) || u.Initiated == nil || u.Initiated.After(cutoff) {
				continue
			}
			if rec, err := h.staging.records.get(ctx, key); err != nil || rec != nil {
				continue
			}
			if err := h.terminate(ctx, key+"+"+aws.ToString(u.UploadId)); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// terminate removes the staged bytes of upload id, if any are left.
func (h *Handler) terminate(ctx context.Context, id string) error {
	up, err := h.staging.core.GetUpload(ctx, id)
	if errors.Is(err, tusd.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return h.staging.core.AsTerminatableUpload(up).Terminate(ctx)
}

// collectOrphans removes staged uploads of a staging directory that have
// no record and were last written before the expiry, and temporary files
// of the checksum extension left by a stopped server.
func (h *Handler) collectOrphans(ctx context.Context, now time.Time) (int, error) {
	es, err := os.ReadDir(h.staging.dir)
	if err != nil {
		return 0, err
	}
	n := 0
	cutoff := now.Add(-h.expiry)
	for _, e := range es {
		name := e.Name()
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
			continue
		}
		if strings.HasPrefix(name, "checksum-") || strings.Contains(name, ".tmp-") {
			_ = os.Remove(filepath.Join(h.staging.dir, name))
			continue
		}
		id, ok := strings.CutSuffix(name, ".info")
		if !ok || !validKey(id) {
			continue
		}
		if rec, err := h.staging.records.get(ctx, id); err != nil || rec != nil {
			continue
		}
		if bin, err := os.Stat(filepath.Join(h.staging.dir, id)); err == nil && bin.ModTime().After(cutoff) {
			continue
		}
		if err := h.terminate(ctx, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Loop runs Collect every interval, while this process holds the expiry
// lease in m (one replica at a time), until ctx ends.
func (h *Handler) Loop(ctx context.Context, m meta.Store, interval time.Duration) {
	lease.Loop(ctx, m, h.now, leaseName, interval, h.log, "upload expiry", func(ctx context.Context) {
		n, err := h.Collect(ctx)
		if ctx.Err() == nil && (n > 0 || err != nil) {
			h.log.Info("upload expiry", "removed", n, "err", err)
		}
	})
}

// LoopInterval is how often Loop should run for an expiry: a 24th of it,
// from a minute to an hour.
func LoopInterval(expiry time.Duration) time.Duration {
	return min(max(expiry/24, time.Minute), time.Hour)
}
