package crashtest_test

import (
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/crashtest"
)

func runLoad(t *testing.T, cfg crashtest.LoadConfig) {
	t.Helper()
	cfg.Bin, cfg.Dir, cfg.Seed = bin, t.TempDir(), uint64(time.Now().UnixNano())
	res, err := crashtest.Load(t.Context(), cfg)
	if res != nil {
		t.Logf("%d clients, %d users:\n%s", cfg.Clients, cfg.Users, res.Report())
		for _, u := range res.Unexpected() {
			t.Errorf("unexpected: %s", u)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// loadLimits makes the rate limiter answer part of the load with 429: a
// token shared by 16 clients may make 100 requests a second.
var loadLimits = []string{"--rate-per-token", "100", "--rate-burst-token", "100"}

// TestLoadShort: 64 clients of 4 users for 3 seconds: only successes and
// the rate limiter's 429s.
func TestLoadShort(t *testing.T) {
	if testing.Short() {
		t.Skip("load test runs the real binary; skipped with -short")
	}
	runLoad(t, crashtest.LoadConfig{Clients: 64, Users: 4, Duration: 3 * time.Second, ServerArgs: loadLimits})
}
