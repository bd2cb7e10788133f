//go:build reliability

package crashtest_test

import (
	"flag"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/crashtest"
)

var kills = flag.Int("kills", 60, "number of SIGKILLs in TestCrashLong")

// TestCrashLong is the on-demand crash test (go test -tags reliability):
// at least 50 kills, more clients, longer runs between kills.
func TestCrashLong(t *testing.T) {
	runCrash(t, crashtest.Config{Kills: *kills, Users: 3, ClientsPerUser: 2,
		MinRun: 100 * time.Millisecond, MaxRun: 3 * time.Second, Deadline: 40 * time.Minute})
}

var loadFor = flag.Duration("load-duration", time.Minute, "how long TestLoadLong runs")

// TestLoadLong: 256 clients for a minute (go test -tags reliability).
func TestLoadLong(t *testing.T) {
	runLoad(t, crashtest.LoadConfig{Clients: 256, Users: 16, Duration: *loadFor, ServerArgs: loadLimits})
}
