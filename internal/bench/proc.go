package bench

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"time"
)

// waitListening waits until something accepts TCP connections on addr,
// for at most within or until ctx ends.
func waitListening(ctx context.Context, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.New("not listening on " + addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopProcess interrupts the reference server cmd runs and waits for it,
// killing it after 5 s.
func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
