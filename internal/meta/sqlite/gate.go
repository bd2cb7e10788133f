package sqlite

import (
	"context"
	"sync"
	"time"
)

// readGate counts the store's read transactions and lets the WAL
// checkpointer hold new ones back for a moment. Under steady reads some
// reader always holds an older snapshot, so SQLite can never reuse the
// WAL from its start and it grows without end; a restart needs an instant
// with no reader in it, which the gate makes.
type readGate struct {
	mu     sync.Mutex
	active int
	closed chan struct{} // non-nil while closed; closed again by open
	idle   chan struct{} // closed when active reaches 0 during drain
}

// enter waits while the gate is closed, then counts a reader in; leave
// counts it out.
func (g *readGate) enter(ctx context.Context) (func(), error) {
	g.mu.Lock()
	for g.closed != nil {
		ch := g.closed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		g.mu.Lock()
	}
	g.active++
	g.mu.Unlock()
	return g.leave, nil
}

func (g *readGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	if g.active == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// drain closes the gate and waits up to d for the readers inside to
// leave. It reports whether they did; either way the gate stays closed
// until open.
func (g *readGate) drain(d time.Duration) bool {
	g.mu.Lock()
	g.closed = make(chan struct{})
	if g.active == 0 {
		g.mu.Unlock()
		return true
	}
	idle := make(chan struct{})
	g.idle = idle
	g.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
		return true
	case <-t.C:
		g.mu.Lock()
		g.idle = nil
		g.mu.Unlock()
		return false
	}
}

// open lets readers in again.
func (g *readGate) open() {
	g.mu.Lock()
	close(g.closed)
	g.closed = nil
	g.mu.Unlock()
}
