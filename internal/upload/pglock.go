package upload

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// PgLocker locks uploads across replicas with PostgreSQL session
// advisory locks (pg_try_advisory_lock on a connection held while the
// request runs), under a lock in this process. A request for an upload
// that another request holds interrupts that one (tusd's requestRelease),
// so a resumed upload does not wait for the cut connection's request to
// notice: in this process directly, and on another replica through a
// PostgreSQL notification (NOTIFY on releaseChannel with the lock's key;
// every replica LISTENs). The request then waits, polling, until the
// holder lets go or tusd's lock timeout passes. A replica that dies loses
// its connections and so its locks.
type PgLocker struct {
	pool  *pgxpool.Pool
	local *memorylocker.MemoryLocker
	// Poll is how often a lock held elsewhere is tried again.
	Poll time.Duration

	mu   sync.Mutex
	held map[string]func() // lock key -> requestRelease of its holder here
	// self starts this locker's notifications, which its own listener
	// ignores: a late one must not interrupt the request that sent it
	// once it holds the lock.
	self string

	stop context.CancelFunc
	done chan struct{}
}

// releaseChannel is the PostgreSQL notification channel on which a
// replica asks the replica holding an upload's lock to interrupt the
// request that holds it; the payload is the sender's PgLocker.self, a
// space and the lock's key.
const releaseChannel = "clouddrive_upload_release"

// renotifyEvery is how often a waiting request asks again (a listener
// that was reconnecting missed the first).
const renotifyEvery = 2 * time.Second

// maxLockConns bounds the connections the upload locks hold (one per
// request of an upload in progress on this replica).
const maxLockConns = 32

// NewPgLocker connects a pool of its own to the database of dsn (the
// --db setting), so that held locks never take the metadata store's
// connections, and one more connection that listens for release requests
// (reconnected when it drops, until Close).
func NewPgLocker(ctx context.Context, dsn string) (*PgLocker, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("upload locks: invalid DSN")
	}
	cfg.MaxConns = maxLockConns
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "clouddrive-upload-locks"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("upload locks: %w", err)
	}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &PgLocker{pool: pool, local: memorylocker.New(), Poll: 100 * time.Millisecond,
		held: map[string]func(){}, self: drive.NewID(), stop: stop, done: make(chan struct{})}
	go l.listen(lctx, cfg.ConnConfig.Copy())
	return l, nil
}

// Close stops listening and closes the pool, releasing every lock.
func (l *PgLocker) Close() {
	l.stop()
	<-l.done
	l.pool.Close()
}

// listen receives release requests until ctx ends, reconnecting after a
// second when the connection fails.
func (l *PgLocker) listen(ctx context.Context, cc *pgx.ConnConfig) {
	defer close(l.done)
	for ctx.Err() == nil {
		if conn, err := pgx.ConnectConfig(ctx, cc); err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+releaseChannel)
			for err == nil {
				var n *pgconn.Notification
				if n, err = conn.WaitForNotification(ctx); err == nil {
					if from, key, ok := strings.Cut(n.Payload, " "); ok && from != l.self {
						l.release(key)
					}
				}
			}
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = conn.Close(cctx)
			cancel()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// release interrupts the request of this process that holds key, if any.
func (l *PgLocker) release(key string) {
	l.mu.Lock()
	f := l.held[key]
	l.mu.Unlock()
	if f != nil {
		f() // tusd's requestRelease: cancels that request; a no-op after the first call
	}
}

// NewLock implements tusd.Locker.
func (l *PgLocker) NewLock(id string) (tusd.Lock, error) {
	local, err := l.local.NewLock(id)
	if err != nil {
		return nil, err
	}
	return &pgLock{l: l, key: "clouddrive-upload:" + recordKey(id), local: local}, nil
}

type pgLock struct {
	l     *PgLocker
	key   string
	local tusd.Lock
	conn  *pgxpool.Conn
}

func (k *pgLock) Lock(ctx context.Context, requestRelease func()) error {
	if err := k.local.Lock(ctx, requestRelease); err != nil {
		return err
	}
	conn, err := k.l.pool.Acquire(ctx)
	if err != nil {
		_ = k.local.Unlock()
		if ctx.Err() != nil {
			return tusd.ErrLockTimeout
		}
		return fmt.Errorf("upload locks: %w", err)
	}
	var notified time.Time
	for {
		var ok bool
		err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, k.key).Scan(&ok)
		if err == nil && ok {
			k.conn = conn
			k.l.mu.Lock()
			k.l.held[k.key] = requestRelease
			k.l.mu.Unlock()
			return nil
		}
		if err == nil && time.Since(notified) >= renotifyEvery {
			// Held on another replica (this process's holders were
			// interrupted by the local lock): ask it to let go.
			_, err = conn.Exec(ctx, `SELECT pg_notify($1, $2)`, releaseChannel, k.l.self+" "+k.key)
			notified = time.Now()
		}
		if err != nil {
			conn.Release()
			_ = k.local.Unlock()
			if ctx.Err() != nil {
				return tusd.ErrLockTimeout
			}
			return fmt.Errorf("upload locks: %w", err)
		}
		select {
		case <-ctx.Done():
			conn.Release()
			_ = k.local.Unlock()
			return tusd.ErrLockTimeout
		case <-time.After(k.l.Poll):
		}
	}
}

func (k *pgLock) Unlock() error {
	defer func() { _ = k.local.Unlock() }()
	if k.conn == nil {
		return nil
	}
	k.l.mu.Lock()
	delete(k.l.held, k.key)
	k.l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := k.conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, k.key)
	if err != nil {
		// The session may still hold the lock: close it, which releases it.
		_ = k.conn.Conn().Close(ctx)
	}
	k.conn.Release()
	k.conn = nil
	return err
}
