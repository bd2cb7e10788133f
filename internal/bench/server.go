package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a `clouddrive serve` child process on a loopback port. The
// benchmark and the crash test both run the real binary this way, so that
// what they measure and kill is exactly what users run.
type Server struct {
	// Bin is the clouddrive binary.
	Bin string
	// DataDir is the --data directory.
	DataDir string
	// Args are extra flags for serve (e.g. --gc-interval 1s).
	Args []string
	// Log receives the server's stderr; nil discards it.
	Log io.Writer

	// URL is the base URL (http://127.0.0.1:PORT) once started.
	URL string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	port int
}

// Start launches the server and waits until it answers HTTP. A restart
// after Kill or Stop reuses the same port, so clients keep their URLs.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("bench: server already running")
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if s.port == 0 {
			p, err := freePort()
			if err != nil {
				return err
			}
			s.port = p
		}
		addr := "127.0.0.1:" + strconv.Itoa(s.port)
		args := append([]string{"serve", "--data", s.DataDir, "--addr", addr}, s.Args...)
		cmd := exec.Command(s.Bin, args...)
		logw := s.Log
		if logw == nil {
			logw = io.Discard
		}
		tail := &tailBuffer{max: 8 << 10}
		cmd.Stdout = io.MultiWriter(logw, tail)
		cmd.Stderr = io.MultiWriter(logw, tail)
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("bench: start %s: %w", s.Bin, err)
		}
		done := make(chan struct{})
		s.cmd, s.done = cmd, done
		go func() {
			err := cmd.Wait()
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			close(done)
		}()
		url := "http://" + addr
		if err := waitHTTP(ctx, url, done); err != nil {
			_ = cmd.Process.Kill()
			<-done
			s.cmd = nil
			lastErr = fmt.Errorf("bench: server did not come up: %w; output: %s", err, tail.String())
			if strings.Contains(tail.String(), "address already in use") {
				s.port = 0
				continue
			}
			return lastErr
		}
		s.URL = url
		return nil
	}
	return lastErr
}

// waitHTTP polls url until any HTTP answer comes back.
func waitHTTP(ctx context.Context, url string, exited <-chan struct{}) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("process exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := c.Get(url + "/drive/v1/account/endpoint")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("timed out")
}

// PID returns the process id, or 0 when not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill() error { return s.signal(syscall.SIGKILL, 0) }

// Stop sends SIGTERM and waits up to 30 s for a graceful exit, then kills.
func (s *Server) Stop() error { return s.signal(syscall.SIGTERM, 30*time.Second) }

func (s *Server) signal(sig syscall.Signal, grace time.Duration) error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-done:
		case <-time.After(grace):
			_ = cmd.Process.Kill()
			<-done
		}
	} else {
		<-done
	}
	s.mu.Lock()
	s.cmd = nil
	s.mu.Unlock()
	return nil
}

// Exited reports whether the process has ended by itself, and how.
func (s *Server) Exited() (bool, error) {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false, nil
	}
	select {
	case <-done:
		s.mu.Lock()
		defer s.mu.Unlock()
		return true, s.err
	default:
		return false, nil
	}
}

// Token mints a bearer token for user with `clouddrive admin token`, which
// works while the server runs.
func (s *Server) Token(ctx context.Context, user string) (string, error) {
	return AdminToken(ctx, s.Bin, s.DataDir, user)
}

// AdminToken runs `bin admin token --data dir user`.
func AdminToken(ctx context.Context, bin, dir, user string) (string, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "admin", "token", "--data", dir, user)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("bench: admin token %s: %w: %s", user, err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// RSS returns the resident set size of the process and its peak (VmHWM)
// in bytes, read from /proc.
func RSS(pid int) (rss, peak int64, err error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &peak
		default:
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("bench: parse %s: %w", k, err)
		}
		*dst = n << 10
	}
	return rss, peak, sc.Err()
}

// ResetPeakRSS resets the kernel's VmHWM of pid (Linux clear_refs "5");
// it reports whether that worked.
func ResetPeakRSS(pid int) bool {
	return os.WriteFile(filepath.Join("/proc", strconv.Itoa(pid), "clear_refs"), []byte("5"), 0) == nil
}

// RSSSampler records the largest RSS of a process seen between Start and
// Stop, sampling every 10 ms and reading the kernel's peak at the end.
type RSSSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}
	max  int64
}

// SampleRSS starts sampling pid.
func SampleRSS(pid int) *RSSSampler {
	s := &RSSSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	ResetPeakRSS(pid)
	go func() {
		defer close(s.done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := RSS(pid); err == nil && rss > s.max {
				s.max = rss
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak RSS in bytes.
func (s *RSSSampler) Stop() int64 {
	close(s.stop)
	<-s.done
	if _, peak, err := RSS(s.pid); err == nil && peak > s.max {
		s.max = peak
	}
	return s.max
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
