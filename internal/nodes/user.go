package nodes

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// User returns the caller's user record.
func (s *Service) User(ctx context.Context) (*drive.User, error) {
	p, err := caller(ctx, "nodes.User")
	if err != nil {
		return nil, err
	}
	var u *drive.User
	err = s.view(ctx, func(tx Tx) error {
		u, err = tx.User(ctx, p.UserID)
		return err
	})
	return u, err
}
