package lease

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/meta"
)

// Tx is what a lease does in a metadata transaction: the part of meta.Tx
// it uses, the server setting that holds the lease, read or created and
// then swapped.
type Tx interface {
	PutSettingIfAbsent(ctx context.Context, key, value string) (string, error)
	SwapSetting(ctx context.Context, key, old, new string) (bool, error)
}

var _ Tx = meta.Tx(nil)

// update runs fn in a read-write transaction of m, seen as a Tx.
func update(ctx context.Context, m meta.Store, fn func(tx Tx) error) error {
	return m.Update(ctx, func(tx meta.Tx) error { return fn(tx) })
}
