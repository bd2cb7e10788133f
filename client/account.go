package client

import (
	"context"

	"github.com/clouddrive/clouddrive/acd"
)

// AccountInfo returns GET account/info.
func (c *Client) AccountInfo(ctx context.Context) (*acd.AccountInfo, error) {
	var out acd.AccountInfo
	err := c.call(ctx, &request{op: "client.AccountInfo", method: "GET", path: "account/info", idempotent: true}, &out)
	return &out, err
}

// Quota returns GET account/quota: the quota and the bytes still
// available.
func (c *Client) Quota(ctx context.Context) (*acd.Quota, error) {
	var out acd.Quota
	err := c.call(ctx, &request{op: "client.Quota", method: "GET", path: "account/quota", idempotent: true}, &out)
	return &out, err
}

// Usage returns GET account/usage: bytes and counts per category.
func (c *Client) Usage(ctx context.Context) (*acd.Usage, error) {
	var out acd.Usage
	err := c.call(ctx, &request{op: "client.Usage", method: "GET", path: "account/usage", idempotent: true}, &out)
	return &out, err
}
