package nodes

import (
	"context"
	"errors"
	"path"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// BackfillBatch is how many nodes one backfill transaction writes.
const BackfillBatch = 100

// BackfillStats counts what BackfillMedia did.
type BackfillStats struct {
	// Scanned is the number of files without media properties that look
	// like a photo or video (by content type or extension) and were read.
	Scanned int
	// Updated is the number that got contentProperties.image or video.
	Updated int
}

// mediaExtensions are the name extensions a backfill reads besides
// image/* and video/* content types.
var mediaExtensions = map[string]bool{
	"jpg": true, "jpeg": true, "png": true, "gif": true, "bmp": true, "tif": true, "tiff": true, "webp": true,
	"mp4": true, "mov": true, "m4v": true, "3gp": true, "mkv": true, "webm": true, "avi": true,
}

func mediaCandidate(n *drive.Node) bool {
	if n.Kind != drive.KindFile || n.Content == nil || n.Content.Size == 0 || n.Content.BlobKey == "" {
		return false
	}
	if n.Content.Image != nil || n.Content.Video != nil {
		return false
	}
	ct := n.Content.ContentType
	return strings.HasPrefix(ct, "image/") || strings.HasPrefix(ct, "video/") ||
		mediaExtensions[strings.ToLower(strings.TrimPrefix(path.Ext(n.Name), "."))]
}

type backfilled struct {
	id, key string
	media   drive.Media
}

// BackfillMedia reads the photo and video metadata of userID's files
// stored without it (by a server from before media extraction) and
// records it as an upload would have: contentProperties.image or video
// and contentDate. Each file's blob is read once, outside any
// transaction; the results are written BackfillBatch nodes a transaction
// through the normal update path, so each updated node gets a new version
// and a node.metadata_updated change (ACD clients cache contentProperties
// and learn of the new ones through the changes feed). A node whose
// content changed meanwhile is left alone. Running it again reads only
// the candidates where nothing was found and writes nothing. It is safe
// while servers run.
func (s *Service) BackfillMedia(ctx context.Context, userID string) (BackfillStats, error) {
	var st BackfillStats
	if s.Media == nil {
		return st, drive.E("nodes.BackfillMedia", drive.Invalid, "no media extractor configured")
	}
	files, err := filter.Parse("kind:FILE")
	if err != nil {
		return st, err
	}
	var after *meta.Cursor
	var pending []backfilled
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		n, err := s.writeMedia(ctx, userID, pending)
		st.Updated += n
		pending = pending[:0]
		return err
	}
	for {
		var page meta.Page
		err := s.view(ctx, func(tx Tx) error {
			var err error
			page, err = tx.List(ctx, meta.Query{UserID: userID, Filter: files,
				Statuses: []drive.Status{drive.StatusAvailable, drive.StatusTrash}, After: after, Limit: 200})
			return err
		})
		if err != nil {
			return st, err
		}
		for _, n := range page.Nodes {
			if !mediaCandidate(n) {
				continue
			}
			st.Scanned++
			info := n.Content
			m, err := s.Media.Extract(ctx, blobReaderAt{ctx: ctx, blobs: s.Blobs, key: info.BlobKey}, info.Size, info.ContentType, n.Name)
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			if err != nil && s.Logger != nil {
				s.Logger.DebugContext(ctx, "no media metadata", "node", n.ID, "blob", info.BlobKey, "err", err)
			}
			if m.Image == nil && m.Video == nil {
				continue
			}
			pending = append(pending, backfilled{id: n.ID, key: info.BlobKey, media: m})
			if len(pending) >= BackfillBatch {
				if err := flush(); err != nil {
					return st, err
				}
			}
		}
		if page.Last == nil || len(page.Nodes) == 0 {
			break
		}
		after = page.Last
	}
	return st, flush()
}

// errNothingToBackfill rolls back a backfill transaction that changed nothing.
var errNothingToBackfill = errors.New("nodes: nothing to backfill")

// writeMedia records the media of one batch in one transaction.
func (s *Service) writeMedia(ctx context.Context, userID string, batch []backfilled) (int, error) {
	n := 0
	err := s.write(ctx, userID, func(m *mutation) error {
		n = 0
		for _, b := range batch {
			cur, err := m.node(ctx, b.id)
			if drive.Is(drive.NotFound, err) {
				continue
			}
			if err != nil {
				return err
			}
			if cur.Status == drive.StatusPurged || cur.Content == nil || cur.Content.BlobKey != b.key ||
				cur.Content.Image != nil || cur.Content.Video != nil {
				continue
			}
			setMedia(cur.Content, b.media)
			if err := m.update(ctx, cur, drive.EventMetadataUpdated); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return errNothingToBackfill
		}
		return nil
	})
	if errors.Is(err, errNothingToBackfill) {
		return 0, nil
	}
	return n, err
}
