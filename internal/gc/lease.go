package gc

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/meta"
)

// leaseSetting names the server setting that holds the collector lease.
const leaseSetting = "gc_lease"

// Lead takes or renews the collection lease for holder until ttl from now,
// and reports whether holder has it. Replicas sharing one store each run a
// collection loop; the lease makes one of them collect while the others
// skip, and lets another take over once a holder stops renewing. The lease
// is a setting ("holder until-unix-ms") changed by compare-and-swap, so two
// replicas racing for an expired lease cannot both win.
func (c *Collector) Lead(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	now := c.Now()
	mine := holder + " " + strconv.FormatInt(now.Add(ttl).UnixMilli(), 10)
	var won bool
	err := c.Meta.Update(ctx, func(tx meta.Tx) error {
		cur, err := tx.PutSettingIfAbsent(ctx, leaseSetting, mine)
		if err != nil || cur == mine {
			won = err == nil
			return err
		}
		h, until, _ := strings.Cut(cur, " ")
		ms, perr := strconv.ParseInt(until, 10, 64)
		if h != holder && perr == nil && now.Before(time.UnixMilli(ms)) {
			won = false
			return nil
		}
		won, err = tx.SwapSetting(ctx, leaseSetting, cur, mine)
		return err
	})
	return won, err
}
