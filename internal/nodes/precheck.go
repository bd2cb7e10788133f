package nodes

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// CheckUpload runs, before any content arrives, the checks Upload makes
// of a new FILE node of size bytes: the name and metadata, the parents
// (404 unknown, 409 NAME_ALREADY_EXISTS), the localId (409
// LOCAL_ID_ALREADY_USED) and the quota (403 QUOTA_EXCEEDED). Resumable
// uploads call it at creation, so a doomed upload fails before its bytes
// are sent; Upload checks everything again when it creates the node. It
// costs one read transaction.
func (s *Service) CheckUpload(ctx context.Context, in NewNode, size int64, opt UploadOptions) error {
	const op = "nodes.Upload"
	p, err := writer(ctx, op)
	if err != nil {
		return err
	}
	if err := s.prepare(ctx, op, p, &in, drive.KindFile); err != nil {
		return err
	}
	return s.view(ctx, func(tx Tx) error {
		parents, err := parentsOrRoot(ctx, tx, p.UserID, in.Parents)
		if err != nil {
			return err
		}
		if err := checkParents(ctx, tx, op, p.UserID, parents, in.Name, ""); err != nil {
			return err
		}
		if err := checkLocalID(ctx, tx, op, p.UserID, opt.LocalID); err != nil {
			return err
		}
		return fits(ctx, tx, op, p.UserID, size, 0)
	})
}

// CheckOverwrite runs, before any content arrives, the checks Overwrite
// makes of new content of size bytes for the FILE node id: the node is
// the caller's (404), a file (400) and not in the trash (409), and the
// new content fits in the quota with the old content freed (403). It
// costs one read transaction.
func (s *Service) CheckOverwrite(ctx context.Context, id string, size int64) error {
	const op = "nodes.Overwrite"
	p, err := writer(ctx, op)
	if err != nil {
		return err
	}
	return s.view(ctx, func(tx Tx) error {
		n, err := visible(ctx, tx, p.UserID, id)
		if err != nil {
			return err
		}
		if err := overwritable(op, n); err != nil {
			return err
		}
		return fits(ctx, tx, op, p.UserID, size, n.Content.Size)
	})
}

// fits fails with QuotaExceeded when size bytes do not fit in the user's
// remaining space, freed bytes given back.
func fits(ctx context.Context, tx AccountTx, op, userID string, size, freed int64) error {
	left, err := remaining(ctx, tx, userID, freed)
	if err != nil {
		return err
	}
	if left >= 0 && size > left {
		return quotaExceeded(op)
	}
	return nil
}
