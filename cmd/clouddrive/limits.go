package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/httpguard"
)

// limitSettings are the serve flags that bound what slow and anonymous
// clients can hold (README: Limits for unauthenticated clients).
type limitSettings struct {
	maxUnauth     int
	bodyTimeout   time.Duration
	uploadMinRate string
	uploadWindow  time.Duration
	headerTimeout time.Duration
	hashes        int
}

func addLimitFlags(cmd *cobra.Command) *limitSettings {
	s := &limitSettings{}
	f := cmd.Flags()
	f.IntVar(&s.maxUnauth, "max-unauthenticated", httpguard.DefaultMaxUnauthenticated,
		"most requests in flight at once without a valid token or session; more get 503 and are disconnected (0: no cap)")
	f.DurationVar(&s.bodyTimeout, "body-timeout", httpguard.DefaultBodyTimeout,
		"how long a request body other than an upload may take to arrive")
	f.StringVar(&s.uploadMinRate, "upload-min-rate", "1KiB",
		"slowest rate per second an upload body may arrive at, over --upload-window")
	f.DurationVar(&s.uploadWindow, "upload-window", httpguard.DefaultUploadWindow,
		"how long an upload may stall, and the window of --upload-min-rate")
	f.DurationVar(&s.headerTimeout, "read-header-timeout", httpguard.DefaultReadHeaderTimeout,
		"how long a client may take to send a request's headers")
	f.IntVar(&s.hashes, "max-password-hashes", auth.DefaultMaxHashes,
		"argon2id password checks (sign-in, share links) run at once, 64 MiB each; more wait up to 2s, then get 429")
	return s
}

// apply checks the settings, stores those of the app in cfg and returns
// the rest as httpguard limits.
func (s *limitSettings) apply(cfg *app.Config) (httpguard.Limits, error) {
	if s.hashes < 1 {
		return httpguard.Limits{}, fmt.Errorf("setting max-password-hashes: must be at least 1")
	}
	cfg.PasswordHashes = s.hashes
	rate, err := parseSize(s.uploadMinRate)
	if err != nil {
		return httpguard.Limits{}, fmt.Errorf("setting upload-min-rate: %w", err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"body-timeout", s.bodyTimeout}, {"upload-window", s.uploadWindow}, {"read-header-timeout", s.headerTimeout}} {
		if d.v < time.Second {
			return httpguard.Limits{}, fmt.Errorf("setting %s: must be at least 1s, not %s", d.name, d.v)
		}
	}
	if s.maxUnauth < 0 {
		return httpguard.Limits{}, fmt.Errorf("setting max-unauthenticated: must not be negative")
	}
	if rate < 1 {
		return httpguard.Limits{}, fmt.Errorf("setting upload-min-rate: must be at least 1B")
	}
	l := httpguard.Limits{MaxUnauthenticated: s.maxUnauth, BodyTimeout: s.bodyTimeout, UploadMinRate: rate,
		UploadWindow: s.uploadWindow, ReadHeaderTimeout: s.headerTimeout}
	if s.maxUnauth == 0 {
		l.MaxUnauthenticated = -1
	}
	return l, nil
}
