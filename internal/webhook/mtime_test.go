package webhook_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestModTimeInEvents: the node of an event carries contentProperties.mtime
// as the API shows it, from an upload and from a PATCH.
func TestModTimeInEvents(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, drivetest.Options{})
	e.subscribe(acd.EventNodeCreated, acd.EventNodeUpdated)
	root, err := e.c.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	up := time.Date(2022, 8, 1, 10, 0, 0, 250_000_000, time.UTC)
	f, err := e.c.Upload(ctx, root.ID, "a.txt", strings.NewReader("a"), &client.UploadOptions{ModTime: up})
	if err != nil {
		t.Fatal(err)
	}
	set := time.Date(2023, 9, 2, 11, 1, 1, 500_000_000, time.UTC)
	if _, err := e.c.SetModTime(ctx, f.ID, set); err != nil {
		t.Fatal(err)
	}
	for e.dispatch() > 0 {
	}
	hits := e.recv.take()
	checkHits(t, hits)
	want := map[string]time.Time{acd.EventNodeCreated: up, acd.EventNodeUpdated: set}
	for _, h := range hits {
		if h.event.Node == nil || h.event.Node.ID != f.ID {
			continue
		}
		w, ok := want[h.event.Type]
		if !ok {
			continue
		}
		delete(want, h.event.Type)
		if cp := h.event.Node.ContentProperties; cp == nil || !cp.ModTime.Equal(w) {
			t.Errorf("%s: node contentProperties %+v, want mtime %v", h.event.Type, cp, w)
		}
		if !strings.Contains(string(h.body), `"mtime":"`+acd.FormatTime(w)+`"`) {
			t.Errorf("%s: body %s has no mtime %s", h.event.Type, h.body, acd.FormatTime(w))
		}
	}
	if len(want) != 0 {
		t.Errorf("no delivery for %v", want)
	}
}
