package gc_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/gc"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func principal(t *testing.T, s *drivetest.Server, user string) context.Context {
	t.Helper()
	tok := s.Token(user)
	p, err := s.App.Tokens.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return drive.NewContext(context.Background(), p)
}

func blobCount(t *testing.T, s *drivetest.Server) int {
	t.Helper()
	es, err := s.App.Blobs.List(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func TestCollect(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	ctx := principal(t, s, "gc")
	svc := s.App.Nodes
	keep, err := svc.Upload(ctx, nodes.NewNode{Name: "keep.txt"}, strings.NewReader("keep me"), nodes.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := svc.Upload(ctx, nodes.NewNode{Name: "gone.txt"}, strings.NewReader("purge me"), nodes.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	over, err := svc.Upload(ctx, nodes.NewNode{Name: "over.txt"}, strings.NewReader("old content"), nodes.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Overwrite(ctx, over.ID, strings.NewReader("new content"), nodes.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Purge(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	stored := blobCount(t, s)
	// A conflicting upload is refused before any byte is stored.
	if _, err := svc.Upload(ctx, nodes.NewNode{Name: "KEEP.txt"}, bytes.NewReader([]byte("late conflict")), nodes.UploadOptions{}); !drive.Is(drive.Conflict, err) {
		t.Fatalf("conflicting upload err = %v", err)
	}
	before := blobCount(t, s)
	if before != stored {
		t.Errorf("a refused upload stored a blob: %d -> %d", stored, before)
	}

	c := *s.App.GC
	// Within the grace period nothing is deleted.
	st, err := c.Run(context.Background())
	if err != nil || st.Deleted != 0 {
		t.Fatalf("Run within grace = %+v, %v; want nothing deleted", st, err)
	}
	// Later, the purged and the overwritten content go; live content stays.
	later := &clock{t: time.Now().Add(2 * time.Hour)}
	c.Now = later.Now
	st, err = c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Deleted != 2 || blobCount(t, s) != before-2 {
		t.Errorf("Run = %+v, blobs %d -> %d; want the purged and the overwritten blob deleted", st, before, blobCount(t, s))
	}
	for _, id := range []string{keep.ID, over.ID} {
		_, rc, err := svc.Open(ctx, id, 0, -1)
		if err != nil {
			t.Fatalf("Open(%s) after gc: %v", id, err)
		}
		rc.Close()
	}
}

// TestLead: of two replicas' collectors on one store, one holds the lease
// and renews it; the other takes it over only after it expired.
func TestLead(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := drivetest.New(t, drivetest.Options{Now: clk.Now})
	a, b := *s.App.GC, *s.App.GC
	ctx := context.Background()
	lead := func(c *gc.Collector, holder string, want bool) {
		t.Helper()
		if got, err := c.Lead(ctx, holder, time.Hour); got != want || err != nil {
			t.Fatalf("Lead(%s) at %v = %v, %v; want %v", holder, clk.Now(), got, err, want)
		}
	}
	lead(&a, "replica-a", true)
	lead(&b, "replica-b", false)
	clk.add(50 * time.Minute)
	lead(&a, "replica-a", true) // renewed until +1h50m
	clk.add(50 * time.Minute)
	lead(&b, "replica-b", false)
	clk.add(61 * time.Minute)
	lead(&b, "replica-b", true) // a stopped renewing
	lead(&a, "replica-a", false)
}

// TestLoop: two replicas' loops on one store; the lease lets one of them
// collect, and what the purged file left is deleted by Collect's run.
func TestLoop(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	ctx := principal(t, s, "gc")
	n, err := s.App.Nodes.Upload(ctx, nodes.NewNode{Name: "gone.txt"}, strings.NewReader("purge me"), nodes.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Nodes.Purge(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	before := blobCount(t, s)
	later := &clock{t: time.Now().Add(2 * time.Hour)}
	var mu sync.Mutex
	runs := map[string]int{}
	deleted := 0
	loopCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		c := *s.App.GC
		c.Now = later.Now
		c.Observe = func(d int, _ int64, err error) {
			if err != nil {
				t.Errorf("replica %s: gc run failed: %v", name, err)
			}
			mu.Lock()
			defer mu.Unlock()
			runs[name]++
			deleted += d
		}
		wg.Go(func() { c.Loop(loopCtx, 20*time.Millisecond) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		total := runs["a"] + runs["b"]
		mu.Unlock()
		if total >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if len(runs) != 1 {
		t.Errorf("runs per replica %v: want exactly one replica collecting", runs)
	}
	if deleted != 1 || blobCount(t, s) != before-1 {
		t.Errorf("deleted %d, blobs %d -> %d; want the purged file's blob deleted once", deleted, before, blobCount(t, s))
	}
}
