package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/httpapi"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// postChanges posts body to base's changes feed and returns the raw
// stream.
func postChanges(t *testing.T, base, token, body string) []byte {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/drive/v1/changes", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("changes %s: %d %s", body, resp.StatusCode, raw)
	}
	return raw
}

// TestChangesWireBytes checks that the changes stream built from the
// stored node JSON (the server's path) is byte for byte the stream of
// encoding every node afresh (the feed without a renderer), for full and
// incremental syncs, chunk sizes, maxNodes and includePurged, over nodes
// of every shape, and also when some rows have no stored JSON (written
// by a store without a renderer), which the feed renders itself.
func TestChangesWireBytes(t *testing.T) {
	ctx := context.Background()
	s := drivetest.New(t, drivetest.Options{Stores: "embedded"})
	tok := s.Token("alice")
	a := s.App
	p, err := a.Tokens.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	pctx := drive.NewContext(ctx, p)
	svc := a.Nodes
	root, err := svc.Root(pctx)
	if err != nil {
		t.Fatal(err)
	}
	must := func(n *drive.Node, err error) *drive.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	dir := must(svc.CreateFolder(pctx, nodes.NewNode{Name: `<b>&"x"<\b> \ ü – ` + "\u2028", Parents: []string{root.ID},
		Labels: []string{"l<1>", "l&2"}, Description: "<script>alert(1)</script>"}))
	other := must(svc.CreateFolder(pctx, nodes.NewNode{Name: "other", Parents: []string{root.ID}}))
	var files []*drive.Node
	for i, name := range []string{"a.txt", "photo.JPG", "no-extension", "page.html", "e.pdf", "f.bin"} {
		files = append(files, must(svc.Upload(pctx, nodes.NewNode{Name: name, Parents: []string{dir.ID}},
			strings.NewReader(strings.Repeat("x", i*10)), nodes.UploadOptions{})))
	}
	checkpoint := func() string {
		t.Helper()
		raw := postChanges(t, s.URL, tok, `{}`)
		lines := bytes.Split(raw, []byte("\n"))
		var set struct{ Checkpoint string }
		if err := json.Unmarshal(lines[len(lines)-2], &set); err != nil {
			t.Fatal(err)
		}
		return set.Checkpoint
	}
	cp := checkpoint()
	desc, name := "described & <changed>", "renamed <é>.txt"
	must(svc.Update(pctx, files[0].ID, nodes.Patch{Name: &name, Description: &desc, Labels: &[]string{"b", "a"}}))
	must(svc.AddParent(pctx, other.ID, files[1].ID))
	must(svc.Trash(pctx, files[2].ID))
	must(svc.Trash(pctx, files[3].ID))
	must(svc.Restore(pctx, files[3].ID))
	if _, err := svc.Purge(pctx, files[4].ID); err != nil {
		t.Fatal(err)
	}
	must(svc.Overwrite(pctx, files[5].ID, strings.NewReader("new content"), nodes.UploadOptions{}))

	// The same server without stored JSON: the feed encodes every node.
	slow := &httpapi.Server{Nodes: svc, Feed: &changes.Feed{Meta: a.Meta}, Tokens: a.Tokens, Links: a.API.Links,
		Logger: a.API.Logger, Now: a.API.Now}
	ref := httptest.NewServer(slow.Handler())
	defer ref.Close()

	bodies := []string{`{}`, `{"chunkSize":1}`, `{"chunkSize":3}`, `{"chunkSize":2,"maxNodes":3}`,
		fmt.Sprintf(`{"checkpoint":%q}`, cp), fmt.Sprintf(`{"checkpoint":%q,"includePurged":"true","chunkSize":2}`, cp)}
	compare := func(when string) {
		t.Helper()
		for _, body := range bodies {
			got, want := postChanges(t, s.URL, tok, body), postChanges(t, ref.URL, tok, body)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: changes %s from stored JSON differ from encoding the nodes:\n got: %s\nwant: %s", when, body, got, want)
			}
		}
	}
	compare("stored JSON")

	// Rows written by a store without a renderer have none.
	plain, err := app.OpenMeta(ctx, app.Config{DataDir: s.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	type wireSetter interface{ SetWire(meta.WireFunc) }
	plain.(wireSetter).SetWire(nil)
	psvc := app.NewNodes(app.Config{DataDir: s.DataDir}, plain, a.Blobs)
	for _, f := range files[:2] {
		n := "plain " + f.Name
		must(psvc.Update(pctx, f.ID, nodes.Patch{Name: &n}))
	}
	missing := 0
	err = a.Meta.View(ctx, func(tx meta.Tx) error {
		rows, err := tx.ChangedWire(ctx, p.UserID, -1, 100, nil)
		for _, r := range rows {
			if r.JSON == nil {
				missing++
			}
		}
		return err
	})
	if err != nil || missing != 2 {
		t.Fatalf("rows without stored JSON = %d, %v; want 2", missing, err)
	}
	compare("some rows without stored JSON")
}
