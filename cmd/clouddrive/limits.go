package main

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/bytesize"
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
	oauthRate     float64
	oauthBurst    int
	proxies       prefixList
}

// prefixList is a flag of comma-separated CIDR prefixes or addresses.
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	ss := make([]string, len(*l))
	for i, p := range *l {
		ss[i] = p.String()
	}
	return strings.Join(ss, ",")
}

func (l *prefixList) Set(v string) error {
	ps, err := httpguard.ParsePrefixes(strings.Split(v, ","))
	if err != nil {
		return err
	}
	*l = ps
	return nil
}

func (l *prefixList) Type() string { return "cidrs" }

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
	f.IntVar(&s.hashes, "max-hashes", auth.DefaultMaxHashes,
		"argon2id password checks (sign-in, share links) run at once, 64 MiB each; more wait up to 2s, then get 429")
	f.Float64Var(&s.oauthRate, "oauth-rate", 10,
		"requests per second one client address may send to the OAuth endpoints and sign-in pages; 0 disables")
	f.IntVar(&s.oauthBurst, "oauth-burst", 50, "burst size of --oauth-rate")
	f.Var(&s.proxies, "trusted-proxy",
		"reverse proxies (CIDR or address, comma-separated) whose X-Forwarded-For names the client for per-address limits; "+
			"without it all clients behind a proxy share its address")
	return s
}

// apply checks the settings, stores those of the app in cfg and returns
// the rest as httpguard limits.
func (s *limitSettings) apply(cfg *app.Config) (httpguard.Limits, error) {
	if s.hashes < 1 {
		return httpguard.Limits{}, fmt.Errorf("setting max-hashes: must be at least 1")
	}
	cfg.PasswordHashes = s.hashes
	if s.oauthRate < 0 || s.oauthBurst < 0 {
		return httpguard.Limits{}, fmt.Errorf("setting oauth-rate and oauth-burst: must not be negative")
	}
	cfg.Clients = app.ClientLimits{OAuthRate: rate.Limit(s.oauthRate), OAuthBurst: s.oauthBurst, TrustedProxies: s.proxies}
	rate, err := bytesize.Parse(s.uploadMinRate)
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
