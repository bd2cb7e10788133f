package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// TestWALBoundedUnderLoad: writes that never pause, beside readers that
// always hold some snapshot, must not grow the WAL without end (it grew
// to 2.3 GB while a benchmark seeded an account): the checkpointer
// restarts it once it passes restartFrames, briefly holding writers.
func TestWALBoundedUnderLoad(t *testing.T) {
	old := restartFrames
	restartFrames = 1024 // 4 MiB of 4 KiB pages
	t.Cleanup(func() { restartFrames = old })
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := &drive.User{ID: drive.NewID(), Name: "alice", CreatedAt: now, Epoch: "e1"}
	root := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder, Status: drive.StatusAvailable,
		IsRoot: true, CreatedAt: now, ModifiedAt: now, CreatedBy: "clouddrive", Version: 1}
	u.RootID = root.ID
	if err := s.Update(ctx, func(tx meta.Tx) error { return tx.CreateUser(ctx, u, root) }); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = s.View(ctx, func(tx meta.Tx) error {
					_, err := tx.Changed(ctx, u.ID, 0, 50)
					time.Sleep(time.Millisecond) // hold the snapshot a little
					return err
				})
				reads.Add(1)
			}
		})
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	// The WAL file only shrinks when the checkpointer restarts it
	// (TRUNCATE); SQLite's own reuse keeps its size. Without the gate,
	// readers that always overlap keep it from ever being reused (it grew
	// to hundreds of MB), so: write and read without pause until the WAL
	// has passed the limit and been emptied three times. A restart that a
	// slow reader makes give up backs off, so on a loaded machine this
	// takes longer than the 1 to 3 s it takes on a quiet one; the bound is
	// generous for that.
	var peak, last int64
	limit := int64(restartFrames) * 4096
	deadline := time.Now().Add(60 * time.Second)
	commits, restarts := 0, 0
	for i := 0; restarts < 3; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("the WAL was restarted %d times in 60 s of load (peak %d bytes, limit %d, %d commits, %d reads)", restarts, peak, limit, commits, reads.Load())
		}
		err := s.Update(ctx, func(tx meta.Tx) error {
			for j := range 20 {
				err := tx.InsertNode(ctx, &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder,
					Name: fmt.Sprintf("f-%06d-%02d-%s", i, j, strings.Repeat("x", 400)), Status: drive.StatusAvailable,
					Parents: []string{root.ID}, CreatedAt: now, ModifiedAt: now, CreatedBy: "app", Version: 1})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		commits++
		size := walSize()
		if last > limit && size < last {
			restarts++
		}
		last, peak = size, max(peak, size)
	}
	close(stop)
	wg.Wait()
	if reads.Load() == 0 {
		t.Fatal("the readers never ran")
	}
	t.Logf("WAL peak %d bytes, limit %d, %d commits, %d reads", peak, limit, commits, reads.Load())
}
