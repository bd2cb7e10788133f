package metatest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// webhookTests are the subtests of meta.WebhookTx. Run appends them to its
// table.
func webhookTests() []subtest {
	return []subtest{
		{"WebhookRoundTrip", testWebhookRoundTrip},
		{"WebhookMissing", testWebhookMissing},
		{"WebhooksFilter", testWebhooksFilter},
		{"DeleteWebhook", testDeleteWebhook},
		{"WebhooksFor", testWebhooksFor},
		{"WebhookEventRollback", testWebhookEventRollback},
		{"ClaimDeliveries", testClaimDeliveries},
		{"ClaimDeliveriesConcurrent", testClaimDeliveriesConcurrent},
		{"FinishDelivery", testFinishDelivery},
		{"RequeueDelivery", testRequeueDelivery},
		{"DeliveriesFilter", testDeliveriesFilter},
		{"PruneWebhookEvents", testPruneWebhookEvents},
		{"DeleteUserAndAppWebhooks", testDeleteUserAndAppWebhooks},
	}
}

func newWebhook(appID, userID string, created time.Duration, events ...string) *meta.Webhook {
	if events == nil {
		events = []string{}
	}
	return &meta.Webhook{ID: drive.NewID(), AppID: appID, UserID: userID, URL: "https://hooks.example/" + appID,
		Secret: "s3cret-" + appID, Events: events, CreatedAt: clock(created)}
}

func insertWebhooks(t *testing.T, s meta.Store, ws ...*meta.Webhook) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for _, w := range ws {
			if err := tx.InsertWebhook(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// outboxEvent stores one event of userID with one pending delivery per
// subscription, due at next, and returns the deliveries.
func outboxEvent(t *testing.T, s meta.Store, userID string, next time.Duration, ws ...*meta.Webhook) (*meta.WebhookEvent, []*meta.Delivery) {
	t.Helper()
	e := &meta.WebhookEvent{ID: drive.NewID(), UserID: userID, Type: "node.created",
		Payload: []byte(`{"id":"x"}`), CreatedAt: clock(next)}
	var ds []*meta.Delivery
	for _, w := range ws {
		ds = append(ds, &meta.Delivery{ID: drive.NewID(), EventID: e.ID, WebhookID: w.ID, Status: meta.DeliveryPending,
			NextAt: clock(next), CreatedAt: clock(next)})
	}
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.InsertWebhookEvent(ctx, e, ds) })
	return e, ds
}

func claim(t *testing.T, s meta.Store, now, lease time.Duration, token string, limit int) []*meta.Delivery {
	t.Helper()
	var got []*meta.Delivery
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		got, err = tx.ClaimDeliveries(ctx, clock(now), clock(now+lease), token, limit)
		return err
	})
	return got
}

func deliveryIDs(ds []*meta.Delivery) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func getDelivery(t *testing.T, s meta.Store, id string) *meta.Delivery {
	t.Helper()
	var d *meta.Delivery
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		d, err = tx.Delivery(ctx, id)
		return err
	})
	return d
}

func testWebhookRoundTrip(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	own := newWebhook("app1", u.ID, 0, "node.created", "node.trashed")
	all := newWebhook("app2", "", time.Second)
	insertWebhooks(t, s, own, all)
	for _, want := range []*meta.Webhook{own, all} {
		var got *meta.Webhook
		view(t, s, func(ctx context.Context, tx meta.Tx) error {
			var err error
			got, err = tx.Webhook(ctx, want.ID)
			return err
		})
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("Webhook(%s) mismatch (-want +got):\n%s", want.AppID, diff)
		}
	}
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		dup := *own
		return tx.InsertWebhook(ctx, &dup)
	})
	wantKind(t, "InsertWebhook(duplicate id)", err, drive.Conflict)
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.InsertWebhook(ctx, newWebhook("app1", drive.NewID(), 0))
	})
	if err == nil {
		t.Errorf("InsertWebhook(missing user) = nil, want an error")
	}
}

func testWebhookMissing(t *testing.T, s meta.Store) {
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.Webhook(ctx, drive.NewID())
		return err
	})
	wantKind(t, "Webhook(missing)", err, drive.NotFound)
	err = tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.Delivery(ctx, drive.NewID())
		return err
	})
	wantKind(t, "Delivery(missing)", err, drive.NotFound)
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteWebhook(ctx, drive.NewID()) })
	wantKind(t, "DeleteWebhook(missing)", err, drive.NotFound)
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.RequeueDelivery(ctx, drive.NewID(), clock(0))
	})
	wantKind(t, "RequeueDelivery(missing)", err, drive.NotFound)
}

func testWebhooksFilter(t *testing.T, s meta.Store) {
	a, _ := createUser(t, s, "alice")
	b, _ := createUser(t, s, "bob")
	w1 := newWebhook("app1", a.ID, 3*time.Second)
	w2 := newWebhook("app1", b.ID, 1*time.Second)
	w3 := newWebhook("app2", a.ID, 2*time.Second)
	w4 := newWebhook("app1", "", 4*time.Second)
	insertWebhooks(t, s, w1, w2, w3, w4)
	for _, tc := range []struct {
		app, user string
		want      []*meta.Webhook
	}{
		{"", "", []*meta.Webhook{w2, w3, w1, w4}},
		{"app1", "", []*meta.Webhook{w2, w1, w4}},
		{"", a.ID, []*meta.Webhook{w3, w1}},
		{"app1", a.ID, []*meta.Webhook{w1}},
		{"app3", "", []*meta.Webhook{}},
	} {
		var got []*meta.Webhook
		view(t, s, func(ctx context.Context, tx meta.Tx) error {
			var err error
			got, err = tx.Webhooks(ctx, tc.app, tc.user)
			return err
		})
		if got == nil {
			t.Errorf("Webhooks(%q, %q) = nil, want non-nil", tc.app, tc.user)
		}
		if diff := gocmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Webhooks(%q, %q) mismatch (-want +got):\n%s", tc.app, tc.user, diff)
		}
	}
}

func testDeleteWebhook(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	w1, w2 := newWebhook("app1", u.ID, 0), newWebhook("app2", u.ID, 0)
	insertWebhooks(t, s, w1, w2)
	_, ds := outboxEvent(t, s, u.ID, 0, w1, w2)
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteWebhook(ctx, w1.ID) })
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		if _, err := tx.Webhook(ctx, w1.ID); !drive.Is(drive.NotFound, err) {
			t.Errorf("Webhook(deleted) = %v, want NotFound", err)
		}
		if _, err := tx.Delivery(ctx, ds[0].ID); !drive.Is(drive.NotFound, err) {
			t.Errorf("Delivery(of the deleted webhook) = %v, want NotFound", err)
		}
		if _, err := tx.Delivery(ctx, ds[1].ID); err != nil {
			t.Errorf("Delivery(of the other webhook) = %v, want it kept", err)
		}
		return nil
	})
}

func testWebhooksFor(t *testing.T, s meta.Store) {
	a, _ := createUser(t, s, "alice")
	b, _ := createUser(t, s, "bob")
	c, _ := createUser(t, s, "carol")
	own := newWebhook("app1", a.ID, 0)
	other := newWebhook("app1", b.ID, time.Second)
	all1 := newWebhook("app1", "", 2*time.Second)
	all2 := newWebhook("app2", "", 3*time.Second)
	insertWebhooks(t, s, own, other, all1, all2)
	now := clock(time.Hour)
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for _, tk := range []*meta.Token{
			// alice granted app1 (a live token) and app2 (never expires).
			{Hash: "h1", UserID: a.ID, ClientID: "app1", Scope: "s", Kind: "refresh", ExpiresAt: now.Add(time.Minute), CreatedAt: clock(0)},
			{Hash: "h2", UserID: a.ID, ClientID: "app2", Scope: "s", Kind: "access", CreatedAt: clock(0)},
			// bob's token of app1 expired; carol's was revoked.
			{Hash: "h3", UserID: b.ID, ClientID: "app1", Scope: "s", Kind: "access", ExpiresAt: now, CreatedAt: clock(0)},
			{Hash: "h4", UserID: c.ID, ClientID: "app2", Scope: "s", Kind: "access", CreatedAt: clock(0)},
		} {
			if err := tx.InsertToken(ctx, tk); err != nil {
				return err
			}
		}
		return tx.RevokeTokens(ctx, "h4", "")
	})
	for _, tc := range []struct {
		user string
		want []*meta.Webhook
	}{
		{a.ID, []*meta.Webhook{own, all1, all2}},
		{b.ID, []*meta.Webhook{other}},
		{c.ID, []*meta.Webhook{}},
	} {
		var got []*meta.Webhook
		view(t, s, func(ctx context.Context, tx meta.Tx) error {
			var err error
			got, err = tx.WebhooksFor(ctx, tc.user, now)
			return err
		})
		if got == nil {
			t.Errorf("WebhooksFor(%s) = nil, want non-nil", tc.user)
		}
		if diff := gocmp.Diff(tc.want, got); diff != "" {
			t.Errorf("WebhooksFor(%s) mismatch (-want +got):\n%s", tc.user, diff)
		}
	}
}

func testWebhookEventRollback(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	w := newWebhook("app1", u.ID, 0)
	insertWebhooks(t, s, w)
	boom := errors.New("boom")
	e := &meta.WebhookEvent{ID: drive.NewID(), UserID: u.ID, Type: "node.created", Payload: []byte(`{}`), CreatedAt: clock(0)}
	d := &meta.Delivery{ID: drive.NewID(), WebhookID: w.ID, Status: meta.DeliveryPending, NextAt: clock(0), CreatedAt: clock(0)}
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		if err := tx.InsertWebhookEvent(ctx, e, []*meta.Delivery{d}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if got := claim(t, s, time.Hour, time.Minute, "lease-1", 10); len(got) != 0 {
		t.Errorf("ClaimDeliveries after a rolled-back event = %v, want none", deliveryIDs(got))
	}
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		// The id is free again: nothing of the event was kept.
		return tx.InsertWebhookEvent(ctx, e, []*meta.Delivery{d})
	})
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.InsertWebhookEvent(ctx, e, nil) })
	wantKind(t, "InsertWebhookEvent(duplicate id)", err, drive.Conflict)
}

func testClaimDeliveries(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	w := newWebhook("app1", u.ID, 0)
	insertWebhooks(t, s, w)
	e1, d1 := outboxEvent(t, s, u.ID, 0, w)
	_, d2 := outboxEvent(t, s, u.ID, time.Second, w)
	_, d3 := outboxEvent(t, s, u.ID, time.Hour, w) // not yet due

	got := claim(t, s, time.Minute, time.Minute, "lease-1", 10)
	if diff := gocmp.Diff([]string{d1[0].ID, d2[0].ID}, deliveryIDs(got)); diff != "" {
		t.Errorf("ClaimDeliveries(at 1m) mismatch (-want +got):\n%s", diff)
	}
	if len(got) > 0 {
		want := &meta.Delivery{ID: d1[0].ID, EventID: e1.ID, WebhookID: w.ID, Status: meta.DeliveryPending,
			NextAt: clock(0), CreatedAt: clock(0), Lease: "lease-1", EventType: e1.Type, UserID: u.ID,
			Payload: e1.Payload, URL: w.URL, Secret: w.Secret}
		if diff := gocmp.Diff(want, got[0]); diff != "" {
			t.Errorf("claimed delivery mismatch (-want +got):\n%s", diff)
		}
	}
	// Leased: nobody else gets them until the lease runs out.
	if got := claim(t, s, time.Minute+time.Second, time.Minute, "lease-2", 10); len(got) != 0 {
		t.Errorf("ClaimDeliveries while leased = %v, want none", deliveryIDs(got))
	}
	// The limit applies, oldest first.
	got = claim(t, s, 2*time.Hour, time.Minute, "lease-3", 2)
	if diff := gocmp.Diff([]string{d1[0].ID, d2[0].ID}, deliveryIDs(got)); diff != "" {
		t.Errorf("ClaimDeliveries(after the lease, limit 2) mismatch (-want +got):\n%s", diff)
	}
	got = claim(t, s, 2*time.Hour, time.Minute, "lease-4", 10)
	if diff := gocmp.Diff([]string{d3[0].ID}, deliveryIDs(got)); diff != "" {
		t.Errorf("ClaimDeliveries(the rest) mismatch (-want +got):\n%s", diff)
	}
	var n int64
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		n, err = tx.CountDeliveries(ctx, meta.DeliveryPending)
		return err
	})
	if n != 3 {
		t.Errorf("CountDeliveries(pending) = %d, want 3", n)
	}
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.ClaimDeliveries(ctx, clock(0), clock(0), "", 1)
		return err
	})
	if err == nil {
		t.Errorf("ClaimDeliveries(empty token) = nil, want an error")
	}
}

func testClaimDeliveriesConcurrent(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	w := newWebhook("app1", u.ID, 0)
	insertWebhooks(t, s, w)
	var want []string
	for i := range 20 {
		_, ds := outboxEvent(t, s, u.ID, time.Duration(i)*time.Millisecond, w)
		want = append(want, ds[0].ID)
	}
	const claimers = 4
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	for i := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var ds []*meta.Delivery
				err := s.Update(t.Context(), func(tx meta.Tx) error {
					var err error
					ds, err = tx.ClaimDeliveries(t.Context(), clock(time.Minute), clock(time.Hour), fmt.Sprintf("lease-%d", i), 3)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				got = append(got, deliveryIDs(ds)...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent ClaimDeliveries error: %v", err)
	}
	if diff := gocmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("deliveries claimed by %d concurrent claimers (each exactly once) mismatch (-want +got):\n%s", claimers, diff)
	}
}

func testFinishDelivery(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	w := newWebhook("app1", u.ID, 0)
	insertWebhooks(t, s, w)
	_, ds := outboxEvent(t, s, u.ID, 0, w)
	first := claim(t, s, 0, time.Minute, "lease-1", 1)
	if len(first) != 1 {
		t.Fatalf("ClaimDeliveries = %d deliveries, want 1", len(first))
	}
	// The lease runs out and another dispatcher takes the delivery: the
	// first one can no longer record its attempt.
	second := claim(t, s, 2*time.Minute, time.Minute, "lease-2", 1)
	if len(second) != 1 {
		t.Fatalf("ClaimDeliveries after the lease = %d deliveries, want 1", len(second))
	}
	d := first[0]
	d.Status, d.Attempts, d.LastStatus, d.LastError = meta.DeliveryDead, 1, 500, "lost"
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.FinishDelivery(ctx, d) })
	wantKind(t, "FinishDelivery(lost lease)", err, drive.NotFound)

	d = second[0]
	d.Attempts, d.NextAt, d.LastAttemptAt, d.LastStatus, d.LastError = 1, clock(7*time.Minute), clock(2*time.Minute), 503, "HTTP 503"
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.FinishDelivery(ctx, d) })
	got := getDelivery(t, s, ds[0].ID)
	want := *d
	want.Lease = ""
	if diff := gocmp.Diff(&want, got); diff != "" {
		t.Errorf("Delivery after FinishDelivery mismatch (-want +got):\n%s", diff)
	}
	// Not due before NextAt; due (and unleased) after it.
	if got := claim(t, s, 6*time.Minute, time.Minute, "lease-3", 1); len(got) != 0 {
		t.Errorf("ClaimDeliveries before NextAt = %v, want none", deliveryIDs(got))
	}
	third := claim(t, s, 7*time.Minute, time.Minute, "lease-4", 1)
	if len(third) != 1 {
		t.Fatalf("ClaimDeliveries at NextAt = %d deliveries, want 1", len(third))
	}
	d = third[0]
	d.Status, d.Attempts, d.LastStatus, d.LastError = meta.DeliveryDelivered, 2, 204, ""
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.FinishDelivery(ctx, d) })
	if got := claim(t, s, 24*time.Hour, time.Minute, "lease-5", 1); len(got) != 0 {
		t.Errorf("ClaimDeliveries after delivery = %v, want none", deliveryIDs(got))
	}
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.FinishDelivery(ctx, d) })
	wantKind(t, "FinishDelivery(twice)", err, drive.NotFound)
}

func testRequeueDelivery(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	w := newWebhook("app1", u.ID, 0)
	insertWebhooks(t, s, w)
	_, ds := outboxEvent(t, s, u.ID, 0, w)
	d := claim(t, s, 0, time.Minute, "lease-1", 1)[0]
	d.Status, d.Attempts, d.LastStatus, d.LastError = meta.DeliveryDead, 4, 500, "HTTP 500"
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.FinishDelivery(ctx, d) })
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.RequeueDelivery(ctx, ds[0].ID, clock(time.Hour))
	})
	got := getDelivery(t, s, ds[0].ID)
	if got.Status != meta.DeliveryPending || got.Attempts != 0 || !got.NextAt.Equal(clock(time.Hour)) || got.LastStatus != 500 {
		t.Errorf("Delivery after RequeueDelivery = status %s, attempts %d, next %v, last status %d; want pending, 0, %v, 500",
			got.Status, got.Attempts, got.NextAt, got.LastStatus, clock(time.Hour))
	}
	if got := claim(t, s, time.Hour, time.Minute, "lease-2", 1); len(got) != 1 || got[0].EventID != ds[0].EventID {
		t.Errorf("ClaimDeliveries after requeue = %v, want the requeued delivery", deliveryIDs(got))
	}
}

func testDeliveriesFilter(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	w1, w2 := newWebhook("app1", u.ID, 0), newWebhook("app2", u.ID, 0)
	insertWebhooks(t, s, w1, w2)
	_, a := outboxEvent(t, s, u.ID, 0, w1, w2)
	_, b := outboxEvent(t, s, u.ID, time.Second, w1)
	d := claim(t, s, 0, time.Minute, "lease-1", 1)[0] // a[0] or a[1]
	d.Status, d.Attempts = meta.DeliveryDelivered, 1
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.FinishDelivery(ctx, d) })
	newestFirst := func(ids ...string) []string {
		// Equal creation times are ordered by id, descending.
		slices.SortStableFunc(ids, func(x, y string) int {
			return -compareValues(x, y)
		})
		return ids
	}
	for _, tc := range []struct {
		f    meta.DeliveryFilter
		want []string
	}{
		{meta.DeliveryFilter{}, append([]string{b[0].ID}, newestFirst(a[0].ID, a[1].ID)...)},
		{meta.DeliveryFilter{WebhookID: w1.ID}, []string{b[0].ID, a[0].ID}},
		{meta.DeliveryFilter{Status: meta.DeliveryDelivered}, []string{d.ID}},
		{meta.DeliveryFilter{Limit: 1}, []string{b[0].ID}},
		{meta.DeliveryFilter{Status: meta.DeliveryDead}, []string{}},
	} {
		var got []*meta.Delivery
		view(t, s, func(ctx context.Context, tx meta.Tx) error {
			var err error
			got, err = tx.Deliveries(ctx, tc.f)
			return err
		})
		if got == nil {
			t.Errorf("Deliveries(%+v) = nil, want non-nil", tc.f)
		}
		if diff := gocmp.Diff(tc.want, deliveryIDs(got)); diff != "" {
			t.Errorf("Deliveries(%+v) mismatch (-want +got):\n%s", tc.f, diff)
		}
	}
}

func testDeleteUserAndAppWebhooks(t *testing.T, s meta.Store) {
	a, _ := createUser(t, s, "alice")
	b, _ := createUser(t, s, "bob")
	wa, wb, wall := newWebhook("app1", a.ID, 0), newWebhook("app2", b.ID, 0), newWebhook("app1", "", 0)
	insertWebhooks(t, s, wa, wb, wall)
	outboxEvent(t, s, a.ID, 0, wa, wall)
	_, db := outboxEvent(t, s, b.ID, 0, wb, wall)
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteUser(ctx, a.ID) })
	var ws []*meta.Webhook
	var ds []*meta.Delivery
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		if ws, err = tx.Webhooks(ctx, "", ""); err != nil {
			return err
		}
		ds, err = tx.Deliveries(ctx, meta.DeliveryFilter{})
		return err
	})
	if diff := gocmp.Diff([]*meta.Webhook{wb, wall}, ws, cmpopts.SortSlices(func(x, y *meta.Webhook) bool { return x.ID < y.ID })); diff != "" {
		t.Errorf("Webhooks after DeleteUser(alice) mismatch (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff(deliveryIDs(db), deliveryIDs(ds), cmpopts.SortSlices(func(x, y string) bool { return x < y })); diff != "" {
		t.Errorf("Deliveries after DeleteUser(alice) mismatch (-want +got):\n%s", diff)
	}

	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.CreateApp(ctx, &meta.App{ClientID: "app1", Name: "one", CreatedAt: clock(0)})
	})
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteApp(ctx, "app1") })
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		if ws, err = tx.Webhooks(ctx, "", ""); err != nil {
			return err
		}
		ds, err = tx.Deliveries(ctx, meta.DeliveryFilter{})
		return err
	})
	if diff := gocmp.Diff([]*meta.Webhook{wb}, ws); diff != "" {
		t.Errorf("Webhooks after DeleteApp(app1) mismatch (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff([]string{db[0].ID}, deliveryIDs(ds)); diff != "" {
		t.Errorf("Deliveries after DeleteApp(app1) mismatch (-want +got):\n%s", diff)
	}
}

// testPruneWebhookEvents: events older than the cut-off whose deliveries
// are all delivered or dead go, with their deliveries; an event with a
// pending delivery, or a newer one, stays.
func testPruneWebhookEvents(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	w1, w2 := newWebhook("app1", u.ID, 0), newWebhook("app2", u.ID, 0)
	insertWebhooks(t, s, w1, w2)
	finish := func(d *meta.Delivery, status string) {
		t.Helper()
		d.Status, d.Attempts = status, 1
		update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.FinishDelivery(ctx, d) })
	}
	// old: both deliveries finished (one delivered, one dead).
	_, old := outboxEvent(t, s, u.ID, 0, w1, w2)
	for _, d := range claim(t, s, 0, time.Minute, "lease-1", 2) {
		if d.WebhookID == w1.ID {
			finish(d, meta.DeliveryDelivered)
		} else {
			finish(d, meta.DeliveryDead)
		}
	}
	// waiting: as old, but one delivery still pending (due later).
	_, waiting := outboxEvent(t, s, u.ID, time.Second, w1)
	// recent: finished, but newer than the cut-off.
	_, recent := outboxEvent(t, s, u.ID, time.Hour, w1)
	for _, d := range claim(t, s, time.Hour, time.Minute, "lease-2", 2) {
		if d.ID == recent[0].ID {
			finish(d, meta.DeliveryDelivered)
		}
	}

	var n int
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		n, err = tx.PruneWebhookEvents(ctx, clock(time.Minute), 100)
		return err
	})
	if n != 1 {
		t.Errorf("PruneWebhookEvents = %d, want 1 (the finished old event)", n)
	}
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		for _, d := range old {
			if _, err := tx.Delivery(ctx, d.ID); !drive.Is(drive.NotFound, err) {
				t.Errorf("delivery %s of the pruned event: err %v, want NotFound", d.ID, err)
			}
		}
		for _, d := range append(waiting, recent...) {
			if _, err := tx.Delivery(ctx, d.ID); err != nil {
				t.Errorf("delivery %s that must stay: %v", d.ID, err)
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		n, err = tx.PruneWebhookEvents(ctx, clock(time.Minute), 100)
		return err
	})
	if n != 0 {
		t.Errorf("second PruneWebhookEvents = %d, want 0", n)
	}
}
