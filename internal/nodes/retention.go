package nodes

import (
	"context"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// retentionBatch is how many trashed nodes one purge transaction takes.
const retentionBatch = 100

// PurgeTrashedBefore purges, for good, the user's nodes that were trashed
// directly (trash roots, with the subtree that went to the trash with
// them) and whose last change is older than cutoff, as ACD emptied the
// trash 30 days after a node went there. Each batch is one write
// transaction through the same path as DELETE /nodes/{id}: the purged
// nodes appear in the changes feed (includePurged) and as node.purged
// webhook events. It returns how many trash roots it purged.
//
// A node's last change is its trashing unless it was renamed or moved
// while in the trash (rclone's move fallback does that and restores it at
// once), so such a node stays the full period after that change.
func (s *Service) PurgeTrashedBefore(ctx context.Context, userID string, cutoff time.Time) (int, error) {
	// modifiedDate < cutoff, to the millisecond.
	older := filter.Term{Field: filter.FieldModified, Range: &filter.Range{
		Lo: filter.Bound{Open: true},
		Hi: filter.Bound{Value: cutoff.UTC().Format("2006-01-02T15:04:05.000Z07:00")},
	}}
	total := 0
	for {
		n := 0
		err := s.write(ctx, userID, func(m *mutation) error {
			n = 0
			page, err := m.tx.List(ctx, meta.Query{UserID: userID, Filter: older,
				Statuses: []drive.Status{drive.StatusTrash}, TrashRootsOnly: true, Limit: retentionBatch})
			if err != nil {
				return err
			}
			for _, x := range page.Nodes {
				// Purging an earlier root of this batch may have purged this
				// one along with it.
				cur, err := m.node(ctx, x.ID)
				if err != nil {
					return err
				}
				if cur.Status != drive.StatusTrash || cur.TrashRoot != cur.ID || !cur.ModifiedAt.Before(cutoff) {
					continue
				}
				if err := m.purge(ctx, cur); err != nil {
					return err
				}
				n++
			}
			if len(page.Nodes) == 0 {
				// Nothing to write: the transaction only bumped the change
				// counter, which no reader can tell from an empty commit.
				return errNothingToPurge
			}
			return nil
		})
		if err == errNothingToPurge {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		total += n
		if n < retentionBatch {
			return total, nil
		}
	}
}

// errNothingToPurge rolls back a retention transaction that found nothing.
var errNothingToPurge = drive.E("nodes.PurgeTrashedBefore", drive.NotFound, "nothing to purge")
