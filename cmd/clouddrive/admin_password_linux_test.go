package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/clouddrive/clouddrive/internal/meta"
)

// openPty opens a new pseudo-terminal pair, for the password prompt.
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

// TestPasswordPromptChecksPolicyFirst: on a terminal, a password that
// breaks the policy is refused right after the first entry, with the
// policy in words, not after typing it twice; a good one is asked twice.
func TestPasswordPromptChecksPolicyFirst(t *testing.T) {
	data := t.TempDir()
	prompt := func(input string, args ...string) (string, error) {
		t.Helper()
		master, slave := openPty(t)
		if _, err := master.WriteString(input); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		root := newRoot(&out, &errOut)
		root.SetIn(slave)
		root.SetArgs(append(args, "--data", data))
		err := root.ExecuteContext(t.Context())
		return errOut.String(), err
	}
	// Typed twice, in case the prompt asks twice (the test then fails
	// instead of waiting).
	stderr, err := prompt("short\nshort\n", "admin", "user", "add", "carol")
	if err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if strings.Contains(stderr, "Repeat password") {
		t.Errorf("asked twice before checking the policy: %q", stderr)
	}
	if !strings.Contains(stderr, "8 to 1024 bytes") {
		t.Errorf("the prompt does not state the policy: %q", stderr)
	}
	if msg := userMessage(err); strings.Contains(msg, "auth.") || !strings.Contains(msg, "at least 8") {
		t.Errorf("policy error = %q", msg)
	}
	inspect(t, data, func(ctx context.Context, tx meta.Tx) error {
		if _, err := tx.UserByName(ctx, "carol"); err == nil {
			t.Error("the user was created with a refused password")
		}
		return nil
	})

	stderr, err = prompt("long enough pw\nlong enough pw\n", "admin", "user", "add", "carol")
	if err != nil || !strings.Contains(stderr, "Repeat password") {
		t.Fatalf("good password: %v, %q", err, stderr)
	}
}
