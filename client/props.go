package client

import (
	"context"
	"errors"

	"github.com/clouddrive/clouddrive/acd"
)

// Properties are app-private key/value pairs on a node. owner is the app
// id, which is the createdBy of nodes the app creates; an app may only
// write its own, and sees an empty map for other owners.

// Properties returns owner's properties of a node (GET
// nodes/{id}/properties/{owner}).
func (c *Client) Properties(ctx context.Context, id, owner string) (map[string]string, error) {
	var out acd.Properties
	err := c.call(ctx, &request{op: "client.Properties", method: "GET",
		path: "nodes/" + seg(id) + "/properties/" + seg(owner), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	if out.Data == nil {
		out.Data = map[string]string{}
	}
	return out.Data, nil
}

// Property returns one property; ErrNotFound if it is not set.
func (c *Client) Property(ctx context.Context, id, owner, key string) (string, error) {
	var out acd.Property
	err := c.call(ctx, &request{op: "client.Property", method: "GET",
		path: "nodes/" + seg(id) + "/properties/" + seg(owner) + "/" + seg(key), idempotent: true}, &out)
	return out.Value, err
}

// SetProperty sets one property (at most 10 keys per owner, values up to
// 500 characters).
func (c *Client) SetProperty(ctx context.Context, id, owner, key, value string) error {
	return c.call(ctx, &request{op: "client.SetProperty", method: "PUT",
		path: "nodes/" + seg(id) + "/properties/" + seg(owner) + "/" + seg(key),
		in:   acd.PropertyValue{Value: value}, idempotent: true}, nil)
}

// DeleteProperty removes one property; ErrNotFound if it is not set.
func (c *Client) DeleteProperty(ctx context.Context, id, owner, key string) error {
	return c.call(ctx, &request{op: "client.DeleteProperty", method: "DELETE",
		path: "nodes/" + seg(id) + "/properties/" + seg(owner) + "/" + seg(key),
		// A second DELETE of the same key is a 404: check instead.
		confirm: func(ctx context.Context) (bool, error) {
			_, err := c.Property(ctx, id, owner, key)
			if errors.Is(err, ErrNotFound) {
				return true, nil
			}
			return false, err
		}}, nil)
}
