package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestServer runs the SDK through full flows against a real server.
func TestServer(t *testing.T) {
	srv := drivetest.New(t, drivetest.Options{})
	ctx := context.Background()

	t.Run("Account", func(t *testing.T) {
		e := newEnv(t, srv, "account")
		ep, err := e.c.Endpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ep.MetadataURL != srv.MetadataURL() || ep.ContentURL != srv.ContentURL() {
			t.Errorf("Endpoint = %+v, want %s %s", ep, srv.MetadataURL(), srv.ContentURL())
		}
		info, err := e.c.AccountInfo(ctx)
		if err != nil || info.Status != "ACTIVE" {
			t.Errorf("AccountInfo = %+v, %v", info, err)
		}
		q, err := e.c.Quota(ctx)
		if err != nil || q.Quota <= 0 || q.Available > q.Quota {
			t.Errorf("Quota = %+v, %v", q, err)
		}
		if _, err := e.c.Usage(ctx); err != nil {
			t.Errorf("Usage: %v", err)
		}
		if n := e.faults.count("GET /drive/v1/account/endpoint"); n != 1 {
			t.Errorf("account/endpoint asked %d times, want 1 (cached)", n)
		}
	})

	t.Run("Folders", func(t *testing.T) {
		e := newEnv(t, srv, "folders")
		root := e.root()
		dir, err := e.c.CreateFolder(ctx, root, "Photos", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.c.CreateFolder(ctx, root, "PHOTOS", nil)
		var ce *client.ConflictError
		if !errors.As(err, &ce) || ce.NodeID != dir.ID || !errors.Is(err, client.ErrConflict) || ce.Code != "NAME_ALREADY_EXISTS" {
			t.Fatalf("CreateFolder(duplicate) = %v; want ConflictError with node %s", err, dir.ID)
		}
		again, err := e.c.CreateFolder(ctx, root, "photos", &client.FolderOptions{OnConflict: client.ConflictReturnExisting})
		if err != nil || again.ID != dir.ID {
			t.Errorf("CreateFolder(ReturnExisting) = %v, %v; want %s", again, err, dir.ID)
		}
		got, err := e.c.Lookup(ctx, "/photos")
		if err != nil || got.ID != dir.ID {
			t.Errorf("Lookup(/photos) = %v, %v", got, err)
		}
		if _, err := e.c.Lookup(ctx, "/nope"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Lookup(missing) = %v, want ErrNotFound", err)
		}
		if _, err := e.c.Node(ctx, "AAAAAAAAAAAAAAAAAAAAAA", nil); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Node(unknown) = %v, want ErrNotFound", err)
		}
		sub, err := e.c.CreateFolder(ctx, dir.ID, "2024", nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := e.c.Rename(ctx, sub.ID, "Year 2024"); err != nil || n.Name != "Year 2024" {
			t.Errorf("Rename = %v, %v", n, err)
		}
		other, err := e.c.CreateFolder(ctx, root, "Other", nil)
		if err != nil {
			t.Fatal(err)
		}
		moved, err := e.c.Move(ctx, sub.ID, dir.ID, other.ID)
		if err != nil || !slices.Equal(moved.Parents, []string{other.ID}) {
			t.Errorf("Move = %v, %v", moved, err)
		}
		if n, err := e.c.AddParent(ctx, dir.ID, sub.ID); err != nil || len(n.Parents) != 2 {
			t.Errorf("AddParent = %v, %v", n, err)
		}
		if n, err := e.c.RemoveParent(ctx, other.ID, sub.ID); err != nil || !slices.Equal(n.Parents, []string{dir.ID}) {
			t.Errorf("RemoveParent = %v, %v", n, err)
		}
		desc := "holidays"
		if n, err := e.c.Update(ctx, sub.ID, client.Patch{Description: &desc, Labels: &[]string{"a", "b"}}); err != nil || n.Description != desc || len(n.Labels) != 2 {
			t.Errorf("Update = %+v, %v", n, err)
		}
		if _, err := e.c.Trash(ctx, root); !errors.Is(err, client.ErrForbidden) {
			t.Errorf("Trash(root) = %v, want ErrForbidden", err)
		}
	})

	t.Run("UploadDownload", func(t *testing.T) {
		e := newEnv(t, srv, "upload")
		root := e.root()
		for _, size := range []int{0, 1, 5000, 3<<20 + 17} {
			data := randomBytes(size, uint64(size))
			name := fmt.Sprintf("f%d.bin", size)
			var last, total int64
			n, err := e.c.Upload(ctx, root, name, bytes.NewReader(data), &client.UploadOptions{Size: int64(size),
				Progress: func(sent, tot int64) { last, total = sent, tot }})
			if err != nil {
				t.Fatalf("Upload(%d bytes): %v", size, err)
			}
			if n.ContentProperties.Size != int64(size) || n.ContentProperties.MD5 != md5hex(data) {
				t.Errorf("Upload(%d) = %+v", size, n.ContentProperties)
			}
			if last != int64(size) || (size > 0 && total != int64(size)) {
				t.Errorf("Progress ended at %d/%d, want %d", last, total, size)
			}
			if got := e.download(n.ID); !bytes.Equal(got, data) {
				t.Errorf("Download(%d) = %d bytes, md5 %s", size, len(got), md5hex(got))
			}
			path := filepath.Join(t.TempDir(), name)
			if err := e.c.DownloadFile(ctx, n, path, &client.DownloadOptions{ChunkSize: 1 << 20}); err != nil {
				t.Fatalf("DownloadFile: %v", err)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, data) {
				t.Errorf("DownloadFile(%d) wrote %d bytes", size, len(b))
			}
			if _, err := os.Stat(path + client.IncompleteSuffix); !os.IsNotExist(err) {
				t.Errorf("partial file left behind: %v", err)
			}
			if size > 10 {
				rc, err := e.c.Open(ctx, n.ID, 3, 7)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				if !bytes.Equal(b, data[3:10]) {
					t.Errorf("Open(3, 7) = %x, want %x", b, data[3:10])
				}
				// Ranges past the end are clamped; at or past the end, empty.
				for _, tc := range []struct{ off, length, want int64 }{
					{int64(size - 2), 100, 2}, {int64(size), -1, 0}, {int64(size + 5), 10, 0}, {0, int64(size + 1000), int64(size)},
				} {
					rc, err := e.c.Open(ctx, n.ID, tc.off, tc.length)
					if err != nil {
						t.Fatalf("Open(%d, %d): %v", tc.off, tc.length, err)
					}
					b, err := io.ReadAll(rc)
					rc.Close()
					if err != nil || int64(len(b)) != tc.want || !bytes.Equal(b, data[min(tc.off, int64(size)):min(tc.off, int64(size))+tc.want]) {
						t.Errorf("Open(%d, %d) = %d bytes, %v; want %d", tc.off, tc.length, len(b), err, tc.want)
					}
				}
				link, err := e.c.TempLink(ctx, n.ID)
				if err != nil {
					t.Fatal(err)
				}
				rc, err = e.c.OpenTempLink(ctx, link, int64(size-5), -1)
				if err != nil {
					t.Fatal(err)
				}
				b, _ = io.ReadAll(rc)
				rc.Close()
				if !bytes.Equal(b, data[size-5:]) {
					t.Errorf("OpenTempLink(tail) = %x", b)
				}
			}
		}
		// Overwrite, and an upload from a non-seekable reader.
		n, err := e.c.Upload(ctx, root, "stream.txt", nonSeeker{strings.NewReader("first")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		n2, err := e.c.Overwrite(ctx, n.ID, strings.NewReader("second version"), nil)
		if err != nil || n2.ContentProperties.Version != 2 || n2.ContentProperties.Size != 14 {
			t.Fatalf("Overwrite = %+v, %v", n2, err)
		}
		if got := e.download(n.ID); string(got) != "second version" {
			t.Errorf("after Overwrite = %q", got)
		}
	})

	t.Run("UploadConflicts", func(t *testing.T) {
		e := newEnv(t, srv, "conflicts")
		root := e.root()
		first, err := e.c.Upload(ctx, root, "a.txt", strings.NewReader("alpha"), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.c.Upload(ctx, root, "A.TXT", strings.NewReader("other"), nil)
		var ce *client.ConflictError
		if !errors.As(err, &ce) || ce.NodeID != first.ID {
			t.Fatalf("Upload(same name) = %v, want ConflictError(%s)", err, first.ID)
		}
		got, err := e.c.Upload(ctx, root, "a.txt", strings.NewReader("other"), &client.UploadOptions{OnConflict: client.ConflictReturnExisting})
		if err != nil || got.ID != first.ID || got.ContentProperties.MD5 != md5hex([]byte("alpha")) {
			t.Errorf("Upload(ReturnExisting) = %v, %v", got, err)
		}
		got, err = e.c.Upload(ctx, root, "a.txt", strings.NewReader("replaced"), &client.UploadOptions{OnConflict: client.ConflictOverwrite})
		if err != nil || got.ID != first.ID || got.ContentProperties.MD5 != md5hex([]byte("replaced")) {
			t.Errorf("Upload(Overwrite) = %v, %v", got, err)
		}
		// Dedup: the same bytes under another name.
		_, err = e.c.Upload(ctx, root, "copy.txt", strings.NewReader("replaced"), &client.UploadOptions{Dedup: true})
		if !errors.As(err, &ce) || ce.Code != "CONTENT_ALREADY_EXISTS" || ce.NodeID != first.ID {
			t.Errorf("Upload(dedup) = %v, want CONTENT_ALREADY_EXISTS of %s", err, first.ID)
		}
		got, err = e.c.Upload(ctx, root, "copy.txt", strings.NewReader("replaced"), &client.UploadOptions{Dedup: true, OnConflict: client.ConflictReturnExisting})
		if err != nil || got.ID != first.ID {
			t.Errorf("Upload(dedup, ReturnExisting) = %v, %v", got, err)
		}
		if dup, err := e.c.Upload(ctx, root, "copy.txt", strings.NewReader("replaced"), nil); err != nil || dup.ID == first.ID {
			t.Errorf("Upload(no dedup) = %v, %v; want a new node", dup, err)
		}
	})

	t.Run("ListAndTrash", func(t *testing.T) {
		e := newEnv(t, srv, "lists")
		root := e.root()
		dir, _ := e.c.CreateFolder(ctx, root, "many", nil)
		for i := range 25 {
			if _, err := e.c.Upload(ctx, dir.ID, fmt.Sprintf("n%02d.txt", i), strings.NewReader(fmt.Sprint(i)), nil); err != nil {
				t.Fatal(err)
			}
		}
		kids, err := client.Collect(e.c.Children(ctx, dir.ID, &client.ListOptions{Limit: 7, Sort: `["name ASC"]`}))
		if err != nil || len(kids) != 25 || kids[0].Name != "n00.txt" || kids[24].Name != "n24.txt" {
			t.Fatalf("Children = %d nodes, %v", len(kids), err)
		}
		page, err := e.c.ListPage(ctx, &client.ListOptions{Filters: "kind:FILE AND name:n1*", Limit: 4}, "")
		if err != nil || page.Count != 10 || len(page.Data) != 4 || page.NextToken == "" {
			t.Errorf("ListPage = count %d, %d nodes, next %q, %v", page.Count, len(page.Data), page.NextToken, err)
		}
		if _, err := e.c.ListPage(ctx, &client.ListOptions{Filters: "bogus:1"}, ""); !errors.Is(err, client.ErrInvalid) {
			t.Errorf("bad filter = %v, want ErrInvalid", err)
		}
		n, err := e.c.Trash(ctx, dir.ID)
		if err != nil || n.Status != client.StatusTrash {
			t.Fatalf("Trash = %v, %v", n, err)
		}
		trash, err := client.Collect(e.c.ListTrash(ctx, nil))
		if err != nil || len(trash) != 1 || trash[0].ID != dir.ID {
			t.Errorf("ListTrash = %v, %v", trash, err)
		}
		if tn, err := e.c.TrashedChildByName(ctx, root, "MANY"); err != nil || tn.ID != dir.ID {
			t.Errorf("TrashedChildByName = %v, %v", tn, err)
		}
		// The trashed name is free again; restoring into a clash conflicts.
		clash, err := e.c.CreateFolder(ctx, root, "many", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.Restore(ctx, dir.ID); !errors.Is(err, client.ErrConflict) {
			t.Errorf("Restore(clash) = %v, want ErrConflict", err)
		}
		if _, err := e.c.Purge(ctx, clash.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := e.c.Restore(ctx, dir.ID); err != nil || n.Status != client.StatusAvailable {
			t.Errorf("Restore = %v, %v", n, err)
		}
		p, err := e.c.Purge(ctx, kids[0].ID)
		if err != nil || p.Status != client.StatusPurged {
			t.Errorf("Purge = %+v, %v", p, err)
		}
		if _, err := e.c.Node(ctx, kids[0].ID, nil); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Node(purged) = %v, want ErrNotFound", err)
		}
		ids := []string{kids[1].ID, kids[2].ID}
		if ns, err := e.c.BulkPurge(ctx, ids); err != nil || len(ns) != 2 {
			t.Errorf("BulkPurge = %v, %v", ns, err)
		}
	})

	t.Run("Properties", func(t *testing.T) {
		e := newEnv(t, srv, "props")
		root := e.root()
		dir, err := e.c.CreateFolder(ctx, root, "p", nil)
		if err != nil {
			t.Fatal(err)
		}
		owner := dir.CreatedBy
		if err := e.c.SetProperty(ctx, dir.ID, owner, "color", "blue"); err != nil {
			t.Fatal(err)
		}
		if v, err := e.c.Property(ctx, dir.ID, owner, "color"); err != nil || v != "blue" {
			t.Errorf("Property = %q, %v", v, err)
		}
		if m, err := e.c.Properties(ctx, dir.ID, owner); err != nil || m["color"] != "blue" {
			t.Errorf("Properties = %v, %v", m, err)
		}
		if err := e.c.DeleteProperty(ctx, dir.ID, owner, "color"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.Property(ctx, dir.ID, owner, "color"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Property(deleted) = %v, want ErrNotFound", err)
		}
		if err := e.c.DeleteProperty(ctx, dir.ID, owner, "color"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("DeleteProperty(not set) = %v, want ErrNotFound", err)
		}
		if err := e.c.SetProperty(ctx, dir.ID, "someone-else", "k", "v"); !errors.Is(err, client.ErrForbidden) {
			t.Errorf("SetProperty(other owner) = %v, want ErrForbidden", err)
		}
	})

	t.Run("Changes", func(t *testing.T) {
		e := newEnv(t, srv, "changes")
		root := e.root()
		for i := range 12 {
			if _, err := e.c.CreateFolder(ctx, root, fmt.Sprintf("d%d", i), nil); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		cp := ""
		sets := 0
		for set, err := range e.c.Changes(ctx, client.ChangesOptions{ChunkSize: 2, MaxNodes: 5}) {
			if err != nil {
				t.Fatal(err)
			}
			if set.Reset && sets > 0 {
				t.Errorf("reset in set %d", sets)
			}
			sets++
			for _, n := range set.Nodes {
				seen[n.ID] = true
			}
			cp = set.Checkpoint
		}
		if len(seen) != 13 {
			t.Errorf("full sync saw %d nodes, want 13 (root + 12)", len(seen))
		}
		if n := e.faults.count("POST /drive/v1/changes"); n < 3 {
			t.Errorf("changes requested %d times; MaxNodes 5 should need at least 3", n)
		}
		// Incremental, with a purge.
		f, _ := e.c.CreateFolder(ctx, root, "late", nil)
		if _, err := e.c.Purge(ctx, f.ID); err != nil {
			t.Fatal(err)
		}
		var got []*acd.Node
		for set, err := range e.c.Changes(ctx, client.ChangesOptions{Checkpoint: cp, IncludePurged: true}) {
			if err != nil {
				t.Fatal(err)
			}
			if set.Reset {
				t.Error("incremental sync reset")
			}
			got = append(got, set.Nodes...)
		}
		if len(got) != 1 || got[0].ID != f.ID || got[0].Status != client.StatusPurged {
			t.Errorf("incremental changes = %v", got)
		}
		cp = ""
		for set, err := range e.c.Changes(ctx, client.ChangesOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			cp = set.Checkpoint
		}
		// Long poll: held until a change, which it then returns.
		go func() {
			time.Sleep(200 * time.Millisecond)
			_, _ = e.c.CreateFolder(context.Background(), root, "woken", nil)
		}()
		start := time.Now()
		got = nil
		for set, err := range e.c.Changes(ctx, client.ChangesOptions{Checkpoint: cp, Wait: 20 * time.Second}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, set.Nodes...)
		}
		if el := time.Since(start); len(got) != 1 || got[0].Name != "woken" || el < 150*time.Millisecond || el > 10*time.Second {
			t.Errorf("long poll returned %v after %v", got, el)
		}
	})

	t.Run("Unauthorized", func(t *testing.T) {
		c, err := client.New(srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Root(ctx); !errors.Is(err, client.ErrUnauthorized) {
			t.Errorf("Root without token = %v, want ErrUnauthorized", err)
		}
		var ae *client.Error
		if _, err := c.Root(ctx); !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized {
			t.Errorf("error = %#v", err)
		}
	})
}
