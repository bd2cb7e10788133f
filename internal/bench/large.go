package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/app"
	s3blob "github.com/clouddrive/clouddrive/internal/blob/s3"
	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/httpapi"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
	"github.com/clouddrive/clouddrive/internal/storeconfig"
)

// The changes section: one large account (ChangesNodes nodes: a folder of
// ListChildren children, the rest in folders of 1,000), on the embedded
// stores and, when Config.LargeDB is set, again on PostgreSQL (and
// LargeBlobs, e.g. S3). On each it measures, over HTTP against a serve
// child process:
//
//   - a full first sync through POST /changes (every line decoded, as a
//     client does), with the default chunkSize and with 10,000, against
//     the feed read in-process;
//   - incremental polls: 100 nodes changed (PATCH from 8 clients), then one
//     POST /changes from the last checkpoint, which must bring those 100;
//   - pages of 200 of the large folder, and filter queries (limit 20),
//     from one client (latency) and from Clients clients, against the node
//     service in-process ("raw store").

// pollChanges is the number of nodes changed before each incremental poll.
const pollChanges = 100

// largeStores is one backend of the changes section.
type largeStores struct {
	name      string // row section suffix
	db, blobs string // app.Config.DB and Blobs; "" for the embedded stores
	cleanup   func()
}

func (r *runner) changes(ctx context.Context) error {
	c := r.cfg
	stores := []largeStores{{name: "sqlite"}}
	if c.LargeDB != "" {
		ls, err := scaleOutStores(ctx, c.LargeDB, c.LargeBlobs)
		if err != nil {
			return err
		}
		defer ls.cleanup()
		stores = append(stores, ls)
	}
	for _, st := range stores {
		r.progress("  %s:", st.name)
		if err := r.large(ctx, st, stores[0]); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
	}
	return nil
}

// copyAccount fills the stores of st with a copy of the SQLite database of
// from, as clouddrive admin migrate copies it (seeding PostgreSQL through
// one transaction per node write takes about 15 times as long), then has
// PostgreSQL vacuum and analyze it, as autovacuum soon would.
func (r *runner) copyAccount(ctx context.Context, st, from largeStores) error {
	src, err := storeconfig.OpenMeta(ctx, "", filepath.Join(r.cfg.Dir, "changes-"+from.name))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := storeconfig.OpenMeta(ctx, st.db, filepath.Join(r.cfg.Dir, "changes-"+st.name))
	if err != nil {
		return err
	}
	defer dst.Close()
	if _, err := storeconfig.CopyMeta(ctx, dst, src); err != nil {
		return err
	}
	_, err = dst.Write.ExecContext(ctx, `VACUUM ANALYZE`)
	return err
}

// scaleOutStores returns a fresh schema of the PostgreSQL database db and a
// fresh prefix of the bucket of blobs (if set), dropped again by cleanup.
func scaleOutStores(ctx context.Context, db, blobs string) (largeStores, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	tag := "clouddrive_bench_" + hex.EncodeToString(b[:])
	ls := largeStores{name: "pg", cleanup: func() {}}
	if _, err := storeconfig.ParseDB(db, ""); err != nil || !strings.Contains(db, "://") || !strings.HasPrefix(db, "postgres") {
		return ls, fmt.Errorf("--db %q: want a postgres:// URL", db)
	}
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return ls, fmt.Errorf("--db: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+tag); err != nil {
		return ls, fmt.Errorf("--db: %w", err)
	}
	u, err := url.Parse(db)
	if err != nil {
		return ls, err
	}
	q := u.Query()
	q.Set("search_path", tag)
	u.RawQuery = q.Encode()
	ls.db = u.String()
	ls.cleanup = func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if conn, err := pgx.Connect(ctx, db); err == nil {
			_, _ = conn.Exec(ctx, `DROP SCHEMA `+tag+` CASCADE`)
			conn.Close(ctx)
		}
	}
	if blobs != "" {
		bu, err := url.Parse(blobs)
		if err != nil {
			return ls, fmt.Errorf("--blobs: %w", err)
		}
		bu.Path = strings.TrimSuffix(bu.Path, "/") + "/" + tag
		ls.blobs = bu.String()
		if bu.Scheme == "s3" {
			ls.name = "pg+s3"
			if err := ensureBucket(ctx, ls.blobs); err != nil {
				return ls, err
			}
		}
	}
	return ls, nil
}

// ensureBucket creates the bucket of an s3:// --blobs URL unless it
// exists. (The section writes no blobs: its files have metadata only.)
func ensureBucket(ctx context.Context, blobs string) error {
	b, err := storeconfig.ParseBlobs(blobs, "")
	if err != nil {
		return err
	}
	c, err := s3blob.NewClient(ctx, b.S3)
	if err != nil {
		return err
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &b.S3.Bucket}); err == nil {
		return nil
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.S3.Bucket}); err != nil {
		return fmt.Errorf("--blobs: create bucket %s: %w", b.S3.Bucket, err)
	}
	return nil
}

// large runs the changes section on one backend: it seeds the account on
// the first (SQLite), and copies that account to the others.
func (r *runner) large(ctx context.Context, st, first largeStores) error {
	c := r.cfg
	dir := filepath.Join(c.Dir, "changes-"+st.name)
	cfg := app.Config{DataDir: dir, DB: st.db, Blobs: st.blobs}
	t0 := time.Now()
	if st.name != first.name {
		if err := r.copyAccount(ctx, st, first); err != nil {
			return err
		}
		r.progress("  copied the account of %s in %v", first.name, time.Since(t0).Round(time.Millisecond))
	}
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
	var big string
	err = m.View(ctx, func(tx meta.Tx) error {
		var err error
		if u, err = tx.UserByName(ctx, "sync"); err != nil {
			return err
		}
		big, err = tx.ChildByName(ctx, u.RootID, "big")
		return err
	})
	if err != nil {
		m.Close()
		return err
	}
	if big == "" {
		if big, err = seedTree(ctx, m, u, c.ChangesNodes, c.ListChildren); err != nil {
			m.Close()
			return err
		}
		r.progress("  seeded %d nodes in %v", c.ChangesNodes, time.Since(t0).Round(time.Millisecond))
	}

	// Raw: the feed read in-process, as the server reads it.
	feed := &changes.Feed{Meta: m, Render: httpapi.NodeWire}
	t0 = time.Now()
	rawNodes := 0
	if _, err := feed.Stream(ctx, u.ID, changes.Request{}, func(s changes.Set) error { rawNodes += s.Len(); return nil }); err != nil {
		m.Close()
		return err
	}
	rawDur := time.Since(t0)
	m.Close()

	args := []string{"--log-level", "warn", "--rate-per-token", "0", "--rate-per-user", "0", "--gc-interval", "0"}
	if st.db != "" {
		args = append(args, "--db", st.db)
	}
	if st.blobs != "" {
		args = append(args, "--blobs", st.blobs)
	}
	srv := &Server{Bin: c.Bin, DataDir: dir, Log: c.ServerLog, Args: args}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	defer srv.Stop()
	sec, lsec := "changes/"+st.name, "large/"+st.name
	for _, chunk := range []int{0, changes.MaxChunkSize} {
		n, d, _, err := r.sync(ctx, srv.URL, tok, fmt.Sprintf(`{"chunkSize":%d}`, chunk))
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
		r.add(Row{Section: sec, Name: fmt.Sprintf("%s (%d nodes, %v)", name, n, d.Round(time.Millisecond)),
			Value: float64(n) / d.Seconds(), Unit: "nodes/s", Ref: float64(rawNodes) / rawDur.Seconds(), RefName: "raw feed",
			Target: ">= 200000 nodes/s"})
	}
	if err := r.polls(ctx, srv.URL, tok, sec, big); err != nil {
		return err
	}

	// Listing and filters: over HTTP, then through the node service in
	// this process with the server stopped.
	htarget := r.httpTarget(srv.URL, tok)
	rows, err := r.largeReads(ctx, htarget, big)
	if err != nil {
		return err
	}
	srv.Stop()
	a, err := app.Open(ctx, app.Config{DataDir: dir, DB: st.db, Blobs: st.blobs, WebhookPoll: -1})
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.Tokens.Authenticate(ctx, tok)
	if err != nil {
		return err
	}
	raw, err := r.largeReads(ctx, rawTarget(drive.NewContext(ctx, p), a.Nodes), big)
	if err != nil {
		return err
	}
	for i, row := range rows {
		row.Section = lsec
		row.Ref, row.RefName = raw[i].Value, "raw store"
		row.Note = fmt.Sprintf("raw p50 %v p99 %v", raw[i].P50.Round(time.Microsecond), raw[i].P99.Round(time.Microsecond))
		r.add(row)
	}
	return nil
}

// seedTree seeds n nodes for u: a folder "big" of bigChildren children and
// the rest in folders of 1,000 under the root. It returns big's id.
func seedTree(ctx context.Context, m meta.Store, u *drive.User, n, bigChildren int) (string, error) {
	const per = 1000
	bigChildren = min(bigChildren, n-1)
	left := n - 1 - bigChildren
	names := []string{"big"}
	for i := range (left + per) / (per + 1) {
		names = append(names, fmt.Sprintf("folder-%05d", i))
	}
	folders, err := seedFolders(ctx, m, u, names)
	if err != nil {
		return "", err
	}
	if _, err := Seed(ctx, m, u.ID, folders[0], bigChildren, time.Now()); err != nil {
		return "", err
	}
	left -= len(folders) - 1
	for i := 0; left > 0; i++ {
		k := min(per, left)
		if _, err := Seed(ctx, m, u.ID, folders[1+i%(len(folders)-1)], k, time.Now()); err != nil {
			return "", err
		}
		left -= k
	}
	return folders[0], nil
}

// seedFolders creates folders of the given names under u's root in one
// transaction, as Seed writes nodes, and returns their ids.
func seedFolders(ctx context.Context, m meta.Store, u *drive.User, names []string) ([]string, error) {
	now := time.Now()
	var ids []string
	err := m.Update(ctx, func(tx meta.Tx) error {
		ids = ids[:0]
		for _, name := range names {
			seq, err := tx.NextSeq(ctx, u.ID)
			if err != nil {
				return err
			}
			f := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder, Name: name, Status: drive.StatusAvailable,
				Labels: []string{}, Parents: []string{u.RootID}, CreatedAt: now, ModifiedAt: now, CreatedBy: "clouddrive-bench",
				Version: 1, ChangeSeq: seq}
			if err := tx.AppendChange(ctx, drive.Change{UserID: u.ID, Seq: seq, NodeID: f.ID, Event: drive.EventCreated, At: now}); err != nil {
				return err
			}
			if err := tx.InsertNode(ctx, f); err != nil {
				return err
			}
			ids = append(ids, f.ID)
		}
		return nil
	})
	return ids, err
}

// sync posts body to the changes feed as a new client does, decoding every
// line, and returns the number of nodes, the time it took and the last
// checkpoint.
func (r *runner) sync(ctx context.Context, base, token, body string) (int, time.Duration, string, error) {
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/drive/v1/changes", strings.NewReader(body))
	if err != nil {
		return 0, 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, "", fmt.Errorf("changes: %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 512<<20)
	n, cp := 0, ""
	for sc.Scan() {
		var set acd.ChangeSet
		if err := json.Unmarshal(sc.Bytes(), &set); err != nil {
			return 0, 0, "", err
		}
		n += len(set.Nodes)
		if set.Checkpoint != "" {
			cp = set.Checkpoint
		}
		if set.Checkpoint == "" && len(set.Nodes) == 0 && bytes.Contains(sc.Bytes(), []byte(`"end"`)) {
			return n, time.Since(t0), cp, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, "", err
	}
	return 0, 0, "", fmt.Errorf("changes: no end marker")
}

// polls times incremental syncs of pollChanges changes each.
func (r *runner) polls(ctx context.Context, base, token, section, big string) error {
	_, _, cp, err := r.sync(ctx, base, token, `{}`)
	if err != nil {
		return err
	}
	var list acd.NodeList
	if err := r.getJSON(ctx, base, token, "/drive/v1/nodes/"+big+"/children?limit=200", &list); err != nil {
		return err
	}
	if len(list.Data) < pollChanges {
		return fmt.Errorf("big folder has %d children, want %d", len(list.Data), pollChanges)
	}
	const rounds = 30
	lat := &Latencies{}
	for round := range rounds {
		_, _, err := measure(ctx, r.cfg.Clients, pollChanges, func(ctx context.Context, _, i int) error {
			body := fmt.Sprintf(`{"description":"poll %d"}`, round)
			st, raw, err := r.call(ctx, base, token, "PATCH", "/drive/v1/nodes/"+list.Data[i].ID, strings.NewReader(body), -1, "")
			if err != nil {
				return err
			}
			if st != http.StatusOK {
				return fmt.Errorf("PATCH: %d %s", st, raw)
			}
			return nil
		})
		if err != nil {
			return err
		}
		n, d, next, err := r.sync(ctx, base, token, fmt.Sprintf(`{"checkpoint":%q}`, cp))
		if err != nil {
			return err
		}
		if n != pollChanges {
			return fmt.Errorf("incremental sync saw %d nodes, want %d", n, pollChanges)
		}
		lat.Add(d)
		cp = next
	}
	p50 := lat.Percentile(50)
	r.add(Row{Section: section, Name: fmt.Sprintf("incremental sync of %d changes (%d polls)", pollChanges, rounds),
		Value: float64(p50) / float64(time.Millisecond), Unit: "ms", P50: p50, P99: lat.Percentile(99), Target: "< 5 ms"})
	return nil
}

// httpTarget lists and queries through the HTTP API.
func (r *runner) httpTarget(base, token string) metaTarget {
	return metaTarget{
		listPage: func(ctx context.Context, parent, start string) (string, int, error) {
			path := "/drive/v1/nodes/" + parent + "/children?limit=200"
			if start != "" {
				path += "&startToken=" + url.QueryEscape(start)
			}
			var list acd.NodeList
			if err := r.getJSON(ctx, base, token, path, &list); err != nil {
				return "", 0, err
			}
			return list.NextToken, len(list.Data), nil
		},
		query: func(ctx context.Context, filters string) error {
			var list acd.NodeList
			return r.getJSON(ctx, base, token, "/drive/v1/nodes?limit=20&filters="+url.QueryEscape(filters), &list)
		},
	}
}

// rawTarget lists and queries through the node service.
func rawTarget(pctx context.Context, svc *nodes.Service) metaTarget {
	return metaTarget{
		listPage: func(ctx context.Context, parent, start string) (string, int, error) {
			pg, err := svc.List(pctx, nodes.ListOptions{Parent: parent, StartToken: start, Limit: nodes.MaxLimit})
			return pg.NextToken, len(pg.Nodes), err
		},
		query: func(ctx context.Context, filters string) error {
			_, err := svc.List(pctx, nodes.ListOptions{Filters: filters, Limit: 20})
			return err
		},
	}
}

// largeReads pages through the big folder and runs filter queries, from
// one client and from Clients clients.
func (r *runner) largeReads(ctx context.Context, t metaTarget, big string) ([]Row, error) {
	c := r.cfg
	queries := []string{
		"kind:FILE AND name:item-00012*",
		"name:item-0000421.txt",
		"contentProperties.extension:pdf AND parents:" + big,
		"kind:FOLDER AND name:dir-00001*",
		"contentProperties.md5:" + md5Of(421),
		"labels:none OR (kind:FILE AND name:nothing*)",
	}
	children := min(c.ListChildren, c.ChangesNodes-1)
	pagesPerList := (children + nodes.MaxLimit - 1) / nodes.MaxLimit
	var rows []Row
	for _, clients := range []int{1, c.Clients} {
		lists := max(c.MetaOps/4/pagesPerList, clients)
		var pages atomic.Int64
		lat := &Latencies{}
		t0 := time.Now()
		_, _, err := measure(ctx, clients, lists, func(ctx context.Context, _, _ int) error {
			return t.listAll(ctx, big, children, lat, &pages)
		})
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		rows = append(rows, Row{Name: fmt.Sprintf("pages of 200 of a folder of %d in an account of %d, %d clients", children, c.ChangesNodes, clients),
			Value: float64(pages.Load()) / time.Since(t0).Seconds(), Unit: "pages/s", P50: lat.Percentile(50), P99: lat.Percentile(99),
			Target: "p50 < 20 ms"})
		rate, lat, err := measure(ctx, clients, max(c.MetaOps/4, 6*clients), func(ctx context.Context, _, i int) error {
			return t.query(ctx, queries[i%len(queries)])
		})
		if err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		rows = append(rows, Row{Name: fmt.Sprintf("filter queries (limit 20) in an account of %d, %d clients", c.ChangesNodes, clients),
			Value: rate, Unit: "queries/s", P50: lat.Percentile(50), P99: lat.Percentile(99), Target: "p99 < 50 ms"})
	}
	return rows, nil
}
