package bench

import (
	"os"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/httpapi"
	"github.com/clouddrive/clouddrive/internal/meta"
)

func TestPercentile(t *testing.T) {
	l := &Latencies{}
	if got := l.Percentile(50); got != 0 {
		t.Errorf("Percentile of nothing = %v, want 0", got)
	}
	for i := 100; i >= 1; i-- {
		l.Add(time.Duration(i) * time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}} {
		if got := l.Percentile(tt.p); got != tt.want {
			t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// TestRSSSampler checks that the sampler sees memory this process touches.
func TestRSSSampler(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	before, _, err := RSS(os.Getpid())
	if err != nil || before <= 0 {
		t.Fatalf("RSS = %d, %v", before, err)
	}
	s := SampleRSS(os.Getpid())
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = byte(i)
	}
	time.Sleep(30 * time.Millisecond)
	peak := s.Stop()
	if peak < before+48<<20 {
		t.Errorf("peak RSS %d MiB after touching 64 MiB, started at %d MiB", peak>>20, before>>20)
	}
	_ = b[len(b)-1]
}

// TestSeedTree checks the layout of the changes section's account: n
// nodes besides the root, bigChildren of them in the folder "big".
func TestSeedTree(t *testing.T) {
	ctx := t.Context()
	cfg := app.Config{DataDir: t.TempDir()}
	m, err := app.OpenMeta(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := app.AdminToken(ctx, cfg, m, "sync", 0); err != nil {
		t.Fatal(err)
	}
	var u *drive.User
	if err := m.View(ctx, func(tx meta.Tx) error { u, err = tx.UserByName(ctx, "sync"); return err }); err != nil {
		t.Fatal(err)
	}
	big, err := seedTree(ctx, m, u, 2500, 300)
	if err != nil {
		t.Fatal(err)
	}
	feed := &changes.Feed{Meta: m, Render: httpapi.NodeWire}
	n := 0
	if _, err := feed.Stream(ctx, u.ID, changes.Request{}, func(s changes.Set) error { n += s.Len(); return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 2501 {
		t.Errorf("the account has %d nodes, want 2501 (the root and 2500)", n)
	}
	err = m.View(ctx, func(tx meta.Tx) error {
		pg, err := tx.List(ctx, meta.Query{UserID: u.ID, Parent: big, Limit: 1})
		if err == nil && pg.Total != 300 {
			t.Errorf("big has %d children, want 300", pg.Total)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
