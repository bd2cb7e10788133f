package crashtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/bench"
)

// Config sets up a crash run.
type Config struct {
	// Bin is the clouddrive binary.
	Bin string
	// Dir is an empty working directory (the server's data lives in it).
	Dir string
	// Kills is the number of SIGKILLs.
	Kills int
	// Users and ClientsPerUser shape the load (defaults 2 and 2).
	Users, ClientsPerUser int
	// MinRun and MaxRun bound the random time the load runs before each
	// kill (defaults 200 ms and 1.5 s).
	MinRun, MaxRun time.Duration
	// Seed makes the run reproducible up to timing.
	Seed uint64
	// Deadline bounds the whole run (default 10 minutes).
	Deadline time.Duration
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
	// ServerLog receives the server's log; nil discards it.
	ServerLog io.Writer
}

// Result summarises a run.
type Result struct {
	Kills      int
	Checks     int
	Acked      int
	InFlight   int
	ByKind     map[string]int
	Violations []string
	// GCBlobs is the number of unreferenced blobs left before the final
	// garbage collection, and GCWait how long it took to remove them.
	GCBlobs int
	GCWait  time.Duration
}

// Run performs cfg.Kills kill-and-restart cycles, checking every
// invariant after each restart, then checks that garbage collection
// removes every unreferenced blob. It returns an error when the run could
// not be carried out; invariant violations are in Result.Violations.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Users <= 0 {
		cfg.Users = 2
	}
	if cfg.ClientsPerUser <= 0 {
		cfg.ClientsPerUser = 2
	}
	if cfg.MinRun <= 0 {
		cfg.MinRun = 200 * time.Millisecond
	}
	if cfg.MaxRun < cfg.MinRun {
		cfg.MaxRun = max(cfg.MinRun, 1500*time.Millisecond)
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = 10 * time.Minute
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()

	srv := &bench.Server{Bin: cfg.Bin, DataDir: filepath.Join(cfg.Dir, "data"), Log: cfg.ServerLog,
		Args: []string{"--gc-interval", "1s", "--gc-grace", "1s", "--rate-per-token", "0", "--rate-per-user", "0", "--log-level", "warn"}}
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	defer srv.Kill()

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, ResponseHeaderTimeout: time.Minute}}
	defer hc.CloseIdleConnections()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x2545f4914f6cdd1d))

	// Users, their clients, folders and changes replicas.
	var clients []*client
	replicas := map[string]*replica{}
	userClient := map[string]*client{}
	for u := range cfg.Users {
		user := fmt.Sprintf("crash%d", u)
		for i := range cfg.ClientsPerUser {
			tok, err := srv.Token(ctx, user)
			if err != nil {
				return nil, err
			}
			c := newClient(fmt.Sprintf("%s.c%d", user, i), user, tok, srv.URL, hc, rng.Uint64())
			var root acd.NodeList
			st, raw, err := c.do(ctx, "GET", "/drive/v1/nodes?filters=isRoot:true", nil, "", &root)
			if err != nil || st != http.StatusOK || len(root.Data) != 1 {
				return nil, fmt.Errorf("root of %s: %d %s %v", user, st, raw, err)
			}
			if err := c.setup(ctx, root.Data[0].ID); err != nil {
				return nil, err
			}
			clients = append(clients, c)
			if userClient[user] == nil {
				userClient[user] = c
				replicas[user] = &replica{}
			}
		}
	}
	res := &Result{ByKind: map[string]int{}}

	check := func() error {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Minute)
		defer ccancel()
		var v violations
		st, err := checkStore(cctx, srv.DataDir, &v)
		if err != nil {
			return err
		}
		for _, c := range clients {
			if err := c.verify(cctx, &v, 32<<20); err != nil {
				return fmt.Errorf("verify %s: %w", c.name, err)
			}
		}
		// The checks above are reads; the store is unchanged, so the feed
		// can be compared with the rows read before.
		for _, user := range slices.Sorted(maps.Keys(userClient)) {
			c := userClient[user]
			uid, err := userID(st, c)
			if err != nil {
				return err
			}
			if err := replicas[user].sync(cctx, c); err != nil {
				v.addf("changes of %s: %v", user, err)
				continue
			}
			compareReplica("incremental changes replay", uid, replicas[user], st, &v)
			fresh := &replica{}
			if err := fresh.sync(cctx, c); err != nil {
				v.addf("full changes sync of %s: %v", user, err)
				continue
			}
			compareReplica("full changes sync", uid, fresh, st, &v)
		}
		res.Checks++
		if len(v) > 0 {
			logf("check %d: %d violations", res.Checks, len(v))
			for _, s := range v {
				res.Violations = append(res.Violations, fmt.Sprintf("check %d: %s", res.Checks, s))
			}
		}
		return nil
	}

	if err := check(); err != nil {
		return res, err
	}
	for k := 0; k < cfg.Kills; k++ {
		if ctx.Err() != nil {
			return res, fmt.Errorf("deadline reached after %d kills", k)
		}
		run := cfg.MinRun + time.Duration(rng.Int64N(int64(cfg.MaxRun-cfg.MinRun)+1))
		pctx, pcancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.run(pctx)
			}()
		}
		timer := time.NewTimer(run)
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
		if exited, err := srv.Exited(); exited {
			pcancel()
			wg.Wait()
			return res, fmt.Errorf("server exited by itself before kill %d: %v", k+1, err)
		}
		if err := srv.Kill(); err != nil {
			pcancel()
			return res, err
		}
		res.Kills++
		// Clients see their connections fail; give in-flight requests the
		// chance to notice the kill before cancelling.
		time.Sleep(20 * time.Millisecond)
		pcancel()
		wg.Wait()
		hc.CloseIdleConnections()
		for _, c := range clients {
			for _, u := range c.unexpected {
				res.Violations = append(res.Violations, fmt.Sprintf("before kill %d: %s", k+1, u))
			}
			c.unexpected = nil
		}
		if err := srv.Start(ctx); err != nil {
			return res, fmt.Errorf("restart after kill %d: %w", k+1, err)
		}
		inflight := 0
		for _, c := range clients {
			if c.pending != nil {
				inflight++
			}
		}
		res.InFlight += inflight
		if err := check(); err != nil {
			return res, fmt.Errorf("check after kill %d: %w", k+1, err)
		}
		logf("kill %d/%d after %v: %d requests in flight; %d violations so far", k+1, cfg.Kills, run.Round(time.Millisecond), inflight, len(res.Violations))
	}

	// Garbage collection: every client purges half of its nodes, and then,
	// with no writer left, the blob directory must shrink to the
	// referenced blobs.
	for _, c := range clients {
		if err := c.purgeSome(ctx); err != nil {
			return res, err
		}
		for _, u := range c.unexpected {
			res.Violations = append(res.Violations, "final purge: "+u)
		}
	}
	start := time.Now()
	for {
		st, err := storeSnapshot(ctx, srv.DataDir)
		if err != nil {
			return res, err
		}
		var garbage []string
		for k := range st.blobs {
			if !st.refs[k] {
				garbage = append(garbage, k)
			}
		}
		if res.GCBlobs == 0 {
			res.GCBlobs = len(garbage)
		}
		if len(garbage) == 0 {
			res.GCWait = time.Since(start)
			break
		}
		if time.Since(start) > 30*time.Second {
			sort.Strings(garbage)
			res.Violations = append(res.Violations, fmt.Sprintf("gc: %d unreferenced blobs still there after 30 s, e.g. %s", len(garbage), garbage[0]))
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err := check(); err != nil {
		return res, err
	}
	for _, c := range clients {
		res.Acked += c.acked
		for k, n := range c.byKind {
			res.ByKind[string(k)] += n
		}
	}
	if err := srv.Stop(); err != nil {
		return res, err
	}
	return res, nil
}

// storeSnapshot reads meta.db and the blob directory without judging.
func storeSnapshot(ctx context.Context, dataDir string) (*dbState, error) {
	var ignore violations
	return checkStore(ctx, dataDir, &ignore)
}

// userID finds the user id of a client from one of its folders.
func userID(st *dbState, c *client) (string, error) {
	r, ok := st.nodes[c.folders[0]]
	if !ok {
		return "", fmt.Errorf("folder %s of %s not in meta.db", c.folders[0], c.name)
	}
	return r.UserID, nil
}

// Summary formats a result for logs and reports.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d kills, %d checks, %d acknowledged writes, %d requests in flight at kills, %d violations\n",
		r.Kills, r.Checks, r.Acked, r.InFlight, len(r.Violations))
	for _, k := range slices.Sorted(maps.Keys(r.ByKind)) {
		fmt.Fprintf(&b, "  %-32s %d\n", k, r.ByKind[k])
	}
	fmt.Fprintf(&b, "gc: %d unreferenced blobs collected in %v\n", r.GCBlobs, r.GCWait.Round(time.Millisecond))
	return b.String()
}

// BuildBinary builds ./cmd/clouddrive of the current module (the one
// `go env GOMOD` names) into out, unless CLOUDDRIVE_BIN names a binary
// already built.
func BuildBinary(ctx context.Context, out string) (string, error) {
	if bin := os.Getenv("CLOUDDRIVE_BIN"); bin != "" {
		return bin, nil
	}
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || root == "" {
		return "", errors.New("not inside a Go module")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/clouddrive")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w: %s", err, b)
	}
	return out, nil
}
