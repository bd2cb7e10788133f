package upload

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
)

// PgLocker locks uploads across replicas with PostgreSQL session
// advisory locks (pg_try_advisory_lock on a connection held while the
// request runs), under a lock in this process: a request for an upload
// that another request of this process holds interrupts that one (tusd's
// requestRelease, so a resumed upload does not wait for the cut
// connection's request to notice); one held on another replica is waited
// for, polling, until tusd's lock timeout. A replica that dies loses its
// connections and so its locks.
type PgLocker struct {
	pool  *pgxpool.Pool
	local *memorylocker.MemoryLocker
	// Poll is how often a lock held elsewhere is tried again.
	Poll time.Duration
}

// maxLockConns bounds the connections the upload locks hold (one per
// request of an upload in progress on this replica).
const maxLockConns = 32

// NewPgLocker connects a pool of its own to the database of dsn (the
// --db setting), so that held locks never take the metadata store's
// connections.
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
	return &PgLocker{pool: pool, local: memorylocker.New(), Poll: 100 * time.Millisecond}, nil
}

// Close closes the pool, releasing every lock.
func (l *PgLocker) Close() { l.pool.Close() }

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
	for {
		var ok bool
		err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, k.key).Scan(&ok)
		if err == nil && ok {
			k.conn = conn
			return nil
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
