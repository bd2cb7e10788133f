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

// TestLoadShort: 64 clients for 3 seconds with the default rate limits
// (shared by 16 clients per token): only successes and 429s.
func TestLoadShort(t *testing.T) {
	if testing.Short() {
		t.Skip("load test runs the real binary; skipped with -short")
	}
	runLoad(t, crashtest.LoadConfig{Clients: 64, Users: 4, Duration: 3 * time.Second})
}
