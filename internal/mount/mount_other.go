//go:build !linux

package mount

import (
	"context"

	"github.com/clouddrive/clouddrive/client"
)

// Mounted is a mounted drive (Linux only).
type Mounted struct{}

// Start returns ErrUnsupported: this build has no FUSE support.
func Start(context.Context, *client.Client, string, Options) (*Mounted, error) {
	return nil, ErrUnsupported
}

// Unmount does nothing.
func (*Mounted) Unmount() error { return nil }

// Mount returns ErrUnsupported: this build has no FUSE support.
func Mount(context.Context, *client.Client, string, Options, func()) error {
	return ErrUnsupported
}
