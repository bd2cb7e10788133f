package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/webhook"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hit is one request the receiver got.
type hit struct {
	path   string
	header http.Header
	body   []byte
	event  acd.WebhookEvent
	// verified is the result of client.VerifyWebhook at arrival.
	verified error
}

// receiver is a real HTTP endpoint that records webhook deliveries,
// verifies their signatures when it arrives, and answers with status.
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	now     func() time.Time
	mu      sync.Mutex
	secrets map[string]string // by path
	status  int
	hits    []hit
	got     chan struct{}
}

func newReceiver(t *testing.T, now func() time.Time) *receiver {
	r := &receiver{t: t, now: now, secrets: map[string]string{}, status: http.StatusNoContent, got: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("receiver: reading body: %v", err)
		}
		h := hit{path: req.URL.Path, header: req.Header.Clone(), body: body}
		if err := json.Unmarshal(body, &h.event); err != nil {
			t.Errorf("receiver: body %s: %v", body, err)
		}
		r.mu.Lock()
		h.verified = client.VerifyWebhook(r.secrets[req.URL.Path], req.Header, body, r.now(), 5*time.Minute)
		r.hits = append(r.hits, h)
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
		select {
		case r.got <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setStatus(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = code
}

func (r *receiver) setSecret(path, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[path] = s
}

// take returns and forgets the hits so far.
func (r *receiver) take() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.hits
	r.hits = nil
	return out
}

// env is a server with a manual dispatcher, a user and its SDK client.
type env struct {
	t     *testing.T
	clock *fakeClock
	s     *drivetest.Server
	token string
	c     *client.Client
	recv  *receiver
}

func newEnv(t *testing.T, opts drivetest.Options) *env {
	t.Helper()
	e := &env{t: t, clock: newClock()}
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	if opts.WebhookPoll == 0 {
		opts.WebhookPoll = -1
	}
	e.s = drivetest.New(t, opts)
	e.recv = newReceiver(t, opts.Now)
	e.token = e.s.Token("alice")
	e.c = e.sdk(e.token)
	return e
}

func (e *env) sdk(token string) *client.Client {
	c, err := client.New(e.s.URL, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}),
		client.WithRetry(client.Retry{MaxAttempts: 1}))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// api calls the metadata API with e's token and returns status and body.
func (e *env) api(method, path string, in any) (int, []byte) {
	e.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.s.MetadataURL()+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// subscribe subscribes alice's token to the receiver and tells the
// receiver the secret.
func (e *env) subscribe(events ...string) *acd.Webhook {
	e.t.Helper()
	st, b := e.api("POST", "webhooks", acd.NewWebhook{URL: e.recv.srv.URL + "/hook", Events: events})
	if st != http.StatusCreated {
		e.t.Fatalf("POST webhooks = %d %s, want 201", st, b)
	}
	var w acd.Webhook
	if err := json.Unmarshal(b, &w); err != nil {
		e.t.Fatal(err)
	}
	if len(w.Secret) < 32 {
		e.t.Fatalf("POST webhooks returned secret %q, want a generated one", w.Secret)
	}
	e.recv.setSecret("/hook", w.Secret)
	return &w
}

// dispatch runs one dispatcher pass and returns how many deliveries it
// attempted.
func (e *env) dispatch() int {
	e.t.Helper()
	n, err := e.s.App.Webhooks.RunOnce(context.Background())
	if err != nil {
		e.t.Fatalf("RunOnce: %v", err)
	}
	return n
}

func (e *env) deliveries(f meta.DeliveryFilter) []*meta.Delivery {
	e.t.Helper()
	var ds []*meta.Delivery
	err := e.s.App.Meta.View(context.Background(), func(tx meta.Tx) error {
		var err error
		ds, err = tx.Deliveries(context.Background(), f)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// checkHits checks what every delivery must satisfy: a valid signature,
// headers that agree with the body.
func checkHits(t *testing.T, hits []hit) {
	t.Helper()
	for _, h := range hits {
		if h.verified != nil {
			t.Errorf("VerifyWebhook(delivery of %s %s) = %v, want nil", h.event.Type, h.event.ID, h.verified)
		}
		if got := h.header.Get(acd.WebhookEventHeader); got != h.event.Type {
			t.Errorf("%s header = %q, want the body's type %q", acd.WebhookEventHeader, got, h.event.Type)
		}
		if h.header.Get(acd.WebhookDeliveryHeader) == "" || h.event.ID == "" || h.event.UserID == "" {
			t.Errorf("delivery of %s without delivery id, event id or user id: %v %s", h.event.Type, h.header, h.body)
		}
		if !strings.HasPrefix(h.header.Get(acd.WebhookSignatureHeader), "v1=") {
			t.Errorf("%s header = %q, want v1=...", acd.WebhookSignatureHeader, h.header.Get(acd.WebhookSignatureHeader))
		}
		if _, err := time.Parse(acd.TimeFormat, h.event.Timestamp); err != nil {
			t.Errorf("event timestamp %q: %v", h.event.Timestamp, err)
		}
		if h.event.Node == nil {
			t.Errorf("event %s has no node", h.event.Type)
		}
	}
}

func seqOf(t *testing.T, checkpoint string) int64 {
	t.Helper()
	_, seq, ok := changes.DecodeCheckpoint(checkpoint)
	if !ok {
		t.Fatalf("checkpoint %q does not decode", checkpoint)
	}
	return seq
}

// TestEveryEventType makes one change of every kind and checks that the
// receiver gets a signed event for each, with the node as the API shows
// it and the change's checkpoint.
func TestEveryEventType(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, drivetest.Options{})
	e.subscribe()

	root, err := e.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := e.c.CreateFolder(ctx, root.ID, "docs", nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.c.Upload(ctx, docs.ID, "a.txt", strings.NewReader("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Overwrite(ctx, f.ID, strings.NewReader("hello, world"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Rename(ctx, f.ID, "b.txt"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.SetProperty(ctx, f.ID, "clouddrive-admin", "color", "red"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Trash(ctx, docs.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Restore(ctx, docs.ID); err != nil {
		t.Fatal(err)
	}
	beforePurge, err := e.c.Node(ctx, f.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Purge(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	finalDocs, err := e.c.Node(ctx, docs.ID, nil)
	if err != nil {
		t.Fatal(err)
	}

	if n := e.dispatch(); n != 11 {
		t.Errorf("RunOnce attempted %d deliveries, want 11", n)
	}
	hits := e.recv.take()
	checkHits(t, hits)
	slices.SortFunc(hits, func(a, b hit) int {
		if d := seqOf(t, a.event.Checkpoint) - seqOf(t, b.event.Checkpoint); d != 0 {
			return int(d)
		}
		return strings.Compare(a.event.Type, b.event.Type)
	})
	type got struct{ Type, Node string }
	var gots []got
	ids := map[string]bool{}
	for _, h := range hits {
		gots = append(gots, got{h.event.Type, h.event.Node.Name})
		if ids[h.event.ID] {
			t.Errorf("event id %s sent twice", h.event.ID)
		}
		ids[h.event.ID] = true
	}
	want := []got{
		{acd.EventNodeCreated, "docs"},
		{acd.EventContentUploaded, "a.txt"}, // an upload is both
		{acd.EventNodeCreated, "a.txt"},
		{acd.EventContentOverwritten, "a.txt"},
		{acd.EventNodeUpdated, "b.txt"}, // rename
		{acd.EventNodeUpdated, "b.txt"}, // property
		{acd.EventNodeTrashed, "docs"},
		{acd.EventNodeTrashed, "b.txt"}, // with its folder
		{acd.EventNodeRestored, "docs"},
		{acd.EventNodeRestored, "b.txt"},
		{acd.EventNodePurged, "b.txt"},
	}
	// Trash and restore stamp the folder first; their order within one
	// change set is by sequence number, so compare as sorted above.
	if diff := gocmp.Diff(want, gots); diff != "" {
		t.Errorf("events received (by checkpoint) mismatch (-want +got):\n%s", diff)
	}
	types := map[string]bool{}
	for _, h := range hits {
		types[h.event.Type] = true
	}
	for _, typ := range acd.WebhookEventTypes() {
		if !types[typ] {
			t.Errorf("no %s event received", typ)
		}
	}

	last := map[string]hit{}
	for _, h := range hits {
		last[h.event.Node.ID] = h
	}
	// The node is exactly what the API returned at that point.
	if diff := gocmp.Diff(finalDocs, last[docs.ID].event.Node); diff != "" {
		t.Errorf("node of the last event of docs mismatch with GET nodes/{id} (-want +got):\n%s", diff)
	}
	purged := last[f.ID]
	if purged.event.Type != acd.EventNodePurged {
		t.Fatalf("last event of the file = %s, want %s", purged.event.Type, acd.EventNodePurged)
	}
	// A purge carries the node as it was just before.
	if diff := gocmp.Diff(beforePurge, purged.event.Node); diff != "" {
		t.Errorf("node of node.purged mismatch with the node before the purge (-want +got):\n%s", diff)
	}
	// The checkpoint of the last event is where the changes feed stands.
	var latest string
	for cs, err := range e.c.Changes(ctx, client.ChangesOptions{Checkpoint: purged.event.Checkpoint}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(cs.Nodes) > 0 {
			t.Errorf("changes after the purge's checkpoint = %d nodes, want none", len(cs.Nodes))
		}
		latest = cs.Checkpoint
	}
	if latest != "" && seqOf(t, latest) != seqOf(t, purged.event.Checkpoint) {
		t.Errorf("changes feed checkpoint %q, want the purge's %q", latest, purged.event.Checkpoint)
	}
	if n := e.dispatch(); n != 0 {
		t.Errorf("second RunOnce attempted %d deliveries, want 0 (all delivered)", n)
	}
}

// TestRetryScheduleAndReplay fails every attempt and checks the retries
// at 5 minutes, 1 hour and 12 hours, the dead letter, and a replay with
// the same event id.
func TestRetryScheduleAndReplay(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, drivetest.Options{})
	e.subscribe(acd.EventNodeCreated)
	e.recv.setStatus(http.StatusServiceUnavailable)
	root, err := e.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateFolder(ctx, root.ID, "x", nil); err != nil {
		t.Fatal(err)
	}
	start := e.clock.Now()
	var attempts []hit
	step := func(advance time.Duration, want int) {
		t.Helper()
		e.clock.Add(advance)
		if n := e.dispatch(); n != want {
			t.Errorf("at +%v: RunOnce attempted %d deliveries, want %d", e.clock.Now().Sub(start), n, want)
		}
		attempts = append(attempts, e.recv.take()...)
	}
	step(0, 1)
	step(0, 0)
	step(5*time.Minute-time.Second, 0)
	step(time.Second, 1) // +5m
	step(time.Hour-time.Second, 0)
	step(time.Second, 1) // +1h after that
	step(12*time.Hour-time.Second, 0)
	step(time.Second, 1) // +12h after that: the last attempt
	step(48*time.Hour, 0)

	checkHits(t, attempts)
	var sent []time.Duration
	for _, h := range attempts {
		at := time.Unix(mustInt(t, h.header.Get(acd.WebhookTimestampHeader)), 0)
		sent = append(sent, at.Sub(start))
	}
	wantSent := []time.Duration{0, 5 * time.Minute, 5*time.Minute + time.Hour, 5*time.Minute + 13*time.Hour}
	if diff := gocmp.Diff(wantSent, sent); diff != "" {
		t.Errorf("attempt times after the change mismatch (-want +got):\n%s", diff)
	}
	for _, h := range attempts[1:] {
		if h.event.ID != attempts[0].event.ID || !bytes.Equal(h.body, attempts[0].body) ||
			h.header.Get(acd.WebhookDeliveryHeader) != attempts[0].header.Get(acd.WebhookDeliveryHeader) {
			t.Errorf("retry sent event %s (delivery %s), want the same body and ids as the first attempt (%s, %s)",
				h.event.ID, h.header.Get(acd.WebhookDeliveryHeader), attempts[0].event.ID, attempts[0].header.Get(acd.WebhookDeliveryHeader))
		}
	}
	dead := e.deliveries(meta.DeliveryFilter{Status: meta.DeliveryDead})
	if len(dead) != 1 || dead[0].Attempts != 4 || dead[0].LastStatus != http.StatusServiceUnavailable || dead[0].LastError == "" {
		t.Fatalf("dead deliveries = %+v, want one with 4 attempts and last status 503", dead)
	}
	if st := metricValue(t, e.s, `clouddrive_webhook_deliveries_total{result="dead"}`); st != "1" {
		t.Errorf("clouddrive_webhook_deliveries_total{result=dead} = %q, want 1", st)
	}

	e.recv.setStatus(http.StatusOK)
	if _, err := e.s.App.API.Webhooks.Replay(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	if n := e.dispatch(); n != 1 {
		t.Errorf("RunOnce after replay attempted %d deliveries, want 1", n)
	}
	replayed := e.recv.take()
	checkHits(t, replayed)
	if len(replayed) != 1 || replayed[0].event.ID != attempts[0].event.ID || !bytes.Equal(replayed[0].body, attempts[0].body) {
		t.Fatalf("replay sent %d requests, want 1 with event id %s", len(replayed), attempts[0].event.ID)
	}
	if got := e.deliveries(meta.DeliveryFilter{Status: meta.DeliveryDelivered}); len(got) != 1 || got[0].ID != dead[0].ID {
		t.Errorf("delivered deliveries after replay = %d, want the replayed one", len(got))
	}

	// Finished events are kept for the retention period (30 days), then
	// pruned with their deliveries.
	if n, err := e.s.App.Webhooks.Prune(ctx); n != 0 || err != nil {
		t.Errorf("Prune within the retention = %d, %v; want 0", n, err)
	}
	e.clock.Add(webhook.DefaultRetention)
	if n, err := e.s.App.Webhooks.Prune(ctx); n != 1 || err != nil {
		t.Errorf("Prune after the retention = %d, %v; want 1", n, err)
	}
	if got := e.deliveries(meta.DeliveryFilter{}); len(got) != 0 {
		t.Errorf("deliveries after pruning = %d, want 0", len(got))
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatalf("%q is not an integer: %v", s, err)
	}
	return n
}

// metricValue returns the value of one sample on the server's /metrics
// (served by the handler of the metrics listener, not the API port).
func metricValue(t *testing.T, s *drivetest.Server, sample string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.App.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	return ""
}

// TestCrashBeforeDelivery commits changes while no dispatcher runs, stops
// the server, and starts another on the same data: the events arrive
// (here through the background dispatcher, on real time).
func TestCrashBeforeDelivery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := newEnv(t, drivetest.Options{DataDir: dir, Now: time.Now})
	e.subscribe()
	root, err := e.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"one", "two"} {
		if _, err := e.c.CreateFolder(ctx, root.ID, name, nil); err != nil {
			t.Fatal(err)
		}
	}
	e.s.Close()
	if hits := e.recv.take(); len(hits) != 0 {
		t.Fatalf("receiver got %d requests before the restart, want 0", len(hits))
	}

	drivetest.New(t, drivetest.Options{DataDir: dir, WebhookPoll: 20 * time.Millisecond})
	deadline := time.After(30 * time.Second)
	var hits []hit
	for len(hits) < 2 {
		select {
		case <-e.recv.got:
			hits = append(hits, e.recv.take()...)
		case <-deadline:
			t.Fatalf("after the restart the receiver got %d events in 30 s, want 2", len(hits))
		}
	}
	checkHits(t, hits)
	var names []string
	for _, h := range hits {
		names = append(names, h.event.Node.Name)
	}
	slices.Sort(names)
	if diff := gocmp.Diff([]string{"one", "two"}, names); diff != "" {
		t.Errorf("events after the restart mismatch (-want +got):\n%s", diff)
	}
}

// TestRollbackSendsNothing checks that changes that fail (and roll back,
// some after their event was written) produce no delivery.
func TestRollbackSendsNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, drivetest.Options{DefaultQuota: 10})
	e.subscribe()
	root, err := e.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.c.CreateFolder(ctx, root.ID, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.dispatch(); n != 1 {
		t.Fatalf("RunOnce after one create attempted %d, want 1", n)
	}
	e.recv.take()

	// A name conflict (409).
	if st, b := e.api("POST", "nodes", acd.NewNode{Name: "a", Kind: "FOLDER", Parents: []string{root.ID}}); st != http.StatusConflict {
		t.Errorf("creating a second folder a = %d %s, want 409", st, b)
	}
	// Over quota (403).
	if _, err := e.c.Upload(ctx, root.ID, "big", strings.NewReader(strings.Repeat("x", 100)), nil); err == nil {
		t.Errorf("uploading 100 bytes over a 10-byte quota succeeded")
	}
	// A bulk purge whose second node is missing rolls back after the
	// first node's purge (and its event) was written in the transaction.
	if st, b := e.api("POST", "bulk/nodes/purge", acd.BulkPurge{NodeIDs: []string{a.ID, "AAAAAAAAAAAAAAAAAAAAAA"}}); st != http.StatusNotFound {
		t.Errorf("bulk purge of a and a missing node = %d %s, want 404", st, b)
	}
	if n, err := e.c.Node(ctx, a.ID, nil); err != nil || n.Status != "AVAILABLE" {
		t.Fatalf("folder a after the failed bulk purge = %v, %v; want it AVAILABLE", n, err)
	}
	if n := e.dispatch(); n != 0 {
		t.Errorf("RunOnce after failed changes attempted %d deliveries, want 0", n)
	}
	if hits := e.recv.take(); len(hits) != 0 {
		t.Errorf("receiver got %d events for failed changes, want 0: first %s", len(hits), hits[0].body)
	}
	if ds := e.deliveries(meta.DeliveryFilter{}); len(ds) != 1 {
		t.Errorf("outbox holds %d deliveries, want only the first create's", len(ds))
	}
}

// TestFilterAndGrants checks the event filter, and that an all-users
// subscription reaches exactly the users who granted the app.
func TestFilterAndGrants(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, drivetest.Options{})
	e.subscribe(acd.EventNodeTrashed) // alice's own, trashes only
	bob := e.sdk(e.s.Token("bob"))    // bob granted the admin app
	// carol uses another app only.
	u, err := e.s.App.Nodes.EnsureUser(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.s.App.Tokens.Mint(ctx, u.ID, "other-app", "clouddrive:read_all clouddrive:write", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	carol := e.sdk(tok)
	const secret = "all-users-secret-0123456789"
	e.recv.setSecret("/all", secret)
	if _, err := e.s.App.API.Webhooks.Create(ctx, webhook.New{AppID: "clouddrive-admin", URL: e.recv.srv.URL + "/all", Secret: secret}); err != nil {
		t.Fatal(err)
	}
	names := map[*client.Client]string{e.c: "alice", bob: "bob", carol: "carol"}
	userOf := map[string]string{}
	for _, c := range []*client.Client{e.c, bob, carol} {
		root, err := c.Root(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.CreateFolder(ctx, root.ID, "f", nil)
		if err != nil {
			t.Fatal(err)
		}
		userOf[root.ID] = names[c]
		if _, err := c.Trash(ctx, f.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.dispatch()
	hits := e.recv.take()
	checkHits(t, hits)
	type got struct{ Path, User, Type string }
	var gots []got
	for _, h := range hits {
		var parent string
		if len(h.event.Node.Parents) > 0 {
			parent = h.event.Node.Parents[0]
		}
		gots = append(gots, got{h.path, userOf[parent], h.event.Type})
	}
	slices.SortFunc(gots, func(a, b got) int { return strings.Compare(a.Path+a.User+a.Type, b.Path+b.User+b.Type) })
	want := []got{
		{"/all", "alice", acd.EventNodeCreated},
		{"/all", "alice", acd.EventNodeTrashed},
		{"/all", "bob", acd.EventNodeCreated},
		{"/all", "bob", acd.EventNodeTrashed},
		{"/hook", "alice", acd.EventNodeTrashed},
	}
	if diff := gocmp.Diff(want, gots); diff != "" {
		t.Errorf("events received mismatch (-want +got):\n%s", diff)
	}
}

// TestRefuseInternalAddresses: by default (serve without
// --webhook-allow-internal) a delivery to a loopback receiver is not
// made: the attempt fails at connect time, is recorded with the reason,
// and is retried on the schedule like any failure.
func TestRefuseInternalAddresses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, drivetest.Options{WebhookRefuseInternal: true})
	e.subscribe(acd.EventNodeCreated)
	root, err := e.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateFolder(ctx, root.ID, "x", nil); err != nil {
		t.Fatal(err)
	}
	if n := e.dispatch(); n != 1 {
		t.Fatalf("RunOnce attempted %d deliveries, want 1", n)
	}
	if hits := e.recv.take(); len(hits) != 0 {
		t.Fatalf("the loopback receiver got %d requests, want none", len(hits))
	}
	ds := e.deliveries(meta.DeliveryFilter{})
	if len(ds) != 1 || !strings.Contains(ds[0].LastError, "internal address") || ds[0].Status != meta.DeliveryPending {
		t.Fatalf("deliveries = %+v, want one pending with an internal-address error", ds)
	}
}
