package storeconfig_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/blob/s3/s3test"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
	"github.com/clouddrive/clouddrive/internal/nodes"
	"github.com/clouddrive/clouddrive/internal/storeconfig"
)

// populate fills an embedded instance in dir: two users, folders, files
// (one large enough for a multipart upload to S3), a property, a trashed
// file, tokens and settings.
func populate(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ctx := t.Context()
	a, err := app.Open(ctx, app.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	files := map[string][]byte{}
	for _, user := range []string{"alice", "bob"} {
		tok, err := app.AdminToken(ctx, app.Config{DataDir: dir}, a.Meta, user, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		p, err := a.Tokens.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		uctx := drive.NewContext(ctx, p)
		dirNode, err := a.Nodes.CreateFolder(uctx, nodes.NewNode{Name: "Docs", Labels: []string{"l1"}})
		if err != nil {
			t.Fatal(err)
		}
		for i, size := range []int{0, 1000, 9<<20 + 17} {
			data := make([]byte, size)
			_, _ = rand.NewChaCha8([32]byte{byte(i), user[0]}).Read(data)
			name := fmt.Sprintf("f%d.bin", i)
			n, err := a.Nodes.Upload(uctx, nodes.NewNode{Name: name, Parents: []string{dirNode.ID}}, bytes.NewReader(data), nodes.UploadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			files[user+"/"+name] = data
			if i == 1 {
				if err := a.Nodes.SetProperty(uctx, n.ID, p.App, "color", "blue"); err != nil {
					t.Fatal(err)
				}
			}
		}
		gone, err := a.Nodes.Upload(uctx, nodes.NewNode{Name: "gone.txt"}, strings.NewReader("trash me "+user), nodes.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Nodes.Trash(uctx, gone.ID); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// dump returns every row of every table of s, as text, sorted.
func dump(t *testing.T, s *sqlstore.Store) map[string][]string {
	t.Helper()
	ctx := t.Context()
	var q string
	if s.Dialect.Name == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	} else {
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	}
	rows, err := s.Read.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != "goose_db_version" && n != "rate_limits" {
			tables = append(tables, n)
		}
	}
	rows.Close()
	out := map[string][]string{}
	for _, tb := range tables {
		out[tb] = dumpTable(t, s.Read, tb)
	}
	return out
}

func dumpTable(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT * FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	slices.Sort(cols)
	lines := []string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			switch x := v.(type) {
			case []byte:
				v = string(x)
			case int32:
				v = int64(x)
			}
			fmt.Fprintf(&b, "%d=%v;", i, v)
		}
		lines = append(lines, b.String())
	}
	slices.Sort(lines)
	return lines
}

func openStore(t *testing.T, db, dataDir string) *sqlstore.Store {
	t.Helper()
	s, err := storeconfig.OpenMeta(t.Context(), db, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestCopyRoundTrip copies an embedded instance's metadata to PostgreSQL
// and back to a new SQLite file, and its blobs to S3 and back to a
// directory: every table and blob arrives unchanged.
func TestCopyRoundTrip(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	files := populate(t, dir)
	src := openStore(t, "", dir)
	want := dump(t, src)
	if len(want["nodes"]) < 10 || len(want["settings"]) == 0 {
		t.Fatalf("populated store has %d nodes and %d settings", len(want["nodes"]), len(want["settings"]))
	}

	pg := openStore(t, pgtest.Schema(t), "")
	if _, err := storeconfig.CopyMeta(ctx, pg, src); err != nil {
		t.Fatalf("CopyMeta(sqlite -> postgres) error: %v", err)
	}
	if diff := gocmp.Diff(want, dump(t, pg)); diff != "" {
		t.Errorf("postgres copy differs (-sqlite +postgres):\n%s", diff)
	}
	if _, err := storeconfig.CopyMeta(ctx, pg, src); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second CopyMeta into the same database error = %v, want 'not empty'", err)
	}

	back := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "back.db"), "")
	if _, err := storeconfig.CopyMeta(ctx, back, pg); err != nil {
		t.Fatalf("CopyMeta(postgres -> sqlite) error: %v", err)
	}
	if diff := gocmp.Diff(want, dump(t, back)); diff != "" {
		t.Errorf("sqlite copy of the postgres copy differs (-want +got):\n%s", diff)
	}

	local, err := storeconfig.OpenBlobs(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	s3cfg := s3test.Fake(t)
	s3cfg.AccessKey, s3cfg.SecretKey = "", ""
	t.Setenv("AWS_ACCESS_KEY_ID", "fake")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
	remote, err := storeconfig.OpenBlobs(ctx, s3test.URL(s3cfg), "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := storeconfig.CopyBlobs(ctx, remote, local, 3, nil)
	if err != nil {
		t.Fatalf("CopyBlobs(local -> s3) error: %v", err)
	}
	refs, err := storeconfig.ReferencedBlobs(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Copied != len(refs) || st.Skipped != 0 {
		t.Errorf("CopyBlobs = %+v, want %d copied", st, len(refs))
	}
	if bad, err := storeconfig.CheckBlobs(ctx, remote, refs); err != nil || len(bad) != 0 {
		t.Errorf("CheckBlobs(s3) = %v, %v; want none missing", bad, err)
	}
	st, err = storeconfig.CopyBlobs(ctx, remote, local, 3, nil)
	if err != nil || st.Copied != 0 || st.Skipped != len(refs) {
		t.Errorf("second CopyBlobs = %+v, %v; want all %d skipped", st, err, len(refs))
	}
	// Every file reads back from S3 through the copied metadata.
	rows, err := pg.Read.QueryContext(ctx, `SELECT u.name, n.name, n.blob_key FROM nodes n JOIN users u ON u.id = n.user_id WHERE n.kind = 'FILE' AND n.status = 'AVAILABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var user, name, key string
		if err := rows.Scan(&user, &name, &key); err != nil {
			t.Fatal(err)
		}
		rc, err := remote.Open(ctx, key, 0, -1)
		if err != nil {
			t.Fatalf("Open(%s/%s) from S3: %v", user, name, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, files[user+"/"+name]) {
			t.Errorf("%s/%s from S3: %d bytes, %v; want the %d uploaded", user, name, len(got), err, len(files[user+"/"+name]))
		}
		seen++
	}
	if seen != len(files) {
		t.Errorf("read back %d files, want %d", seen, len(files))
	}
}

// TestCopyBlobsDetectsCorruption checks that a source blob whose bytes do
// not hash to its key is refused.
func TestCopyBlobsDetectsCorruption(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	local, err := storeconfig.OpenBlobs(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := local.Put(ctx, strings.NewReader("original"), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "blobs", info.Key[0:2], info.Key[2:4], info.Key)
	if err := writeFile(p, "tampered"); err != nil {
		t.Fatal(err)
	}
	other, err := storeconfig.OpenBlobs(ctx, filepath.Join(t.TempDir(), "other"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storeconfig.CopyBlobs(ctx, other, local, 1, nil); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("CopyBlobs of a corrupt blob error = %v, want a mismatch", err)
	}
	if n := count(t, other); n != 0 {
		t.Errorf("destination holds %d blobs after a refused copy", n)
	}
}

func count(t *testing.T, b blob.Store) int {
	t.Helper()
	es, err := b.List(t.Context(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
