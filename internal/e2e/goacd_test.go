package e2e_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	goacd "github.com/ncw/go-acd"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestGoACD drives the server with github.com/ncw/go-acd, unmodified.
func TestGoACD(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})

	t.Run("Endpoints", func(t *testing.T) {
		c, _ := newClient(t, s, "endpoints")
		ep, _, err := c.Account.GetEndpoints()
		if err != nil {
			t.Fatal(err)
		}
		if ep.MetadataURL != s.MetadataURL() || ep.ContentURL != s.ContentURL() {
			t.Errorf("GetEndpoints = %q, %q; want %q, %q", ep.MetadataURL, ep.ContentURL, s.MetadataURL(), s.ContentURL())
		}
		info, _, err := c.Account.GetInfo()
		if err != nil || *info.Status != "ACTIVE" {
			t.Errorf("GetInfo = %+v, %v", info, err)
		}
		q, _, err := c.Account.GetQuota()
		if err != nil || q.Quota == nil || *q.Available > *q.Quota {
			t.Errorf("GetQuota = %+v, %v", q, err)
		}
		if _, _, err := c.Account.GetUsage(); err != nil {
			t.Errorf("GetUsage: %v", err)
		}
	})

	t.Run("RootAndFolders", func(t *testing.T) {
		c, _ := newClient(t, s, "folders")
		root, _, err := c.Nodes.GetRoot()
		if err != nil {
			t.Fatalf("GetRoot: %v", err)
		}
		if root.Name != nil && *root.Name != "" {
			t.Errorf("root has name %q", *root.Name)
		}
		dir, _, err := root.CreateFolder("Photos")
		if err != nil {
			t.Fatalf("CreateFolder: %v", err)
		}
		_, resp, err := root.CreateFolder("PHOTOS")
		if status(resp) != http.StatusConflict || err == nil {
			t.Errorf("CreateFolder(duplicate, other case) = %d, %v; want 409", status(resp), err)
		}
		got, _, err := root.GetFolder("photos")
		if err != nil || *got.Id != *dir.Id {
			t.Errorf("GetFolder(case-insensitive) = %v, %v; want %s", got, err, *dir.Id)
		}
		if _, _, err := root.GetFolder("nope"); !errors.Is(err, goacd.ErrorNodeNotFound) {
			t.Errorf("GetFolder(missing) err = %v, want ErrorNodeNotFound", err)
		}
	})

	t.Run("UploadDownload", func(t *testing.T) {
		c, tok := newClient(t, s, "upload")
		root, _, err := c.Nodes.GetRoot()
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			size int
		}{{"empty.txt", 0}, {"small.bin", 5000}, {"large.bin", 24 << 20}} {
			data := randomBytes(tc.size, uint64(tc.size))
			f, _, err := root.Put(bytes.NewReader(data), tc.name)
			if err != nil {
				t.Fatalf("Put(%s): %v", tc.name, err)
			}
			if *f.ContentProperties.Size != uint64(tc.size) || *f.ContentProperties.Md5 != md5hex(data) {
				t.Errorf("Put(%s) = size %d md5 %s; want %d %s", tc.name, *f.ContentProperties.Size, *f.ContentProperties.Md5, tc.size, md5hex(data))
			}
			got, _, err := root.GetFile(tc.name)
			if err != nil {
				t.Fatalf("GetFile(%s): %v", tc.name, err)
			}
			in, _, err := got.Open()
			if err != nil {
				t.Fatalf("Open(%s): %v", tc.name, err)
			}
			if b := readAll(t, in); !bytes.Equal(b, data) {
				t.Errorf("Open(%s) returned %d bytes (md5 %s), want %d (md5 %s)", tc.name, len(b), md5hex(b), len(data), md5hex(data))
			}
			if tc.size == 0 {
				continue
			}
			// Ranged download: 206 with exactly those bytes; the end clamps.
			lo, hi := tc.size/3, tc.size/3+999
			in, resp, err := got.OpenHeaders(map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", lo, hi)})
			if err != nil || resp.StatusCode != http.StatusPartialContent {
				t.Fatalf("OpenHeaders(range) = %d, %v; want 206", status(resp), err)
			}
			if b := readAll(t, in); !bytes.Equal(b, data[lo:hi+1]) {
				t.Errorf("range %d-%d returned %d bytes that differ", lo, hi, len(b))
			}
			in, resp, err = got.OpenHeaders(map[string]string{"Range": fmt.Sprintf("bytes=%d-99999999999", tc.size-10)})
			if err != nil || resp.StatusCode != http.StatusPartialContent {
				t.Fatalf("OpenHeaders(clamped range) = %d, %v", status(resp), err)
			}
			if b := readAll(t, in); !bytes.Equal(b, data[tc.size-10:]) {
				t.Errorf("clamped range returned %q", b)
			}
			_, resp, _ = got.OpenHeaders(map[string]string{"Range": fmt.Sprintf("bytes=%d-", tc.size)})
			if status(resp) != http.StatusRequestedRangeNotSatisfiable {
				t.Errorf("range at EOF = %d, want 416", status(resp))
			}
			// tempLink: no Authorization header, Range honoured.
			if _, err := got.GetTempURL(); err != nil || !strings.Contains(got.TempURL, "/templink/") {
				t.Fatalf("GetTempURL = %q, %v", got.TempURL, err)
			}
			in, resp, err = got.OpenTempURLHeaders(http.DefaultClient, map[string]string{"Range": "bytes=0-99"})
			if err != nil || resp.StatusCode != http.StatusPartialContent {
				t.Fatalf("OpenTempURL(range) = %d, %v", status(resp), err)
			}
			if b := readAll(t, in); !bytes.Equal(b, data[:100]) {
				t.Errorf("tempLink range returned different bytes")
			}
			in, _, err = got.OpenTempURL(http.DefaultClient)
			if err != nil {
				t.Fatalf("OpenTempURL: %v", err)
			}
			if b := readAll(t, in); !bytes.Equal(b, data) {
				t.Errorf("tempLink download differs")
			}
		}
		// A tampered link is refused.
		a := api{t, s.URL, ""}
		if code, _ := a.do("GET", "/cdproxy/templink/bm90LmEubGluaw.AAAA", nil, nil); code != http.StatusNotFound {
			t.Errorf("tampered tempLink = %d, want 404", code)
		}
		_ = tok
	})

	t.Run("OddNames", func(t *testing.T) {
		c, _ := newClient(t, s, "names")
		root, _, _ := c.Nodes.GetRoot()
		dir, _, err := root.CreateFolder("odd")
		if err != nil {
			t.Fatal(err)
		}
		names := []string{"with space.txt", `quote"s.txt`, `back\slash.txt`, "ünïcödé Straße.txt",
			"-leading-dash.txt", "(paren) [brk] {brace} *star? a+b & c|d ! ^~:.txt", "日本語のファイル.txt", "'single'.txt"}
		for i, name := range names {
			if _, _, err := dir.Put(strings.NewReader(name), name); err != nil {
				t.Fatalf("Put(%q): %v", name, err)
			}
			_ = i
		}
		for _, name := range names {
			f, _, err := dir.GetFile(name)
			if err != nil {
				t.Errorf("GetFile(%q): %v", name, err)
				continue
			}
			if *f.Name != name {
				t.Errorf("GetFile(%q).Name = %q", name, *f.Name)
			}
			if up, _, err := dir.GetFile(strings.ToUpper(name)); err != nil || *up.Id != *f.Id {
				t.Errorf("GetFile(%q) upper-case: %v", strings.ToUpper(name), err)
			}
			in, _, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			if b := readAll(t, in); string(b) != name {
				t.Errorf("content of %q = %q", name, b)
			}
		}
		kids, _, err := dir.GetAllChildren(&goacd.NodeListOptions{})
		if err != nil || len(kids) != len(names) {
			t.Errorf("GetAllChildren = %d nodes, %v; want %d", len(kids), err, len(names))
		}
	})

	t.Run("LeadingDashParent", func(t *testing.T) {
		// rclone lists with an unquoted, unescaped parents:<id>; ids may start with '-'.
		c, tok := newClient(t, s, "dash")
		root, _, _ := c.Nodes.GetRoot()
		var dashed *goacd.Folder
		for i := 0; i < 400 && dashed == nil; i++ {
			f, _, err := root.CreateFolder(fmt.Sprintf("d%03d", i))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(*f.Id, "-") {
				dashed = f
			}
		}
		if dashed == nil {
			t.Skip("no folder id starting with '-' in 400 tries")
		}
		if _, _, err := dashed.Put(strings.NewReader("x"), "inside.txt"); err != nil {
			t.Fatal(err)
		}
		opts := &goacd.NodeListOptions{Filters: "parents:" + *dashed.Id + " AND kind:FILE"}
		nodes, _, err := c.Nodes.GetAllNodes(opts)
		if err != nil || len(nodes) != 1 || *nodes[0].Name != "inside.txt" {
			t.Errorf("GetAllNodes(parents:-id) = %v, %v", nodes, err)
		}
		_ = tok
	})

	t.Run("Pagination", func(t *testing.T) {
		c, tok := newClient(t, s, "paging")
		root, _, _ := c.Nodes.GetRoot()
		dir, _, err := root.CreateFolder("many")
		if err != nil {
			t.Fatal(err)
		}
		const n = 450
		a := api{t, s.URL, tok}
		for i := 0; i < n; i++ {
			code, raw := a.do("POST", "/drive/v1/nodes", acd.NewNode{Name: fmt.Sprintf("child-%03d", i), Kind: "FOLDER", Parents: []string{*dir.Id}}, nil)
			if code != http.StatusCreated {
				t.Fatalf("create child %d = %d %s", i, code, raw)
			}
		}
		kids, _, err := dir.GetAllChildren(&goacd.NodeListOptions{})
		if err != nil || len(kids) != n {
			t.Fatalf("GetAllChildren = %d, %v; want %d", len(kids), err, n)
		}
		seen := map[string]bool{}
		for _, k := range kids {
			if seen[*k.Id] {
				t.Fatalf("node %s listed twice", *k.Id)
			}
			seen[*k.Id] = true
		}
		// Page by page with an explicit limit, as GetNodes does.
		opts := &goacd.NodeListOptions{Filters: "parents:" + *dir.Id, Limit: 200}
		var pages []int
		for {
			page, _, err := c.Nodes.GetNodes(opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			pages = append(pages, len(page))
			if len(page) < 200 {
				break
			}
		}
		if !slices.Equal(pages, []int{200, 200, 50}) {
			t.Errorf("pages = %v, want [200 200 50]", pages)
		}
		// count is the total, nextToken absent on the last page.
		var list acd.NodeList
		a.do("GET", "/drive/v1/nodes/"+*dir.Id+"/children?limit=200&sort=%5B%22name+DESC%22%5D", nil, &list)
		if list.Count != n || list.NextToken == "" || len(list.Data) != 200 || list.Data[0].Name != "child-449" {
			t.Errorf("first page: count %d, nextToken %q, first %q", list.Count, list.NextToken, list.Data[0].Name)
		}
		_, raw := a.do("GET", "/drive/v1/nodes/"+*dir.Id+"/children?limit=10&filters=name:child-44*", nil, &list)
		if strings.Contains(string(raw), "nextToken") || list.Count != 10 {
			t.Errorf("last page has nextToken or wrong count: %s", raw)
		}
	})
}
