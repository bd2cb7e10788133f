package nodes

import (
	"context"
	"slices"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
)

// Patch is a partial update (PATCH /nodes/{id}); nil fields are left alone.
type Patch struct {
	Name        *string
	Description *string
	Labels      *[]string
	// Parents replaces the whole parent list (acd_cli moves nodes so).
	Parents *[]string
	// Status may only be AVAILABLE (acd_cli turns PENDING nodes available).
	Status     *drive.Status
	Properties map[string]map[string]string
	// ModTime sets a file's modification time (contentProperties.mtime;
	// the zero time clears it); folders have none.
	ModTime *time.Time
}

// Update applies a Patch.
func (s *Service) Update(ctx context.Context, id string, pt Patch) (*drive.Node, error) {
	const op = "nodes.Update"
	p, err := writer(ctx, op)
	if err != nil {
		return nil, err
	}
	if pt.Name != nil {
		if err := drive.ValidateName(op, *pt.Name); err != nil {
			return nil, err
		}
	}
	if pt.Labels != nil {
		if err := validateLabels(op, *pt.Labels); err != nil {
			return nil, err
		}
	}
	if pt.Description != nil && len(*pt.Description) > MaxDescription {
		return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "description", Message: "description is too long"}
	}
	if pt.Status != nil && *pt.Status != drive.StatusAvailable {
		return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "status", Message: "status can only be set to AVAILABLE; use the trash endpoints"}
	}
	if pt.Parents != nil {
		ps := uniq(*pt.Parents)
		if len(ps) == 0 {
			return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "parents", Message: "parents must not be empty"}
		}
		pt.Parents = &ps
	}
	for owner, kv := range pt.Properties {
		if err := checkOwner(op, p, owner); err != nil {
			return nil, err
		}
		for k, v := range kv {
			if err := validateProperty(op, k, v); err != nil {
				return nil, err
			}
		}
	}
	var n *drive.Node
	err = s.write(ctx, p.UserID, func(m *mutation) error {
		if n, err = visible(ctx, m.tx, p.UserID, id); err != nil {
			return err
		}
		if n.IsRoot && (pt.Name != nil || pt.Parents != nil) {
			return &drive.Error{Op: op, Kind: drive.Forbidden, Message: "the root folder cannot be renamed or moved"}
		}
		if pt.Name != nil {
			n.Name = *pt.Name
		}
		if pt.Description != nil {
			n.Description = *pt.Description
		}
		if pt.Labels != nil {
			n.Labels = nonNil(*pt.Labels)
		}
		if pt.Parents != nil {
			for _, pid := range *pt.Parents {
				if _, err := folder(ctx, m.tx, op, p.UserID, pid); err != nil {
					return err
				}
				if err := checkNoCycle(ctx, m.tx, op, p.UserID, n, pid); err != nil {
					return err
				}
			}
			n.Parents = *pt.Parents
		}
		if n.Status == drive.StatusAvailable && (pt.Name != nil || pt.Parents != nil) {
			for _, pid := range n.Parents {
				if err := checkName(ctx, m.tx, op, pid, n.Name, n.ID); err != nil {
					return err
				}
			}
		}
		if pt.ModTime != nil {
			if n.Kind != drive.KindFile || n.Content == nil {
				return &drive.Error{Op: op, Kind: drive.Invalid, Param: "mtime", Message: "only files have a modification time"}
			}
			n.Content.ModTime = modTime(*pt.ModTime)
		}
		if pt.Status != nil && n.Status == drive.StatusPending {
			n.Status = drive.StatusAvailable
		}
		if err := m.setPropertiesChecked(ctx, op, n.ID, pt.Properties); err != nil {
			return err
		}
		return m.update(ctx, n, drive.EventMetadataUpdated)
	})
	if err != nil {
		return nil, s.withConflictID(ctx, err, parentsOf(n), nameOf(n))
	}
	return n, nil
}

// AddParent adds parentID to the parents of childID (PUT
// /nodes/{parent}/children/{child}). Allowed on TRASH children, without a
// name check.
func (s *Service) AddParent(ctx context.Context, parentID, childID string) (*drive.Node, error) {
	const op = "nodes.AddParent"
	return s.relink(ctx, op, childID, func(m *mutation, n *drive.Node) (bool, error) {
		if slices.Contains(n.Parents, parentID) {
			return false, nil
		}
		if _, err := folder(ctx, m.tx, op, m.userID, parentID); err != nil {
			return false, err
		}
		if err := checkNoCycle(ctx, m.tx, op, m.userID, n, parentID); err != nil {
			return false, err
		}
		if n.Status == drive.StatusAvailable {
			if err := checkName(ctx, m.tx, op, parentID, n.Name, n.ID); err != nil {
				return false, err
			}
		}
		n.Parents = append(n.Parents, parentID)
		return true, nil
	})
}

// RemoveParent removes parentID from the parents of childID (DELETE
// /nodes/{parent}/children/{child}). Removing the last parent re-attaches
// the node to the root.
func (s *Service) RemoveParent(ctx context.Context, parentID, childID string) (*drive.Node, error) {
	const op = "nodes.RemoveParent"
	return s.relink(ctx, op, childID, func(m *mutation, n *drive.Node) (bool, error) {
		i := slices.Index(n.Parents, parentID)
		if i < 0 {
			return false, &drive.Error{Op: op, Kind: drive.NotFound, Message: "node " + childID + " is not a child of " + parentID}
		}
		n.Parents = slices.Delete(n.Parents, i, i+1)
		if len(n.Parents) == 0 {
			u, err := m.tx.User(ctx, m.userID)
			if err != nil {
				return false, err
			}
			if u.RootID == parentID {
				return false, &drive.Error{Op: op, Kind: drive.Conflict, Code: acd.CodeLastParent, Message: "cannot remove the last parent of a node in the root folder; trash it instead"}
			}
			n.Parents = []string{u.RootID}
			if n.Status == drive.StatusAvailable {
				if err := checkName(ctx, m.tx, op, u.RootID, n.Name, n.ID); err != nil {
					return false, err
				}
			}
		}
		return true, nil
	})
}

// Move replaces parent fromID with newParentID for childID (POST
// /nodes/{newParent}/children). Not allowed for TRASH nodes, as on ACD.
func (s *Service) Move(ctx context.Context, newParentID, fromID, childID string) (*drive.Node, error) {
	const op = "nodes.Move"
	if fromID == "" || childID == "" {
		return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "fromParent", Message: "fromParent and childId are required"}
	}
	return s.relink(ctx, op, childID, func(m *mutation, n *drive.Node) (bool, error) {
		if n.Status != drive.StatusAvailable {
			return false, &drive.Error{Op: op, Kind: drive.Conflict, Code: acd.CodeNodeNotAvailable, Message: "a node in the trash cannot be moved"}
		}
		i := slices.Index(n.Parents, fromID)
		if i < 0 {
			return false, &drive.Error{Op: op, Kind: drive.NotFound, Message: "node " + childID + " is not a child of " + fromID}
		}
		if fromID == newParentID {
			return false, nil
		}
		if _, err := folder(ctx, m.tx, op, m.userID, newParentID); err != nil {
			return false, err
		}
		if err := checkNoCycle(ctx, m.tx, op, m.userID, n, newParentID); err != nil {
			return false, err
		}
		if err := checkName(ctx, m.tx, op, newParentID, n.Name, n.ID); err != nil {
			return false, err
		}
		if slices.Contains(n.Parents, newParentID) {
			n.Parents = slices.Delete(n.Parents, i, i+1)
		} else {
			n.Parents[i] = newParentID
		}
		return true, nil
	})
}

// relink loads childID, lets fn change its parents, and writes it when fn
// reports a change.
func (s *Service) relink(ctx context.Context, op, childID string, fn func(m *mutation, n *drive.Node) (bool, error)) (*drive.Node, error) {
	p, err := writer(ctx, op)
	if err != nil {
		return nil, err
	}
	var n *drive.Node
	err = s.write(ctx, p.UserID, func(m *mutation) error {
		if n, err = visible(ctx, m.tx, p.UserID, childID); err != nil {
			return err
		}
		if n.IsRoot {
			return &drive.Error{Op: op, Kind: drive.Forbidden, Message: "the root folder has no parents"}
		}
		changed, err := fn(m, n)
		if err != nil || !changed {
			return err
		}
		return m.update(ctx, n, drive.EventMetadataUpdated)
	})
	if err != nil {
		return nil, s.withConflictID(ctx, err, parentsOf(n), nameOf(n))
	}
	return n, nil
}

// userRoot returns the root id of the mutation's user.
func (m *mutation) userRoot(ctx context.Context) (string, error) {
	u, err := m.tx.User(ctx, m.userID)
	if err != nil {
		return "", err
	}
	return u.RootID, nil
}
