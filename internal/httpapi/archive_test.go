package httpapi_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// archiveClient makes the few calls the archive test needs.
type archiveClient struct {
	t     *testing.T
	s     *drivetest.Server
	token string
}

func (c archiveClient) do(req *http.Request) (int, []byte) {
	c.t.Helper()
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (c archiveClient) id(status int, body []byte) string {
	c.t.Helper()
	if status != http.StatusCreated {
		c.t.Fatalf("status %d, want 201: %s", status, body)
	}
	var n struct{ ID string }
	if err := json.Unmarshal(body, &n); err != nil {
		c.t.Fatal(err)
	}
	return n.ID
}

func (c archiveClient) root() string {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.s.MetadataURL()+"nodes?filters=isRoot:true", nil)
	st, b := c.do(req)
	var l struct{ Data []struct{ ID string } }
	if err := json.Unmarshal(b, &l); err != nil || st != 200 || len(l.Data) != 1 {
		c.t.Fatalf("root: %d %s", st, b)
	}
	return l.Data[0].ID
}

func (c archiveClient) mkdir(parent, name string) string {
	c.t.Helper()
	body := fmt.Sprintf(`{"name":%q,"kind":"FOLDER","parents":[%q]}`, name, parent)
	req, _ := http.NewRequest("POST", c.s.MetadataURL()+"nodes", strings.NewReader(body))
	return c.id(c.do(req))
}

func (c archiveClient) upload(parent, name string, content []byte) string {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("metadata", fmt.Sprintf(`{"name":%q,"kind":"FILE","parents":[%q]}`, name, parent))
	fw, _ := mw.CreateFormFile("content", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", c.s.ContentURL()+"nodes", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.id(c.do(req))
}

// unzip returns the entries of a zip: name -> content ("/" suffix for
// directories, with empty content).
func unzip(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	got := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		got[f.Name] = string(data)
	}
	return got
}

// TestArchive downloads a folder and a file as zip streams from a real
// server and compares the unzipped entries with what was uploaded.
func TestArchive(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := archiveClient{t: t, s: s, token: s.Token("ada")}
	root := c.root()
	top := c.mkdir(root, "Top")
	sub := c.mkdir(top, "Sub")
	emptyID := c.mkdir(top, "Empty")
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB, compressible
	fileID := c.upload(top, "a.txt", []byte("hello"))
	c.upload(sub, "b.jpg", []byte("\xff\xd8not really a jpeg"))
	c.upload(sub, "big.log", big)
	trashed := c.upload(sub, "gone.txt", []byte("trashed"))
	req, _ := http.NewRequest("PUT", s.MetadataURL()+"trash/"+trashed, nil)
	if st, b := c.do(req); st != 200 {
		t.Fatalf("trash: %d %s", st, b)
	}

	get := func(id string) (int, http.Header, []byte) {
		req, _ := http.NewRequest("GET", s.ContentURL()+"nodes/"+id+"/archive", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}

	t.Run("Folder", func(t *testing.T) {
		st, h, b := get(top)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		if ct := h.Get("Content-Type"); ct != "application/zip" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := h.Get("Content-Disposition"); !strings.Contains(cd, `filename=Top.zip`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		want := map[string]string{
			"a.txt":       "hello",
			"Empty/":      "",
			"Sub/b.jpg":   "\xff\xd8not really a jpeg",
			"Sub/big.log": string(big),
		}
		if d := cmp.Diff(want, unzip(t, b)); d != "" {
			t.Errorf("entries (-want +got):\n%s", d)
		}
		if len(b) > len(big)/4 {
			t.Errorf("zip is %d bytes: the compressible file was not deflated", len(b))
		}
	})
	t.Run("File", func(t *testing.T) {
		st, _, b := get(fileID)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		if d := cmp.Diff(map[string]string{"a.txt": "hello"}, unzip(t, b)); d != "" {
			t.Errorf("entries (-want +got):\n%s", d)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if st, _, b := get("nosuchnode"); st != 404 {
			t.Errorf("status %d, want 404: %s", st, b)
		}
		if st, _, b := get(trashed); st != 404 {
			t.Errorf("trashed node: status %d, want 404: %s", st, b)
		}
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		resp, err := http.Get(s.ContentURL() + "nodes/" + top + "/archive")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("FolderWithTwoParents", func(t *testing.T) {
		// Empty becomes a child of Sub too (the server refuses cycles, so
		// the walk's own cycle guard is only a defence): it is written at
		// both places.
		empty := emptyID
		req, _ := http.NewRequest("PUT", s.MetadataURL()+"nodes/"+sub+"/children/"+empty, nil)
		if st, b := c.do(req); st != 200 {
			t.Fatalf("add parent: %d %s", st, b)
		}
		defer func() {
			req, _ := http.NewRequest("DELETE", s.MetadataURL()+"nodes/"+sub+"/children/"+empty, nil)
			if st, b := c.do(req); st != 200 {
				t.Fatalf("remove parent: %d %s", st, b)
			}
		}()
		st, _, b := get(top)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		got := unzip(t, b)
		want := []string{"Empty/", "Sub/Empty/", "Sub/b.jpg", "Sub/big.log", "a.txt"}
		if d := cmp.Diff(want, slices.Sorted(maps.Keys(got))); d != "" {
			t.Errorf("entries (-want +got):\n%s", d)
		}
	})
	t.Run("ErrOtherUser", func(t *testing.T) {
		other := archiveClient{t: t, s: s, token: s.Token("bob")}
		req, _ := http.NewRequest("GET", s.ContentURL()+"nodes/"+top+"/archive", nil)
		if st, b := other.do(req); st != 404 {
			t.Errorf("status %d, want 404: %s", st, b)
		}
	})
}
