package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/webhook"
)

// TestPerHostConcurrency: webhooks on many URLs of one host (other paths,
// queries, scheme case) share the host's bound of PerEndpoint requests in
// flight, so subscribing more URLs does not fan out at the host; all are
// still delivered.
func TestPerHostConcurrency(t *testing.T) {
	const urls = 12
	e := newEnv(t, drivetest.Options{})
	var mu sync.Mutex
	inflight, most, total := 0, 0, 0
	gate := make(chan struct{}) // closed: answer at once
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inflight, total = inflight+1, total+1
		most = max(most, inflight)
		mu.Unlock()
		<-gate
		mu.Lock()
		inflight--
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(host.Close)
	t.Cleanup(func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	})
	for i := range urls {
		u := fmt.Sprintf("%s/hook%d?n=%d", host.URL, i, i)
		if i%3 == 1 {
			u = fmt.Sprintf("HTTP://%s/Hook%d", host.Listener.Addr(), i)
		}
		if st, b := e.api("POST", "webhooks", acd.NewWebhook{URL: u, Events: []string{"node.created"}}); st != http.StatusCreated {
			t.Fatalf("POST webhooks %s = %d %s", u, st, b)
		}
	}
	root, err := e.c.Root(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateFolder(context.Background(), root.ID, "docs", nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	go func() {
		n, err := e.s.App.Webhooks.RunOnce(context.Background())
		if err != nil {
			t.Errorf("RunOnce: %v", err)
		}
		done <- n
	}()
	// Wait until the bound is reached, then give the others a moment to
	// pile up if they could.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := inflight
		mu.Unlock()
		if n >= webhook.DefaultPerEndpoint || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(gate)
	if n := <-done; n != urls {
		t.Errorf("RunOnce attempted %d deliveries, want %d", n, urls)
	}
	mu.Lock()
	defer mu.Unlock()
	if most > webhook.DefaultPerEndpoint || total != urls {
		t.Errorf("the host had up to %d requests at once and got %d in all; want at most %d at once and %d",
			most, total, webhook.DefaultPerEndpoint, urls)
	}
}
