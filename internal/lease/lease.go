// Package lease lets one replica of several that share a metadata store
// do a piece of background work (garbage collection, trash retention) while
// the others skip it, and lets another take over once the holder stops.
package lease

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Take takes or renews the lease called name for holder until ttl after
// now, and reports whether holder has it. The lease is a server setting
// ("holder until-unix-ms") changed by compare-and-swap, so two replicas
// racing for an expired lease cannot both win.
func Take(ctx context.Context, m meta.Store, now time.Time, name, holder string, ttl time.Duration) (bool, error) {
	mine := holder + " " + strconv.FormatInt(now.Add(ttl).UnixMilli(), 10)
	var won bool
	err := update(ctx, m, func(tx Tx) error {
		cur, err := tx.PutSettingIfAbsent(ctx, name, mine)
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
		won, err = tx.SwapSetting(ctx, name, cur, mine)
		return err
	})
	return won, err
}

// Holder returns a name for this process that no other process shares:
// the host name and a random id.
func Holder() string {
	host, _ := os.Hostname()
	return host + "/" + drive.NewID()
}

// Loop calls run every interval until ctx ends, on the one process that
// holds the lease called name: every replica runs a Loop, the lease
// (renewed each run, valid for two intervals) makes one of them do the
// work, and another takes over when it stops. The first run is one
// interval after the start. what names the work in log lines.
func Loop(ctx context.Context, m meta.Store, now drive.Clock, name string, interval time.Duration,
	log *slog.Logger, what string, run func(ctx context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	holder := Holder()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		won, err := Take(ctx, m, now(), name, holder, 2*interval)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn(what+": lease check failed; skipping this run", "err", err)
		case err == nil && !won:
			log.Debug(what + ": another replica holds the lease; skipping this run")
		case err == nil:
			run(ctx)
		}
	}
}
