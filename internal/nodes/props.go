package nodes

import (
	"context"
	"unicode/utf8"

	"github.com/clouddrive/clouddrive/internal/drive"
)

func checkOwner(op string, p drive.Principal, owner string) error {
	if owner == "" {
		return &drive.Error{Op: op, Kind: drive.NotFound, Message: "unknown operation"}
	}
	if owner != p.App {
		return &drive.Error{Op: op, Kind: drive.Forbidden, Message: "properties can only be written by their owner app " + owner}
	}
	return nil
}

func validateProperty(op, key, value string) error {
	if key == "" || len(key) > MaxPropertyKey || !utf8.ValidString(key) {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "key", Message: "property key must be 1-64 bytes of UTF-8"}
	}
	if !utf8.ValidString(value) || utf8.RuneCountInString(value) > MaxPropertyValue {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "value", Message: "property value must be at most 500 characters of UTF-8"}
	}
	return nil
}

// setPropertiesChecked sets properties, enforcing the per-owner limit.
func (m *mutation) setPropertiesChecked(ctx context.Context, op, id string, props map[string]map[string]string) error {
	for owner, kv := range props {
		for k, v := range kv {
			if err := m.setProperty(ctx, op, id, owner, k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *mutation) setProperty(ctx context.Context, op, id, owner, key, value string) error {
	cur, err := m.tx.Properties(ctx, id, owner)
	if err != nil {
		return err
	}
	if _, ok := cur[key]; !ok && len(cur) >= MaxPropertiesPerOwner {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "key", Message: "too many properties for one owner (maximum 10)"}
	}
	return m.tx.SetProperty(ctx, id, owner, key, value)
}

// Properties returns the properties of owner on a node. A caller that is
// not the owner sees an empty map, as on ACD.
func (s *Service) Properties(ctx context.Context, id, owner string) (map[string]string, error) {
	const op = "nodes.Properties"
	p, err := caller(ctx, op)
	if err != nil {
		return nil, err
	}
	if owner == "" {
		return nil, &drive.Error{Op: op, Kind: drive.NotFound, Message: "unknown operation"}
	}
	if _, err := s.Node(ctx, id); err != nil {
		return nil, err
	}
	if owner != p.App {
		return map[string]string{}, nil
	}
	var out map[string]string
	err = s.view(ctx, func(tx Tx) error {
		out, err = tx.Properties(ctx, id, owner)
		return err
	})
	return out, err
}

// Property returns one property, or NotFound.
func (s *Service) Property(ctx context.Context, id, owner, key string) (string, error) {
	props, err := s.Properties(ctx, id, owner)
	if err != nil {
		return "", err
	}
	v, ok := props[key]
	if !ok {
		return "", &drive.Error{Op: "nodes.Property", Kind: drive.NotFound, Message: "property " + key + " not found"}
	}
	return v, nil
}

// SetProperty writes one property of the caller's app on a node.
func (s *Service) SetProperty(ctx context.Context, id, owner, key, value string) error {
	const op = "nodes.SetProperty"
	p, err := writer(ctx, op)
	if err != nil {
		return err
	}
	if err := checkOwner(op, p, owner); err != nil {
		return err
	}
	if err := validateProperty(op, key, value); err != nil {
		return err
	}
	return s.write(ctx, p.UserID, func(m *mutation) error {
		n, err := visible(ctx, m.tx, p.UserID, id)
		if err != nil {
			return err
		}
		if err := m.setProperty(ctx, op, id, owner, key, value); err != nil {
			return err
		}
		return m.update(ctx, n, drive.EventMetadataUpdated)
	})
}

// DeleteProperty removes one property of the caller's app.
func (s *Service) DeleteProperty(ctx context.Context, id, owner, key string) error {
	const op = "nodes.DeleteProperty"
	p, err := writer(ctx, op)
	if err != nil {
		return err
	}
	if err := checkOwner(op, p, owner); err != nil {
		return err
	}
	return s.write(ctx, p.UserID, func(m *mutation) error {
		n, err := visible(ctx, m.tx, p.UserID, id)
		if err != nil {
			return err
		}
		if err := m.tx.DeleteProperty(ctx, id, owner, key); err != nil {
			return err
		}
		return m.update(ctx, n, drive.EventMetadataUpdated)
	})
}
