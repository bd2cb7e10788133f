package bench

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

func md5Of(i int) string {
	s := md5.Sum([]byte(strconv.Itoa(i)))
	return hex.EncodeToString(s[:])
}

func urlEscape(s string) string { return url.QueryEscape(s) }

func humanSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// changes seeds an account with ChangesNodes nodes, then times a full
// first sync through POST /changes (every line decoded, as a client does)
// and the same feed read in-process.
func (r *runner) changes(ctx context.Context) error {
	c := r.cfg
	dir := filepath.Join(c.Dir, "changes")
	cfg := app.Config{DataDir: dir}
	m, err := app.OpenMeta(ctx, cfg)
	if err != nil {
		return err
	}
	tok, err := app.AdminToken(ctx, cfg, m, "sync", 0)
	if err != nil {
		m.Close()
		return err
	}
	var u *drive.User
	err = m.View(ctx, func(tx meta.Tx) error {
		var err error
		u, err = tx.UserByName(ctx, "sync")
		return err
	})
	if err != nil {
		m.Close()
		return err
	}
	t0 := time.Now()
	// A tree: folders of 1,000 under the root, nodes in them.
	per := 1000
	var folders []string
	if folders, err = Seed(ctx, m, u.ID, u.RootID, (c.ChangesNodes+per-1)/per, time.Now()); err != nil {
		m.Close()
		return err
	}
	left := c.ChangesNodes - len(folders)
	for i := 0; left > 0; i++ {
		k := min(per, left)
		if _, err := Seed(ctx, m, u.ID, folders[i%len(folders)], k, time.Now()); err != nil {
			m.Close()
			return err
		}
		left -= k
	}
	r.progress("  seeded %d nodes in %v", c.ChangesNodes, time.Since(t0).Round(time.Millisecond))

	// Raw: the feed read in-process, nodes counted.
	feed := &changes.Feed{Meta: m}
	t0 = time.Now()
	rawNodes := 0
	if _, err := feed.Stream(ctx, u.ID, changes.Request{}, func(s changes.Set) error { rawNodes += len(s.Nodes); return nil }); err != nil {
		m.Close()
		return err
	}
	rawDur := time.Since(t0)
	m.Close()

	srv := &Server{Bin: c.Bin, DataDir: dir, Log: c.ServerLog,
		Args: []string{"--log-level", "warn", "--rate-per-token", "0", "--rate-per-user", "0", "--gc-interval", "0"}}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	defer srv.Stop()
	var rows []Row
	for _, chunk := range []int{0, changes.MaxChunkSize} {
		n, d, err := r.sync(ctx, srv.URL, tok, chunk)
		if err != nil {
			return err
		}
		if n != rawNodes {
			return fmt.Errorf("sync saw %d nodes, the feed has %d", n, rawNodes)
		}
		name := "full first sync, default chunkSize"
		if chunk > 0 {
			name = fmt.Sprintf("full first sync, chunkSize %d", chunk)
		}
		rows = append(rows, Row{Section: "changes", Name: fmt.Sprintf("%s (%d nodes, %v)", name, n, d.Round(time.Millisecond)),
			Value: float64(n) / d.Seconds(), Unit: "nodes/s", Ref: float64(rawNodes) / rawDur.Seconds(), RefName: "raw feed",
			Target: ">= 200000 nodes/s"})
	}
	for _, row := range rows {
		r.add(row)
	}
	return nil
}

// sync reads the whole feed as a new client does and returns the number
// of nodes and the time it took.
func (r *runner) sync(ctx context.Context, base, token string, chunk int) (int, time.Duration, error) {
	body := "{}"
	if chunk > 0 {
		body = fmt.Sprintf(`{"chunkSize":%d}`, chunk)
	}
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/drive/v1/changes", strings.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("changes: %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 512<<20)
	n := 0
	for sc.Scan() {
		var set acd.ChangeSet
		if err := json.Unmarshal(sc.Bytes(), &set); err != nil {
			return 0, 0, err
		}
		n += len(set.Nodes)
		if set.Checkpoint == "" && len(set.Nodes) == 0 && strings.Contains(sc.Text(), `"end"`) {
			return n, time.Since(t0), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	return 0, 0, fmt.Errorf("changes: no end marker")
}

// print writes the report table.
func (r *runner) print(total time.Duration) {
	w := r.cfg.Out
	if w == nil {
		return
	}
	fmt.Fprintf(w, "\nclouddrive bench (%s, %s/%s, %d CPUs, GOMAXPROCS %d); took %v\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), total.Round(time.Second))
	if r.cfg.MachineDescription != "" {
		fmt.Fprintln(w, r.cfg.MachineDescription)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "section\tmeasure\tclouddrive\treference\tratio\tp50\tp99\ttarget")
	for _, row := range r.rows {
		ref, ratio := "-", "-"
		if row.Ref != 0 {
			ref = fmt.Sprintf("%s %s", num(row.Ref), row.RefName)
			ratio = fmt.Sprintf("%.2fx", row.Ratio())
		}
		p50, p99 := "-", "-"
		if row.P50 > 0 {
			p50, p99 = fmtDur(row.P50), fmtDur(row.P99)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", row.Section, row.Name, num(row.Value), row.Unit, ref, ratio, p50, p99, row.Target)
	}
	tw.Flush()
	for _, row := range r.rows {
		if row.Note != "" {
			fmt.Fprintf(w, "  %s / %s: %s\n", row.Section, row.Name, row.Note)
		}
	}
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%dµs", d.Microseconds())
}
