package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/bench"
)

// LoadConfig sets up a load run.
type LoadConfig struct {
	Bin, Dir string
	// Clients is the number of concurrent clients, spread over Users
	// users (one token per user, so the per-token rate limit is shared).
	Clients, Users int
	// Duration bounds the run.
	Duration time.Duration
	// ServerArgs are extra serve flags (e.g. rate limits).
	ServerArgs []string
	Seed       uint64
}

// LoadResult reports a load run per operation.
type LoadResult struct {
	Duration time.Duration
	Ops      map[string]*bench.Latencies
	// Status counts answers by operation and status code; Errors counts
	// transport errors.
	Status map[string]map[int]int
	Errors []string
}

// Unexpected lists every answer other than the operation's success status
// and 429.
func (r *LoadResult) Unexpected() []string {
	var out []string
	for _, op := range slices.Sorted(maps.Keys(r.Status)) {
		for st, n := range r.Status[op] {
			if st/100 != 2 && st != http.StatusTooManyRequests {
				out = append(out, fmt.Sprintf("%s: %d answers with status %d", op, n, st))
			}
		}
	}
	return append(out, r.Errors...)
}

// Report formats the latency percentiles and status counts.
func (r *LoadResult) Report() string {
	var b strings.Builder
	total := 0
	fmt.Fprintf(&b, "%-10s %8s %8s %9s %9s %9s %9s\n", "op", "ok", "429", "p50", "p90", "p99", "max")
	for _, op := range slices.Sorted(maps.Keys(r.Ops)) {
		l := r.Ops[op]
		ok := 0
		for st, n := range r.Status[op] {
			if st/100 == 2 {
				ok += n
			}
		}
		total += l.Count()
		fmt.Fprintf(&b, "%-10s %8d %8d %9v %9v %9v %9v\n", op, ok, r.Status[op][http.StatusTooManyRequests],
			l.Percentile(50).Round(10*time.Microsecond), l.Percentile(90).Round(10*time.Microsecond),
			l.Percentile(99).Round(10*time.Microsecond), l.Percentile(100).Round(10*time.Microsecond))
	}
	fmt.Fprintf(&b, "%d requests in %v: %.0f requests/s\n", total, r.Duration.Round(time.Millisecond), float64(total)/r.Duration.Seconds())
	return b.String()
}

// Load runs many concurrent clients against a fresh server for a bounded
// time: listings, node reads, folder creations, small uploads, downloads
// and changes. Every loop ends at the deadline.
func Load(ctx context.Context, cfg LoadConfig) (*LoadResult, error) {
	if cfg.Users <= 0 {
		cfg.Users = 4
	}
	srv := &bench.Server{Bin: cfg.Bin, DataDir: filepath.Join(cfg.Dir, "data"), Args: append([]string{"--log-level", "error"}, cfg.ServerArgs...)}
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	defer srv.Stop()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients, ResponseHeaderTimeout: time.Minute}, Timeout: 2 * time.Minute}
	defer hc.CloseIdleConnections()

	type user struct {
		token, root, file string
	}
	users := make([]user, cfg.Users)
	for i := range users {
		tok, err := srv.Token(ctx, fmt.Sprintf("load%d", i))
		if err != nil {
			return nil, err
		}
		c := newClient("setup", "", tok, srv.URL, hc, 1)
		var root acd.NodeList
		if st, raw, err := c.do(ctx, "GET", "/drive/v1/nodes?filters=isRoot:true", nil, "", &root); err != nil || st != 200 || len(root.Data) != 1 {
			return nil, fmt.Errorf("root: %d %s %v", st, raw, err)
		}
		var f acd.Node
		meta := acd.NewNode{Name: "shared.bin", Kind: "FILE", Parents: []string{root.Data[0].ID}}
		if st, raw, err := c.do(ctx, "POST", "/cdproxy/nodes", multipartBody(ctx, meta, bytes.Repeat([]byte("x"), 16<<10)), multipartType, &f); err != nil || st != 201 {
			return nil, fmt.Errorf("upload: %d %s %v", st, raw, err)
		}
		users[i] = user{token: tok, root: root.Data[0].ID, file: f.ID}
	}

	res := &LoadResult{Ops: map[string]*bench.Latencies{}, Status: map[string]map[int]int{}}
	var mu sync.Mutex
	record := func(op string, d time.Duration, st int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if res.Ops[op] == nil {
			res.Ops[op] = &bench.Latencies{}
			res.Status[op] = map[int]int{}
		}
		if err != nil {
			if len(res.Errors) < 20 {
				res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", op, err))
			}
			return
		}
		res.Ops[op].Add(d)
		res.Status[op][st]++
	}
	lctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		u := users[i%len(users)]
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(fmt.Sprintf("load.c%d", i), "", u.token, srv.URL, hc, uint64(i))
			for n := 0; lctx.Err() == nil; n++ {
				var op, method, path, ctype string
				var body io.Reader
				switch p := rng.IntN(100); {
				case p < 30:
					op, method, path = "list", "GET", "/drive/v1/nodes/"+u.root+"/children?limit=50"
				case p < 50:
					op, method, path = "get", "GET", "/drive/v1/nodes/"+u.file
				case p < 60:
					op, method, path = "filter", "GET", "/drive/v1/nodes?filters=kind:FOLDER%20AND%20name:c*&limit=20"
				case p < 70:
					op, method, path = "download", "GET", "/cdproxy/nodes/"+u.file+"/content"
				case p < 80:
					op, method, path = "mkdir", "POST", "/drive/v1/nodes"
					body = c.jsonBody(acd.NewNode{Name: fmt.Sprintf("c%d-%d", i, n), Kind: "FOLDER", Parents: []string{u.root}})
				case p < 90:
					op, method, path, ctype = "upload", "POST", "/cdproxy/nodes?suppress=deduplication", multipartType
					meta := acd.NewNode{Name: fmt.Sprintf("u%d-%d.bin", i, n), Kind: "FILE", Parents: []string{u.root}}
					body = multipartBody(lctx, meta, c.content(n, 4<<10))
				default:
					op, method, path = "changes", "POST", "/drive/v1/changes"
					body = strings.NewReader(`{"maxNodes":200}`)
				}
				t0 := time.Now()
				st, _, err := c.do(lctx, method, path, body, ctype, nil)
				if lctx.Err() != nil {
					return // the deadline cut the request short
				}
				record(op, time.Since(t0), st, err)
				if st == http.StatusTooManyRequests {
					select { // back off as Retry-After asks, in short
					case <-lctx.Done():
					case <-time.After(time.Duration(50+rng.IntN(100)) * time.Millisecond):
					}
				}
			}
		}()
	}
	wg.Wait()
	res.Duration = time.Since(start)
	if exited, err := srv.Exited(); exited {
		return res, fmt.Errorf("server exited during the load: %v", err)
	}
	return res, nil
}
