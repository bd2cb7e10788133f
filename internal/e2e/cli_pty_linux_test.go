package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/clouddrive/clouddrive/internal/cli"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// openPty opens a new pseudo-terminal pair. Its window size is never set,
// so the terminal reports 0 columns and 0 rows, as on some CI runners.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skipf("ptsname: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// TestCLIProgressOnZeroColumnPty: -P on a terminal that reports 0 columns
// still draws the bars (at a fallback width) instead of nothing.
func TestCLIProgressOnZeroColumnPty(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	u := newCLIUser(t, srv, "cli-pty")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "one.bin"), randomBytes(200<<10, 5), 0o644)
	u.mustRun("upload", filepath.Join(dir, "one.bin"), "/p/")

	master, slave := openPty(t)
	var got bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(&got, master) // ends with EIO once the slave is closed
	}()
	// The process's own terminal check (isatty), not a test's stand-in.
	env := &cli.Env{Stdout: io.Discard, Stderr: slave, Getenv: func(k string) string { return u.vars[k] }}
	code := cli.Main(context.Background(), env, []string{"download", "-P", "/p", filepath.Join(dir, "dl")})
	slave.Close()
	<-done
	if code != 0 {
		t.Fatalf("download -P: exit %d: %q", code, got.String())
	}
	if out := got.String(); !strings.Contains(out, "total") || !strings.Contains(out, "KiB") {
		t.Errorf("nothing drawn on a 0-column terminal: %q", out)
	}
}
