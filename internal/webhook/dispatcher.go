package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Defaults of a Dispatcher.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultPerEndpoint = 4
	DefaultBatch       = 64
	DefaultRetention   = 30 * 24 * time.Hour
	pruneEvery         = time.Hour
	pruneBatch         = 500
	DefaultPoll        = time.Second
)

// DefaultRetries are the delays of the retries after a failed attempt,
// each counted from the end of the attempt before it: after the last one
// fails the delivery is dead.
func DefaultRetries() []time.Duration {
	return []time.Duration{5 * time.Minute, time.Hour, 12 * time.Hour}
}

// Observer receives the dispatcher's measurements (package metrics).
type Observer interface {
	// Attempted counts one attempt by result: "delivered", "retry" (it
	// failed and another attempt is scheduled) or "dead"; reason is ""
	// on success, else "status" (a non-2xx answer) or "error" (no answer).
	Attempted(result, reason string)
	// Pending sets the number of pending deliveries.
	Pending(n int64)
}

// Dispatcher sends due deliveries. Set the exported fields before the
// first call; it is then safe for concurrent use, and several dispatchers
// (replicas) may share one store.
type Dispatcher struct {
	Meta   meta.Store
	Now    drive.Clock
	Logger *slog.Logger
	// Client sends the requests; nil uses a client that does not follow
	// redirects (a redirect is a failed attempt).
	Client *http.Client
	// Timeout bounds one attempt (default DefaultTimeout).
	Timeout time.Duration
	// PerEndpoint bounds the attempts in flight to one destination host
	// in this process (default DefaultPerEndpoint): every URL with the
	// same host name and port shares the bound (see endpointKey), so
	// subscribing many paths or queries of one host does not multiply
	// the requests it gets at once.
	PerEndpoint int
	// Batch is how many deliveries one pass claims (default DefaultBatch).
	Batch int
	// Retries are the retry delays (default DefaultRetries).
	Retries []time.Duration
	// Observer, if set, gets the measurements.
	Observer Observer
	// Retention is how long events whose deliveries all ended (delivered
	// or dead) are kept for `admin webhook deliveries` and replay before
	// Prune deletes them (default DefaultRetention).
	Retention time.Duration

	lastPrune time.Time // wall clock; guarded by mu

	once   sync.Once
	wake   chan struct{}
	mu     sync.Mutex
	sems   map[string]*hostSlots // by endpointKey; an entry lives while attempts use it
	client *http.Client
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.wake = make(chan struct{}, 1)
		d.sems = map[string]*hostSlots{}
		d.client = d.Client
		if d.client == nil {
			d.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
		if d.Logger == nil {
			d.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

func (d *Dispatcher) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

func (d *Dispatcher) perEndpoint() int {
	if d.PerEndpoint > 0 {
		return d.PerEndpoint
	}
	return DefaultPerEndpoint
}

func (d *Dispatcher) batch() int {
	if d.Batch > 0 {
		return d.Batch
	}
	return DefaultBatch
}

func (d *Dispatcher) retries() []time.Duration {
	if d.Retries != nil {
		return d.Retries
	}
	return DefaultRetries()
}

// Wake makes a running Run start a pass now rather than at its next poll.
func (d *Dispatcher) Wake() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx ends: a pass every poll interval, or
// at once after Wake, each pass repeated while it finds a full batch.
func (d *Dispatcher) Run(ctx context.Context, poll time.Duration) {
	d.init()
	if poll <= 0 {
		poll = DefaultPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	d.mu.Lock()
	d.lastPrune = time.Now()
	d.mu.Unlock()
	for {
		// An idle server (no pending delivery) reads no clock and takes
		// no write transaction.
		for ctx.Err() == nil && d.pending(ctx) {
			n, err := d.RunOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					d.Logger.Warn("webhook pass failed", "err", err)
				}
				break
			}
			if n < d.batch() {
				break
			}
		}
		d.maybePrune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

// maybePrune runs Prune once per pruneEvery of wall-clock time, the first
// time pruneEvery after Run started. The cadence uses the real clock, not
// the injected one, so an idle server still reads no injected clock.
func (d *Dispatcher) maybePrune(ctx context.Context) {
	now := time.Now()
	d.mu.Lock()
	due := now.Sub(d.lastPrune) >= pruneEvery
	if due {
		d.lastPrune = now
	}
	d.mu.Unlock()
	if !due {
		return
	}
	if n, err := d.Prune(ctx); err != nil {
		if ctx.Err() == nil {
			d.Logger.Warn("webhook prune failed", "err", err)
		}
	} else if n > 0 {
		d.Logger.Info("webhook events pruned", "events", n)
	}
}

// Prune deletes the events older than Retention whose deliveries all
// ended, in batches, and returns how many it deleted.
func (d *Dispatcher) Prune(ctx context.Context) (int, error) {
	d.init()
	keep := d.Retention
	if keep <= 0 {
		keep = DefaultRetention
	}
	before := d.Now().Add(-keep)
	total := 0
	for {
		var n int
		err := d.update(ctx, func(tx DispatcherTx) error {
			var err error
			n, err = tx.PruneWebhookEvents(ctx, before, pruneBatch)
			return err
		})
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}

// RunOnce claims the deliveries due now (at most Batch), attempts each,
// waits for the attempts to end, and returns how many it attempted.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	d.init()
	now := d.Now()
	// The lease outlasts the pass even when every delivery goes to one
	// endpoint and waits for its turn.
	rounds := time.Duration(d.batch()/d.perEndpoint() + 1)
	lease := now.Add(rounds*d.timeout() + time.Minute)
	var ds []*meta.Delivery
	err := d.update(ctx, func(tx DispatcherTx) error {
		var err error
		// The lease token is random, not from an injected generator: it
		// names this claim only.
		ds, err = tx.ClaimDeliveries(ctx, now, lease, drive.NewID(), d.batch())
		return err
	})
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, del := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.attempt(ctx, del)
		}()
	}
	wg.Wait()
	d.observePending(ctx)
	return len(ds), nil
}

func (d *Dispatcher) observePending(ctx context.Context) { d.pending(ctx) }

// pending counts the pending deliveries, reports the count to the
// Observer, and tells whether there are any (true when it cannot tell).
func (d *Dispatcher) pending(ctx context.Context) bool {
	var n int64
	err := d.view(ctx, func(tx DispatcherTx) error {
		var err error
		n, err = tx.CountDeliveries(ctx, meta.DeliveryPending)
		return err
	})
	if err != nil {
		return ctx.Err() == nil
	}
	if d.Observer != nil {
		d.Observer.Pending(n)
	}
	return n > 0
}

// hostSlots are the turns of one destination host, and how many
// attempts hold or wait for one.
type hostSlots struct {
	turns chan struct{}
	users int
}

// endpointKey names the destination host of a webhook URL: the host name
// in lower case without a trailing dot (an IP address in its canonical
// form) and the port, the scheme's default if none is given. A URL that
// does not parse is its own key.
func endpointKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().WithZone("").String()
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	return net.JoinHostPort(host, port)
}

// slots returns the turns of key's host, counting the caller as a user
// until done is called.
func (d *Dispatcher) slots(key string) (turns chan struct{}, done func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sems[key]
	if !ok {
		s = &hostSlots{turns: make(chan struct{}, d.perEndpoint())}
		d.sems[key] = s
	}
	s.users++
	return s.turns, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if s.users--; s.users == 0 {
			delete(d.sems, key)
		}
	}
}

// attempt sends one delivery and records the outcome.
func (d *Dispatcher) attempt(ctx context.Context, del *meta.Delivery) {
	turns, done := d.slots(endpointKey(del.URL))
	select {
	case turns <- struct{}{}:
	case <-ctx.Done():
		done()
		d.release(del)
		return
	}
	status, failure := d.send(ctx, del)
	<-turns
	done()
	if ctx.Err() != nil && status == 0 {
		// Shutting down: this was no fair attempt.
		d.release(del)
		return
	}
	log := d.Logger.With("delivery_id", del.ID, "event_id", del.EventID, "webhook_id", del.WebhookID)
	del.Attempts++
	del.LastAttemptAt = d.Now().UTC().Truncate(time.Millisecond)
	del.LastStatus, del.LastError = status, failure
	result, reason := "delivered", ""
	switch {
	case failure == "":
		del.Status = meta.DeliveryDelivered
	case del.Attempts <= len(d.retries()):
		result = "retry"
		del.NextAt = del.LastAttemptAt.Add(d.retries()[del.Attempts-1])
	default:
		result, del.Status = "dead", meta.DeliveryDead
	}
	if failure != "" {
		reason = "error"
		if status != 0 {
			reason = "status"
		}
	}
	if d.Observer != nil {
		d.Observer.Attempted(result, reason)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := d.update(fctx, func(tx DispatcherTx) error { return tx.FinishDelivery(fctx, del) })
	switch {
	case drive.Is(drive.NotFound, err):
		log.Warn("webhook attempt not recorded: the lease was lost", "result", result)
	case err != nil:
		log.Error("webhook attempt not recorded", "result", result, "err", err)
	case failure != "":
		log.Info("webhook attempt failed", "result", result, "attempts", del.Attempts, "status", status, "err", failure)
	default:
		log.Debug("webhook delivered", "attempts", del.Attempts, "status", status)
	}
}

// release gives a claimed delivery back unchanged.
func (d *Dispatcher) release(del *meta.Delivery) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.update(ctx, func(tx DispatcherTx) error { return tx.FinishDelivery(ctx, del) })
}

// send POSTs the delivery and returns the status code (0 without an
// answer) and why it failed ("" on 2xx).
func (d *Dispatcher) send(ctx context.Context, del *meta.Delivery) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, del.URL, bytes.NewReader(del.Payload))
	if err != nil {
		return 0, truncate(err.Error())
	}
	ts := d.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "clouddrive-webhook/1")
	req.Header.Set(acd.WebhookTimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(acd.WebhookSignatureHeader, Sign(del.Secret, ts, del.Payload))
	req.Header.Set(acd.WebhookEventHeader, del.EventType)
	req.Header.Set(acd.WebhookDeliveryHeader, del.ID)
	resp, err := d.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, "timed out after " + d.timeout().String()
		}
		return 0, truncate(err.Error())
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, "HTTP " + resp.Status
	}
	return resp.StatusCode, ""
}

func truncate(s string) string {
	if len(s) > 512 {
		return s[:512]
	}
	return s
}
