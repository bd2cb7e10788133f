package changes

import (
	"context"
	"sync"
	"time"
)

// Notifier wakes long-polling readers of a user's feed when a write of
// that user commits in this process. Writes committed by other replicas
// are found by the periodic re-check in Wait, so a notifier is an
// optimisation, never a requirement for correctness.
type Notifier struct {
	mu    sync.Mutex
	chans map[string]chan struct{}
}

// NewNotifier returns an empty notifier.
func NewNotifier() *Notifier { return &Notifier{chans: map[string]chan struct{}{}} }

// Notify wakes every waiter of userID.
func (n *Notifier) Notify(userID string) {
	n.mu.Lock()
	ch := n.chans[userID]
	delete(n.chans, userID)
	n.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// changed returns a channel closed at the next Notify of userID.
func (n *Notifier) changed(userID string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch := n.chans[userID]
	if ch == nil {
		ch = make(chan struct{})
		n.chans[userID] = ch
	}
	return ch
}

// RecheckInterval is how often a long poll looks at the store for writes
// committed elsewhere.
const RecheckInterval = time.Second

// MaxWait bounds a long poll.
const MaxWait = 60 * time.Second

// wait blocks until the user's change counter moves past cp, wait
// elapses or ctx ends. It returns at once when there is no checkpoint or
// it is unknown (Stream will send a reset), or already behind.
func (f *Feed) wait(ctx context.Context, userID string, cp checkpoint, wait time.Duration) error {
	if wait <= 0 || !cp.ok {
		return nil
	}
	wait = min(wait, MaxWait)
	epoch, seq := cp.epoch, cp.seq
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(RecheckInterval)
	defer tick.Stop()
	for {
		var woke <-chan struct{}
		if f.Notifier != nil {
			woke = f.Notifier.changed(userID)
		}
		ahead, err := f.ahead(ctx, userID, epoch, seq)
		if err != nil || ahead {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-deadline.C:
			return nil
		case <-woke:
		case <-tick.C:
		}
	}
}

// ahead reports whether there is something to send after (epoch, seq).
func (f *Feed) ahead(ctx context.Context, userID, epoch string, seq int64) (bool, error) {
	var cur int64
	var userEpoch string
	err := f.view(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		userEpoch = u.Epoch
		cur, err = tx.CurrentSeq(ctx, userID)
		return err
	})
	if err != nil {
		return false, err
	}
	return userEpoch != epoch || cur != seq, nil
}
