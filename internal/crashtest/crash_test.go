package crashtest_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/crashtest"
)

// bin is the clouddrive binary the tests run, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if !testing.Short() {
			dir, err := os.MkdirTemp("", "crashtest-bin-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			if bin, err = crashtest.BuildBinary(context.Background(), filepath.Join(dir, "clouddrive")); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return m.Run()
	}())
}

// runCrash builds the binary and runs a crash test of kills kills.
func runCrash(t *testing.T, cfg crashtest.Config) {
	t.Helper()
	cfg.Bin, cfg.Dir = bin, t.TempDir()
	var err error
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	if s := os.Getenv("CRASHTEST_SEED"); s != "" {
		if cfg.Seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CRASHTEST_SEED: %v", err)
		}
	}
	t.Logf("seed %d (rerun with CRASHTEST_SEED=%d)", cfg.Seed, cfg.Seed)
	cfg.Logf = t.Logf
	if os.Getenv("CLOUDDRIVE_TEST_LOG") != "" {
		cfg.ServerLog = os.Stderr
	}
	res, err := crashtest.Run(t.Context(), cfg)
	if res != nil {
		t.Log(res.Summary())
		for _, v := range res.Violations {
			t.Errorf("violation: %s", v)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestCrashShort is the CI version of the crash test: five kills.
func TestCrashShort(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills the real binary; skipped with -short")
	}
	runCrash(t, crashtest.Config{Kills: 5, MinRun: 200 * time.Millisecond, MaxRun: time.Second, Deadline: 3 * time.Minute})
}
