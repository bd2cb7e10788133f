package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

const (
	// checkpointEvery is how often the checkpointer copies committed WAL
	// frames into the database file.
	checkpointEvery = 200 * time.Millisecond
	// restartFrames is the WAL size, in frames (pages), beyond which a
	// fully copied WAL is restarted even if that makes writers wait for
	// a moment: readers that never let go of old frames would otherwise
	// let the WAL grow without end.
	restartFrames = 16384
)

// checkpointer runs WAL checkpoints on a connection of its own. The write
// connection has wal_autocheckpoint off: otherwise the commit that crosses
// SQLite's threshold (1,000 pages) copies the WAL into the database and
// fsyncs it before returning, and with group commit every caller of that
// batch waits for it (commit p99 57 ms against p50 1.8 ms, 64 clients of
// small uploads). A PASSIVE checkpoint runs beside the writer; it never
// blocks it.
type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
	once sync.Once
	err  error
}

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	ctx := context.Background()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		var busy, frames, copied int64
		if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
			continue // the next tick tries again; a commit never depends on it
		}
		if frames > restartFrames && copied == frames {
			_, _ = c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(RESTART)`)
		}
	}
}

// close stops the checkpointer and closes its connection; the last
// connection to close checkpoints what is left.
// A second call returns what the first did.
func (c *checkpointer) close() error {
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		c.err = c.db.Close()
	})
	return c.err
}
