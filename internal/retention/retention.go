// Package retention empties the trash: nodes that stayed in a user's
// trash longer than the retention period are purged for good, as ACD did
// after 30 days. Every replica runs the loop; a lease in the metadata
// store makes one of them do the work at a time.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/lease"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// leaseName is the server setting that holds the retention lease.
const leaseName = "trash_retention_lease"

// Purger purges expired trash. All fields are required.
type Purger struct {
	Meta  meta.Store
	Nodes *nodes.Service
	Now   drive.Clock
	// Period is how long a node stays in the trash (ACD: 30 days).
	Period time.Duration
	Logger *slog.Logger
}

// Stats is what one run did.
type Stats struct {
	Users  int // users whose trash was looked at
	Purged int // trash roots purged (each with the subtree trashed along)
}

// RunOnce purges, for every user, the trash roots whose last change is
// older than Period (nothing when Period is 0). A failure for one user is logged and the run goes on
// with the next; the first such error is returned at the end.
func (p *Purger) RunOnce(ctx context.Context) (Stats, error) {
	if p.Period <= 0 {
		return Stats{}, nil // retention is off: the trash is kept
	}
	var users []*drive.User
	if err := p.view(ctx, func(tx Tx) error {
		var err error
		users, err = tx.Users(ctx)
		return err
	}); err != nil {
		return Stats{}, err
	}
	cutoff := p.Now().Add(-p.Period)
	var st Stats
	var first error
	for _, u := range users {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		n, err := p.Nodes.PurgeTrashedBefore(ctx, u.ID, cutoff)
		st.Users++
		st.Purged += n
		if err != nil {
			p.Logger.Error("trash retention: purge failed", "user", u.Name, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return st, first
}

// Loop runs RunOnce every interval, while this process holds the lease,
// until ctx ends. The first run is one interval after the start.
func (p *Purger) Loop(ctx context.Context, interval time.Duration) {
	lease.Loop(ctx, p.Meta, p.Now, leaseName, interval, p.Logger, "trash retention", func(ctx context.Context) {
		st, err := p.RunOnce(ctx)
		if ctx.Err() == nil && (st.Purged > 0 || err != nil) {
			p.Logger.Info("trash retention", "users", st.Users, "purged", st.Purged, "period", p.Period, "err", err)
		}
	})
}
