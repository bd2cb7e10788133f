package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/blob/s3/s3test"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
)

// migratedFile is a file of the populated instance.
type migratedFile struct {
	user, id, path string
	data           []byte
}

// TestMigrateEmbeddedToPostgresS3 populates an embedded instance (SQLite
// and a blob directory), moves it with `clouddrive admin migrate` to
// PostgreSQL and S3, serves the result with `clouddrive serve` and checks
// that every file reads back byte for byte, under the same ids, with the
// same tokens, trash, properties and change checkpoints.
func TestMigrateEmbeddedToPostgresS3(t *testing.T) {
	pgtest.BaseDSN(t)
	s3test.Endpoint(t)
	dir := t.TempDir()
	s := drivetest.New(t, drivetest.Options{DataDir: dir, Stores: "embedded"})

	var files []migratedFile
	tokens := map[string]string{}
	checkpoints := map[string]string{}
	var trashedID, propID string
	for ui, user := range []string{"ann", "ben"} {
		tok := s.Token(user)
		tokens[user] = tok
		a := api{t, s.URL, tok}
		root := rootID(t, a)
		var docs, photos acd.Node
		a.do("POST", "/drive/v1/nodes", acd.NewNode{Name: "Docs", Kind: "FOLDER", Parents: []string{root}}, &docs)
		a.do("POST", "/drive/v1/nodes", acd.NewNode{Name: "Photos", Kind: "FOLDER", Parents: []string{docs.ID}, Labels: []string{"pics"}}, &photos)
		for i, size := range []int{0, 1, 4096, 9<<20 + 3, 17<<20 + 1} {
			parent, dirName := docs.ID, "Docs"
			if i%2 == 1 {
				parent, dirName = photos.ID, "Docs/Photos"
			}
			data := randomBytes(size, uint64(100*ui+i))
			name := fmt.Sprintf("file-%d.bin", i)
			code, raw := streamUpload(t, s.URL, tok, parent, name, bytes.NewReader(data))
			if code != http.StatusCreated {
				t.Fatalf("upload %s = %d %s", name, code, raw)
			}
			var n acd.Node
			_ = json.Unmarshal(raw, &n)
			files = append(files, migratedFile{user: user, id: n.ID, path: dirName + "/" + name, data: data})
		}
		// A second parent, a property, a trashed file.
		shared := files[len(files)-1]
		if code, raw := a.do("PUT", "/drive/v1/nodes/"+root+"/children/"+shared.id, nil, nil); code != http.StatusOK {
			t.Fatalf("add child = %d %s", code, raw)
		}
		if ui == 0 {
			propID = shared.id
			if code, raw := a.do("PUT", "/drive/v1/nodes/"+shared.id+"/properties/"+"clouddrive-admin"+"/color", `{"value":"blue"}`, nil); code != http.StatusOK && code != http.StatusCreated {
				t.Fatalf("property = %d %s", code, raw)
			}
			code, raw := streamUpload(t, s.URL, tok, root, "trashed.txt", strings.NewReader("in the trash"))
			if code != http.StatusCreated {
				t.Fatalf("upload = %d %s", code, raw)
			}
			var n acd.Node
			_ = json.Unmarshal(raw, &n)
			trashedID = n.ID
			a.do("PUT", "/drive/v1/trash/"+n.ID, nil, nil)
		}
		_, checkpoints[user] = changeFeed(t, a, "")
	}
	s.Close()

	bin := buildReplicaBinary(t)
	dbURL, s3cfg := pgtest.Schema(t), s3test.Real(t)
	blobsURL := s3test.URL(s3cfg)
	out := runBinary(t, bin, nil, "admin", "migrate", "--data", dir, "--to-db", dbURL, "--to-blobs", blobsURL)
	t.Logf("migrate: %s", out)
	if !strings.Contains(out, "verified: all") {
		t.Errorf("migrate output %q lacks the verification line", out)
	}
	// Running it again is refused: the destination database is not empty.
	cmd := runBinaryErr(bin, "admin", "migrate", "--data", dir, "--to-db", dbURL, "--to-blobs", blobsURL)
	if cmd == nil || !strings.Contains(cmd.Error(), "not empty") {
		t.Errorf("second migrate error = %v, want 'not empty'", cmd)
	}

	r := startReplica(t, bin, "migrated", []string{"CLOUDDRIVE_DB=" + dbURL, "CLOUDDRIVE_BLOBS=" + blobsURL})
	for _, f := range files {
		a := api{t, r.url, tokens[f.user]} // tokens were migrated too
		code, got := a.do("GET", "/cdproxy/nodes/"+f.id+"/content", nil, nil)
		if code != http.StatusOK || !bytes.Equal(got, f.data) {
			t.Errorf("%s %s after migration = %d, %d bytes; want 200 and the %d uploaded", f.user, f.path, code, len(got), len(f.data))
		}
		var n acd.Node
		a.do("GET", "/drive/v1/nodes/"+f.id, nil, &n)
		if want := f.path[strings.LastIndex(f.path, "/")+1:]; n.Name != want || n.Status != "AVAILABLE" {
			t.Errorf("node %s after migration = %q %s, want %q AVAILABLE", f.id, n.Name, n.Status, want)
		}
	}
	ann := api{t, r.url, tokens["ann"]}
	var shared acd.Node
	ann.do("GET", "/drive/v1/nodes/"+propID, nil, &shared)
	if len(shared.Parents) != 2 {
		t.Errorf("multi-parent file after migration has parents %v", shared.Parents)
	}
	if code, raw := ann.do("GET", "/drive/v1/nodes/"+propID+"/properties/clouddrive-admin/color", nil, nil); code != http.StatusOK || !strings.Contains(string(raw), "blue") {
		t.Errorf("property after migration = %d %s", code, raw)
	}
	var trash acd.NodeList
	ann.do("GET", "/drive/v1/trash", nil, &trash)
	if !slices.ContainsFunc(trash.Data, func(n *acd.Node) bool { return n.ID == trashedID }) {
		t.Errorf("trash after migration = %d nodes, want %s among them", len(trash.Data), trashedID)
	}
	for user, cp := range checkpoints {
		if seq, got := changeFeed(t, api{t, r.url, tokens[user]}, cp); len(seq) != 0 || got != cp {
			t.Errorf("changes of %s since the pre-migration checkpoint = %v at %s, want none at %s", user, seq, got, cp)
		}
	}
	// The migrated instance takes writes.
	root := rootID(t, ann)
	if code, raw := streamUpload(t, r.url, tokens["ann"], root, "after-migration.txt", strings.NewReader("new")); code != http.StatusCreated {
		t.Errorf("upload after migration = %d %s", code, raw)
	}
}

// runBinaryErr runs the binary and returns its error, with stderr in the
// message.
func runBinaryErr(bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, stderr.String())
	}
	return nil
}
