package client

import (
	"context"

	"github.com/clouddrive/clouddrive/acd"
)

// RegisterApp registers a confidential OAuth app for one of the ACD
// clients (acd.AppClientRclone, acd.AppClientACDCLI) on behalf of the
// token's user, with POST apps (a clouddrive extension), and returns it
// with its client secret, which the server shows only this once. Every
// call makes a new app; keep the one you got. The token needs the
// clouddrive:write scope.
func (c *Client) RegisterApp(ctx context.Context, clientName string) (*acd.App, error) {
	var out acd.App
	err := c.call(ctx, &request{op: "client.RegisterApp", method: "POST", path: "apps",
		in: acd.NewApp{Client: clientName}}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
