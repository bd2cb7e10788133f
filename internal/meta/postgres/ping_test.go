package postgres_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
)

// proxy forwards TCP connections from a loopback port to target until
// cut, which also drops the connections it carries; resume listens on the
// same port again.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func (p *proxy) listen() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestPingFollowsTheServer: Ping (what /readyz reports) fails with an
// Unavailable error while PostgreSQL cannot be reached, and succeeds again
// once it can, without reopening the store.
func TestPingFollowsTheServer(t *testing.T) {
	dsn := pgtest.Schema(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("DSN %q is not a URL with a host", dsn)
	}
	p := &proxy{t: t, target: u.Host, addr: "127.0.0.1:0"}
	p.listen()
	t.Cleanup(p.cut)
	u.Host = p.addr
	s := open(t, u.String())
	ping := func() error {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		return s.Ping(ctx)
	}
	if err := ping(); err != nil {
		t.Fatalf("Ping through the proxy: %v", err)
	}
	p.cut()
	if err := ping(); !drive.Is(drive.Unavailable, err) {
		t.Fatalf("Ping with PostgreSQL unreachable = %v, want an Unavailable error", err)
	}
	p.listen()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := ping()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ping after PostgreSQL came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
