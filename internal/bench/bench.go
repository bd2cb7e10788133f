package bench

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/bytesize"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// Config selects what to measure and how big.
type Config struct {
	// Bin is the clouddrive binary to run as the server.
	Bin string
	// Nginx is the nginx binary; empty skips the reference.
	Nginx string
	// Rclone is the rclone binary (`rclone serve webdav`, a second
	// reference for transfer and small); empty skips it.
	Rclone string
	// Dir is the working directory (data, test files); it is emptied.
	Dir string
	// Sections to run: transfer, small, rss, meta, changes; empty runs all.
	Sections []string
	// Clients is the number of concurrent clients for small files and
	// metadata.
	Clients int
	// Users spreads the small-file uploads over this many users (one
	// token and root folder each; 0 is 1).
	Users int
	// Sizes.
	BigFile, HugeFile  int64 // transfer file; rss file
	SmallFiles         int   // number of SmallSize files
	SmallSize          int
	RangeSize          int64 // ranged downloads
	MetaOps            int   // operations per metadata figure
	ListChildren       int   // children of the listed folder
	ChangesNodes       int   // nodes of the changes account
	Reps               int   // repetitions of each transfer (median kept)
	Out                io.Writer
	Progress           io.Writer
	KeepDir            bool
	ServerLog          io.Writer
	MachineDescription string

	// LargeDB and LargeBlobs, if LargeDB is set, run the changes section
	// a second time on these stores (a PostgreSQL URL and, say, an S3
	// URL), in a schema and under a prefix of their own, dropped after.
	LargeDB, LargeBlobs string
}

// Full and Quick are the two standard sizes.
var (
	Full = Config{Clients: 8, BigFile: 1 << 30, HugeFile: 4 << 30, SmallFiles: 1000, SmallSize: 64 << 10,
		RangeSize: 16 << 20, MetaOps: 2000, ListChildren: 10000, ChangesNodes: 1000000, Reps: 3}
	Quick = Config{Clients: 8, BigFile: 64 << 20, HugeFile: 256 << 20, SmallFiles: 200, SmallSize: 64 << 10,
		RangeSize: 4 << 20, MetaOps: 500, ListChildren: 2000, ChangesNodes: 20000, Reps: 2}
)

// Row is one line of the report.
type Row struct {
	Section, Name string
	Value         float64
	Unit          string
	// Ref is the reference figure (nginx or raw store) or 0.
	Ref     float64
	RefName string
	Target  string
	// P50 and P99 are latencies for metadata rows.
	P50, P99 time.Duration
	Note     string
}

// Ratio returns Value/Ref, or 0 without a reference.
func (r Row) Ratio() float64 {
	if r.Ref == 0 {
		return 0
	}
	return r.Value / r.Ref
}

type runner struct {
	cfg   Config
	rows  []Row
	srv   *Server
	ng    *Nginx
	rc    *Rclone
	hc    *http.Client
	token string
	root  string
	big   string // path of the transfer file
	bigID string
}

func (r *runner) progress(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, format+"\n", args...)
	}
}

func (r *runner) add(row Row) {
	r.rows = append(r.rows, row)
	ref := ""
	if row.Ref != 0 {
		ref = fmt.Sprintf(" (%s %.1f, ratio %.2f)", row.RefName, row.Ref, row.Ratio())
	}
	r.progress("  %s / %s: %.1f %s%s", row.Section, row.Name, row.Value, row.Unit, ref)
}

func (c Config) wants(section string) bool {
	if len(c.Sections) == 0 {
		return true
	}
	for _, s := range c.Sections {
		if s == section {
			return true
		}
	}
	return false
}

// Run measures and prints the report to cfg.Out.
func Run(ctx context.Context, cfg Config) ([]Row, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	if !cfg.KeepDir {
		defer os.RemoveAll(cfg.Dir)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true,
		WriteBufferSize: 256 << 10, ReadBufferSize: 256 << 10, ResponseHeaderTimeout: 10 * time.Minute}
	defer tr.CloseIdleConnections()
	r := &runner{cfg: cfg, hc: &http.Client{Transport: tr}}
	start := time.Now()

	if cfg.wants("transfer") || cfg.wants("small") || cfg.wants("rss") {
		r.srv = &Server{Bin: cfg.Bin, DataDir: filepath.Join(cfg.Dir, "server"), Log: cfg.ServerLog,
			Args: []string{"--log-level", "warn", "--rate-per-token", "0", "--rate-per-user", "0", "--gc-interval", "0"}}
		if err := r.srv.Start(ctx); err != nil {
			return nil, err
		}
		defer r.srv.Stop()
		var err error
		if r.token, r.root, err = r.login(ctx, r.srv, "bench"); err != nil {
			return nil, err
		}
		if cfg.Nginx != "" {
			if r.ng, err = StartNginx(ctx, cfg.Nginx, filepath.Join(cfg.Dir, "nginx")); err != nil {
				return nil, err
			}
			defer r.ng.Stop()
		}
		if cfg.Rclone != "" {
			if r.rc, err = StartRclone(ctx, cfg.Rclone, filepath.Join(cfg.Dir, "rclone")); err != nil {
				return nil, err
			}
			defer r.rc.Stop()
		}
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"transfer", r.transfer}, {"small", r.small}, {"rss", r.rss}, {"meta", r.meta}, {"changes", r.changes},
	}
	for _, s := range steps {
		if !cfg.wants(s.name) {
			continue
		}
		r.progress("%s ...", s.name)
		if err := s.fn(ctx); err != nil {
			return r.rows, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	r.print(time.Since(start))
	return r.rows, nil
}

// login mints a token for user and finds the root folder.
func (r *runner) login(ctx context.Context, s *Server, user string) (token, root string, err error) {
	if token, err = s.Token(ctx, user); err != nil {
		return "", "", err
	}
	var list acd.NodeList
	if err := r.getJSON(ctx, s.URL, token, "/drive/v1/nodes?filters=isRoot:true", &list); err != nil {
		return "", "", err
	}
	if len(list.Data) != 1 {
		return "", "", fmt.Errorf("no root for %s", user)
	}
	return token, list.Data[0].ID, nil
}

func (r *runner) getJSON(ctx context.Context, base, token, path string, out any) error {
	st, raw, err := r.call(ctx, base, token, "GET", path, nil, -1, "")
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, st, raw)
	}
	return json.Unmarshal(raw, out)
}

// call sends a request and reads the whole answer.
func (r *runner) call(ctx context.Context, base, token, method, path string, body io.Reader, length int64, ctype string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return 0, nil, err
	}
	if length >= 0 {
		req.ContentLength = length
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// writeRandomFile writes size pseudo-random bytes (incompressible) to path
// and returns their MD5.
func writeRandomFile(path string, size int64, seed uint64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	var key [32]byte
	key[0] = byte(seed)
	rng := rand.NewChaCha8(key)
	h := md5.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		_, _ = rng.Read(buf)
		b := buf[:min(left, int64(len(buf)))]
		h.Write(b)
		if _, err := f.Write(b); err != nil {
			f.Close()
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

// checkMD5 fails when the server computed another MD5 than the client.
func checkMD5(n *acd.Node, want string) error {
	if n.ContentProperties == nil || n.ContentProperties.MD5 != want {
		return fmt.Errorf("server computed content %+v, want md5 %s", n.ContentProperties, want)
	}
	return nil
}

const boundary = "clouddriveBenchBoundary0123456789"

// uploadFile uploads path to clouddrive as name with the multipart body
// ACD clients send, and returns the node.
func (r *runner) uploadFile(ctx context.Context, path, name string) (*acd.Node, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return r.uploadReader(ctx, struct{ io.Reader }{f}, fi.Size(), name)
}

func (r *runner) uploadReader(ctx context.Context, content io.Reader, size int64, name string) (*acd.Node, error) {
	return r.uploadAs(ctx, r.token, r.root, content, size, name)
}

// uploadAs uploads content as name into the folder root with token.
func (r *runner) uploadAs(ctx context.Context, token, root string, content io.Reader, size int64, name string) (*acd.Node, error) {
	meta, _ := json.Marshal(acd.NewNode{Name: name, Kind: "FILE", Parents: []string{root}})
	head := fmt.Sprintf("--%s\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n%s\r\n--%s\r\nContent-Disposition: form-data; name=\"content\"; filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n", boundary, meta, boundary, name)
	tail := "\r\n--" + boundary + "--\r\n"
	body := io.MultiReader(strings.NewReader(head), content, strings.NewReader(tail))
	st, raw, err := r.call(ctx, r.srv.URL, token, "POST", "/cdproxy/nodes?suppress=deduplication", body,
		int64(len(head))+size+int64(len(tail)), "multipart/form-data; boundary="+boundary)
	if err != nil {
		return nil, err
	}
	if st != http.StatusCreated {
		return nil, fmt.Errorf("upload %s: %d %s", name, st, raw)
	}
	var n acd.Node
	return &n, json.Unmarshal(raw, &n)
}

// nginxPut PUTs path to nginx as name.
func (r *runner) nginxPut(ctx context.Context, content io.Reader, size int64, name string) error {
	st, raw, err := r.call(ctx, r.ng.URL, "", "PUT", "/"+name, content, size, "")
	if err != nil {
		return err
	}
	if st != http.StatusCreated && st != http.StatusNoContent {
		return fmt.Errorf("nginx PUT %s: %d %s", name, st, raw)
	}
	return nil
}

// download GETs url (optionally a range) and discards the body through a
// 256 KiB buffer; it returns the bytes read.
func (r *runner) download(ctx context.Context, url, token string, off, length int64) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if length > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+length-1))
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		raw, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, raw)
	}
	buf := make([]byte, 256<<10)
	return io.CopyBuffer(struct{ io.Writer }{io.Discard}, resp.Body, buf)
}

// median runs fn reps times, each after settle, and returns the median
// duration.
func median(reps int, fn func() error) (time.Duration, error) {
	var ds []time.Duration
	for range max(reps, 1) {
		settle()
		t0 := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t0))
	}
	l := &Latencies{d: ds}
	return l.Percentile(50), nil
}

func mibps(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

func (r *runner) transfer(ctx context.Context) error {
	c := r.cfg
	r.big = filepath.Join(c.Dir, "big.bin")
	sum, err := writeRandomFile(r.big, c.BigFile, 1)
	if err != nil {
		return err
	}
	defer os.Remove(r.big)
	size := c.BigFile
	label := bytesize.Format(size)
	var node *acd.Node
	d, err := median(c.Reps, func() error {
		var err error
		if node, err = r.uploadFile(ctx, r.big, "big.bin-"+strconv.FormatInt(time.Now().UnixNano(), 36)); err != nil {
			return err
		}
		return checkMD5(node, sum)
	})
	if err != nil {
		return err
	}
	r.bigID = node.ID
	up := Row{Section: "transfer", Name: "upload " + label + " (multipart, md5+sha256, fsync)", Value: mibps(size, d), Unit: "MiB/s", Target: ">= 0.9x nginx PUT"}
	var dn, rg Row
	dn = Row{Section: "transfer", Name: "download " + label + " (GET)", Unit: "MiB/s", Target: ">= 0.95x nginx GET"}
	rg = Row{Section: "transfer", Name: fmt.Sprintf("download %s in %s ranges", label, bytesize.Format(c.RangeSize)), Unit: "MiB/s", Target: ">= 0.95x nginx GET"}
	cdURL := r.srv.URL + "/cdproxy/nodes/" + node.ID + "/content"
	if d, err = median(c.Reps, func() error { _, err := r.download(ctx, cdURL, r.token, 0, 0); return err }); err != nil {
		return err
	}
	dn.Value = mibps(size, d)
	ranged := func(url, token string) error {
		for off := int64(0); off < size; off += c.RangeSize {
			if _, err := r.download(ctx, url, token, off, min(c.RangeSize, size-off)); err != nil {
				return err
			}
		}
		return nil
	}
	if d, err = median(c.Reps, func() error { return ranged(cdURL, r.token) }); err != nil {
		return err
	}
	rg.Value = mibps(size, d)
	if r.ng != nil {
		put := func() error {
			f, err := os.Open(r.big)
			if err != nil {
				return err
			}
			defer f.Close()
			return r.nginxPut(ctx, struct{ io.Reader }{f}, size, "big.bin")
		}
		if d, err = median(c.Reps, put); err != nil {
			return err
		}
		up.Ref, up.RefName = mibps(size, d), "nginx PUT"
		ngURL := r.ng.URL + "/big.bin"
		if d, err = median(c.Reps, func() error { _, err := r.download(ctx, ngURL, "", 0, 0); return err }); err != nil {
			return err
		}
		dn.Ref, dn.RefName = mibps(size, d), "nginx GET"
		if d, err = median(c.Reps, func() error { return ranged(ngURL, "") }); err != nil {
			return err
		}
		rg.Ref, rg.RefName = mibps(size, d), "nginx GET"
		_ = os.Remove(filepath.Join(r.ng.Dir, "www", "big.bin"))
	}
	r.add(up)
	r.add(dn)
	r.add(rg)
	if r.rc != nil {
		rows, err := r.rcloneTransfer(ctx, size, up, dn, rg, ranged)
		if err != nil {
			return err
		}
		for _, row := range rows {
			r.add(row)
		}
	}
	return nil
}

// small uploads SmallFiles distinct files of SmallSize from Clients
// clients, to both servers.
func (r *runner) small(ctx context.Context) error {
	c := r.cfg
	n, size := c.SmallFiles, c.SmallSize
	files := make([][]byte, n)
	rng := rand.NewChaCha8([32]byte{2})
	for i := range files {
		files[i] = make([]byte, size)
		_, _ = rng.Read(files[i])
	}
	run := func(put func(i int) error) (time.Duration, *Latencies, error) {
		lat := &Latencies{}
		var next atomic.Int64
		var wg sync.WaitGroup
		var firstErr error
		var mu sync.Mutex
		settle()
		t0 := time.Now()
		for range c.Clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					s := time.Now()
					if err := put(i); err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
					lat.Add(time.Since(s))
				}
			}()
		}
		wg.Wait()
		return time.Since(t0), lat, firstErr
	}
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	type user struct{ token, root string }
	users := []user{{r.token, r.root}}
	for u := 2; u <= c.Users; u++ {
		tok, root, err := r.login(ctx, r.srv, fmt.Sprintf("bench-%d", u))
		if err != nil {
			return err
		}
		users = append(users, user{tok, root})
	}
	d, lat, err := run(func(i int) error {
		u := users[i%len(users)]
		_, err := r.uploadAs(ctx, u.token, u.root, bytes.NewReader(files[i]), int64(size), fmt.Sprintf("small-%s-%05d.bin", tag, i))
		return err
	})
	if err != nil {
		return err
	}
	name := fmt.Sprintf("upload %d x %s, %d clients", n, bytesize.Format(int64(size)), c.Clients)
	if len(users) > 1 {
		name += fmt.Sprintf(" of %d users", len(users))
	}
	row := Row{Section: "small", Name: name,
		Value: float64(n) / d.Seconds(), Unit: "files/s", P50: lat.Percentile(50), P99: lat.Percentile(99), Target: ">= 0.5x nginx PUT"}
	if r.ng != nil {
		d, _, err := run(func(i int) error {
			return r.nginxPut(ctx, bytes.NewReader(files[i]), int64(size), fmt.Sprintf("small/%s-%05d.bin", tag, i))
		})
		if err != nil {
			return err
		}
		row.Ref, row.RefName = float64(n)/d.Seconds(), "nginx PUT"
		_ = os.RemoveAll(filepath.Join(r.ng.Dir, "www", "small"))
	}
	r.add(row)
	if r.rc != nil {
		d, _, err := run(func(i int) error {
			return r.rclonePut(ctx, bytes.NewReader(files[i]), int64(size), fmt.Sprintf("small-%s-%05d.bin", tag, i))
		})
		if err != nil {
			return err
		}
		rrow := row
		rrow.Ref, rrow.RefName = float64(n)/d.Seconds(), "rclone PUT"
		r.add(rrow)
	}
	return nil
}

// rss uploads and downloads a HugeFile while sampling the server's RSS.
func (r *runner) rss(ctx context.Context) error {
	c := r.cfg
	path := filepath.Join(c.Dir, "huge.bin")
	sum, err := writeRandomFile(path, c.HugeFile, 3)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	pid := r.srv.PID()
	idle, _, err := RSS(pid)
	if err != nil {
		return err
	}
	s := SampleRSS(pid)
	n, err := r.uploadFile(ctx, path, "huge.bin")
	upPeak := s.Stop()
	if err != nil {
		return err
	}
	if err := checkMD5(n, sum); err != nil {
		return err
	}
	_ = os.Remove(path)
	s = SampleRSS(pid)
	got, err := r.download(ctx, r.srv.URL+"/cdproxy/nodes/"+n.ID+"/content", r.token, 0, 0)
	downPeak := s.Stop()
	if err != nil {
		return err
	}
	if got != c.HugeFile {
		return fmt.Errorf("downloaded %d bytes of %d", got, c.HugeFile)
	}
	label := bytesize.Format(c.HugeFile)
	r.add(Row{Section: "rss", Name: "server RSS, idle", Value: float64(idle) / (1 << 20), Unit: "MiB"})
	r.add(Row{Section: "rss", Name: "server peak RSS during " + label + " upload", Value: float64(upPeak) / (1 << 20), Unit: "MiB", Target: "< 100 MiB"})
	r.add(Row{Section: "rss", Name: "server peak RSS during " + label + " download", Value: float64(downPeak) / (1 << 20), Unit: "MiB", Target: "< 100 MiB"})
	return nil
}

// opFunc performs one metadata operation for client c, iteration i.
type opFunc func(ctx context.Context, c, i int) error

// measure runs total operations from clients goroutines.
func measure(ctx context.Context, clients, total int, op opFunc) (float64, *Latencies, error) {
	lat := &Latencies{}
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	t0 := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				s := time.Now()
				if err := op(ctx, c, i); err != nil {
					errc <- err
					return
				}
				lat.Add(time.Since(s))
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return 0, nil, err
	}
	return float64(total) / time.Since(t0).Seconds(), lat, nil
}

// metaTarget is what one metadata measurement runs against: the HTTP API
// of a child process, or the node service in this process.
type metaTarget struct {
	mkdir       func(ctx context.Context, parent, name string) (string, error)
	emptyUpload func(ctx context.Context, parent, name string) error
	listPage    func(ctx context.Context, parent, token string) (next string, n int, err error)
	query       func(ctx context.Context, filters string) error
}

// listAll lists folder page by page to its end, recording each page's
// latency in lat and counting pages, and checks it saw want children.
func (t metaTarget) listAll(ctx context.Context, folder string, want int, lat *Latencies, pages *atomic.Int64) error {
	tok, seen := "", 0
	for {
		s := time.Now()
		next, n, err := t.listPage(ctx, folder, tok)
		if err != nil {
			return err
		}
		lat.Add(time.Since(s))
		pages.Add(1)
		seen += n
		if next == "" {
			break
		}
		tok = next
	}
	if seen != want {
		return fmt.Errorf("listing saw %d children, want %d", seen, want)
	}
	return nil
}

func (r *runner) meta(ctx context.Context) error {
	c := r.cfg
	// Raw: the node service of an app opened in this process.
	rawDir := filepath.Join(c.Dir, "raw")
	a, err := app.Open(ctx, app.Config{DataDir: rawDir})
	if err != nil {
		return err
	}
	defer a.Close()
	tok, err := app.AdminToken(ctx, app.Config{DataDir: rawDir}, a.Meta, "bench", 0)
	if err != nil {
		return err
	}
	p, err := a.Tokens.Authenticate(ctx, tok)
	if err != nil {
		return err
	}
	pctx := drive.NewContext(ctx, p)
	svc := a.Nodes
	rawRoot, err := svc.Root(pctx)
	if err != nil {
		return err
	}
	raw := metaTarget{
		mkdir: func(ctx context.Context, parent, name string) (string, error) {
			n, err := svc.CreateFolder(pctx, nodes.NewNode{Name: name, Parents: []string{parent}})
			if err != nil {
				return "", err
			}
			return n.ID, nil
		},
		emptyUpload: func(ctx context.Context, parent, name string) error {
			_, err := svc.Upload(pctx, nodes.NewNode{Name: name, Parents: []string{parent}}, bytes.NewReader(nil), nodes.UploadOptions{})
			return err
		},
		listPage: func(ctx context.Context, parent, token string) (string, int, error) {
			pg, err := svc.List(pctx, nodes.ListOptions{Parent: parent, StartToken: token, Limit: nodes.MaxLimit})
			return pg.NextToken, len(pg.Nodes), err
		},
		query: func(ctx context.Context, filters string) error {
			_, err := svc.List(pctx, nodes.ListOptions{Filters: filters, Limit: 20})
			return err
		},
	}

	// HTTP: a fresh server so earlier sections do not weigh on it.
	srv := &Server{Bin: c.Bin, DataDir: filepath.Join(c.Dir, "meta-server"), Log: c.ServerLog,
		Args: []string{"--log-level", "warn", "--rate-per-token", "0", "--rate-per-user", "0", "--gc-interval", "0"}}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	defer srv.Stop()
	htok, hroot, err := r.login(ctx, srv, "bench")
	if err != nil {
		return err
	}
	mp := "multipart/form-data; boundary=" + boundary
	httpT := metaTarget{
		mkdir: func(ctx context.Context, parent, name string) (string, error) {
			b, _ := json.Marshal(acd.NewNode{Name: name, Kind: "FOLDER", Parents: []string{parent}})
			st, raw, err := r.call(ctx, srv.URL, htok, "POST", "/drive/v1/nodes", bytes.NewReader(b), -1, "")
			if err != nil {
				return "", err
			}
			if st != http.StatusCreated {
				return "", fmt.Errorf("mkdir: %d %s", st, raw)
			}
			var n acd.Node
			return n.ID, json.Unmarshal(raw, &n)
		},
		emptyUpload: func(ctx context.Context, parent, name string) error {
			meta, _ := json.Marshal(acd.NewNode{Name: name, Kind: "FILE", Parents: []string{parent}})
			body := fmt.Sprintf("--%s\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n%s\r\n--%s\r\nContent-Disposition: form-data; name=\"content\"; filename=\"e\"\r\n\r\n\r\n--%s--\r\n", boundary, meta, boundary, boundary)
			st, raw, err := r.call(ctx, srv.URL, htok, "POST", "/cdproxy/nodes", strings.NewReader(body), -1, mp)
			if err != nil {
				return err
			}
			if st != http.StatusCreated {
				return fmt.Errorf("upload: %d %s", st, raw)
			}
			return nil
		},
		listPage: func(ctx context.Context, parent, token string) (string, int, error) {
			path := "/drive/v1/nodes/" + parent + "/children?limit=200"
			if token != "" {
				path += "&startToken=" + token
			}
			var list acd.NodeList
			if err := r.getJSON(ctx, srv.URL, htok, path, &list); err != nil {
				return "", 0, err
			}
			return list.NextToken, len(list.Data), nil
		},
		query: func(ctx context.Context, filters string) error {
			var list acd.NodeList
			return r.getJSON(ctx, srv.URL, htok, "/drive/v1/nodes?limit=20&filters="+urlEscape(filters), &list)
		},
	}

	type side struct {
		name string
		t    metaTarget
		root string
		res  map[string]Row
	}
	sides := []*side{{name: "raw", t: raw, root: rawRoot.ID}, {name: "http", t: httpT, root: hroot}}
	ops := c.MetaOps
	for _, sd := range sides {
		sd.res = map[string]Row{}
		t := sd.t
		// One parent folder per client, so names never collide.
		parents := make([]string, c.Clients)
		for i := range parents {
			if parents[i], err = t.mkdir(ctx, sd.root, fmt.Sprintf("client-%d", i)); err != nil {
				return err
			}
		}
		rate, lat, err := measure(ctx, c.Clients, ops, func(ctx context.Context, cl, i int) error {
			_, err := t.mkdir(ctx, parents[cl], fmt.Sprintf("d%07d", i))
			return err
		})
		if err != nil {
			return fmt.Errorf("%s mkdir: %w", sd.name, err)
		}
		sd.res["mkdir"] = Row{Name: "folder creations", Value: rate, Unit: "ops/s", P50: lat.Percentile(50), P99: lat.Percentile(99)}
		rate, lat, err = measure(ctx, c.Clients, ops, func(ctx context.Context, cl, i int) error {
			return t.emptyUpload(ctx, parents[cl], fmt.Sprintf("e%07d.txt", i))
		})
		if err != nil {
			return fmt.Errorf("%s upload: %w", sd.name, err)
		}
		sd.res["upload"] = Row{Name: "uploads of empty files", Value: rate, Unit: "ops/s", P50: lat.Percentile(50), P99: lat.Percentile(99)}

		// The big folder, seeded straight into the store of each side: the
		// server's store is shared through its data directory.
		big, err := t.mkdir(ctx, sd.root, "big")
		if err != nil {
			return err
		}
		if sd.name == "raw" {
			if _, err := Seed(ctx, a.Meta, p.UserID, big, c.ListChildren, time.Now()); err != nil {
				return err
			}
		} else if err := seedUser(ctx, srv.DataDir, "bench", big, c.ListChildren); err != nil {
			return err
		}
		// Each client pages through the whole folder; pages are the unit.
		pagesPerList := (c.ListChildren + nodes.MaxLimit - 1) / nodes.MaxLimit
		lists := max(ops/pagesPerList, c.Clients)
		var pages atomic.Int64
		lat = &Latencies{}
		t0 := time.Now()
		_, _, err = measure(ctx, c.Clients, lists, func(ctx context.Context, cl, i int) error {
			return t.listAll(ctx, big, c.ListChildren, lat, &pages)
		})
		if err != nil {
			return fmt.Errorf("%s list: %w", sd.name, err)
		}
		sd.res["list"] = Row{Name: fmt.Sprintf("list a folder of %d (pages of 200)", c.ListChildren),
			Value: float64(pages.Load()) / time.Since(t0).Seconds(), Unit: "pages/s", P50: lat.Percentile(50), P99: lat.Percentile(99)}

		queries := []string{
			"kind:FILE AND name:item-00012*",
			"name:item-0000421.txt",
			"contentProperties.extension:pdf AND parents:" + big,
			"kind:FOLDER AND name:dir-00001*",
			"contentProperties.md5:" + md5Of(421),
			"labels:none OR (kind:FILE AND name:nothing*)",
		}
		rate, lat, err = measure(ctx, c.Clients, ops, func(ctx context.Context, cl, i int) error {
			return t.query(ctx, queries[i%len(queries)])
		})
		if err != nil {
			return fmt.Errorf("%s filter: %w", sd.name, err)
		}
		sd.res["filter"] = Row{Name: "filter queries (limit 20)", Value: rate, Unit: "queries/s", P50: lat.Percentile(50), P99: lat.Percentile(99)}
	}
	for _, k := range []string{"mkdir", "upload", "list", "filter"} {
		h, rw := sides[1].res[k], sides[0].res[k]
		h.Section = "meta"
		h.Name = fmt.Sprintf("%s, %d clients", h.Name, c.Clients)
		h.Ref, h.RefName = rw.Value, "raw store"
		h.Note = fmt.Sprintf("raw p50 %v p99 %v", rw.P50.Round(time.Microsecond), rw.P99.Round(time.Microsecond))
		r.add(h)
	}
	return nil
}

// seedUser seeds n nodes under parent for the user called name, through
// the metadata store in dir (SQLite lets this process write while the
// server runs on the same file).
func seedUser(ctx context.Context, dir, name, parent string, n int) error {
	m, err := app.OpenMeta(ctx, app.Config{DataDir: dir})
	if err != nil {
		return err
	}
	defer m.Close()
	var u *drive.User
	err = m.View(ctx, func(tx meta.Tx) error {
		var err error
		u, err = tx.UserByName(ctx, name)
		return err
	})
	if err != nil {
		return err
	}
	_, err = Seed(ctx, m, u.ID, parent, n, time.Now())
	return err
}
