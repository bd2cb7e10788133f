package thumbnail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

type server struct {
	*drivetest.Server
	t   *testing.T
	tok string
	ctx context.Context // carries the user's principal
}

func newServer(t *testing.T) *server {
	s := drivetest.New(t, drivetest.Options{})
	tok := s.Token("pics")
	p, err := s.App.Tokens.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return &server{Server: s, t: t, tok: tok, ctx: drive.NewContext(context.Background(), p)}
}

func (s *server) upload(name string, b []byte) *drive.Node {
	s.t.Helper()
	n, err := s.App.Nodes.Upload(s.ctx, nodes.NewNode{Name: name}, bytes.NewReader(b), nodes.UploadOptions{})
	if err != nil {
		s.t.Fatalf("upload %s: %v", name, err)
	}
	return n
}

// get requests the content of a node with a query and returns the status,
// headers and body.
func (s *server) get(method, id, query string) (int, http.Header, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.ContentURL()+"nodes/"+id+"/content?"+query, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// thumb fetches a thumbnail and returns its decoded image.
func (s *server) thumb(id, box string) image.Image {
	s.t.Helper()
	code, h, b := s.get(http.MethodGet, id, "viewBox="+box)
	if code != http.StatusOK || h.Get("Content-Type") != "image/jpeg" {
		s.t.Fatalf("GET viewBox=%s: %d %s %s", box, code, h.Get("Content-Type"), b)
	}
	return decodeJPEG(s.t, b)
}

func (s *server) generated() int64 { return s.App.API.Thumbs.Generated() }

func TestServiceCache(t *testing.T) {
	s := newServer(t)
	n := s.upload("pic.png", encodePNG(t, quadrants(80, 40, red, green, blue, yellow)))
	blobs := s.BlobCount()

	m := s.thumb(n.ID, "32")
	if b := m.Bounds(); b.Dx() != 32 || b.Dy() != 16 {
		t.Fatalf("thumbnail is %v, want 32x16", b)
	}
	if s.generated() != 1 || s.BlobCount() != blobs+1 {
		t.Fatalf("after the first request: generated %d, blobs %d -> %d; want 1 and one more blob", s.generated(), blobs, s.BlobCount())
	}
	// Second request, and a HEAD: served from the cache.
	s.thumb(n.ID, "32")
	code, h, body := s.get(http.MethodHead, n.ID, "viewBox=32")
	if code != http.StatusOK || h.Get("Content-Length") == "" || len(body) != 0 {
		t.Errorf("HEAD viewBox=32: %d, Content-Length %q, %d body bytes", code, h.Get("Content-Length"), len(body))
	}
	if s.generated() != 1 || s.BlobCount() != blobs+1 {
		t.Errorf("after cached requests: generated %d, blobs %d; want 1 and %d", s.generated(), s.BlobCount(), blobs+1)
	}
	// If-None-Match with the ETag gives 304.
	req, _ := http.NewRequest(http.MethodGet, s.ContentURL()+"nodes/"+n.ID+"/content?viewBox=32", nil)
	req.Header.Set("Authorization", "Bearer "+s.tok)
	req.Header.Set("If-None-Match", h.Get("ETag"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
	}
	// Another size is another thumbnail.
	if b := s.thumb(n.ID, "20").Bounds(); b.Dx() != 20 || b.Dy() != 10 {
		t.Errorf("viewBox=20 thumbnail is %v, want 20x10", b)
	}
	if s.generated() != 2 {
		t.Errorf("generated %d after a second size, want 2", s.generated())
	}
	// Without viewBox the download is the original.
	code, _, body = s.get(http.MethodGet, n.ID, "")
	if code != http.StatusOK || !bytes.HasPrefix(body, []byte("\x89PNG")) {
		t.Errorf("plain download: %d, % x", code, body[:min(8, len(body))])
	}
}

func TestServiceOverwrite(t *testing.T) {
	s := newServer(t)
	n := s.upload("pic.jpg", encodeJPEG(t, quadrants(80, 40, red, green, blue, yellow)))
	checkQuadrants(t, "before overwrite", s.thumb(n.ID, "40"), red, green, blue, yellow)
	if _, err := s.App.Nodes.Overwrite(s.ctx, n.ID, bytes.NewReader(encodeJPEG(t, quadrants(40, 80, blue, blue, green, green))), nodes.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	m := s.thumb(n.ID, "40")
	if b := m.Bounds(); b.Dx() != 20 || b.Dy() != 40 {
		t.Fatalf("thumbnail after overwrite is %v, want 20x40", b)
	}
	checkQuadrants(t, "after overwrite", m, blue, blue, green, green)
	if s.generated() != 2 {
		t.Errorf("generated %d, want 2 (the overwrite makes a new thumbnail)", s.generated())
	}
}

func TestServiceErrors(t *testing.T) {
	s := newServer(t)
	txt := s.upload("notes.txt", []byte("plain text, not an image"))
	pdf := s.upload("doc.pdf", []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"))
	bomb := s.upload("bomb.png", pngBomb(100000, 100000))
	pic := s.upload("pic.png", encodePNG(t, quadrants(8, 8, red, red, red, red)))
	for _, tt := range []struct {
		name, id, query string
		want            int
	}{
		{"text", txt.ID, "viewBox=64", http.StatusBadRequest},
		{"pdf", pdf.ID, "viewBox=64", http.StatusBadRequest},
		{"bomb", bomb.ID, "viewBox=64", http.StatusBadRequest},
		{"zero box", pic.ID, "viewBox=0", http.StatusBadRequest},
		{"bad box", pic.ID, "viewBox=big", http.StatusBadRequest},
		{"folder", s.rootID(), "viewBox=64", http.StatusBadRequest},
		{"missing", "AAAAAAAAAAAAAAAAAAAAAA", "viewBox=64", http.StatusNotFound},
	} {
		code, h, body := s.get(http.MethodGet, tt.id, tt.query)
		var e struct{ Message string }
		if code != tt.want || h.Get("Content-Type") != "application/json" || json.Unmarshal(body, &e) != nil || e.Message == "" {
			t.Errorf("%s: %d %s %s; want %d and an error body", tt.name, code, h.Get("Content-Type"), body, tt.want)
		}
	}
	if s.generated() != 0 {
		t.Errorf("generated %d thumbnails for refused requests", s.generated())
	}
}

func (s *server) rootID() string {
	s.t.Helper()
	r, err := s.App.Nodes.Root(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	return r.ID
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// TestServiceGC checks that the collector keeps the thumbnails of live
// content and deletes those of overwritten and purged content.
func TestServiceGC(t *testing.T) {
	s := newServer(t)
	n := s.upload("pic.png", encodePNG(t, quadrants(80, 40, red, green, blue, yellow)))
	other := s.upload("other.png", encodePNG(t, quadrants(40, 40, blue, blue, blue, blue)))
	s.thumb(n.ID, "32")
	s.thumb(other.ID, "32")
	if _, err := s.App.Nodes.Overwrite(s.ctx, n.ID, bytes.NewReader(encodePNG(t, quadrants(60, 30, green, green, red, red))), nodes.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	s.thumb(n.ID, "32")
	before := s.BlobCount() // 3 sources + 3 thumbnails

	c := *s.App.GC
	c.Now = (&clock{t: time.Now().Add(2 * time.Hour)}).Now
	st, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The overwritten source and its thumbnail go.
	if st.Deleted != 2 || s.BlobCount() != before-2 {
		t.Fatalf("gc after overwrite = %+v, blobs %d -> %d; want 2 deleted", st, before, s.BlobCount())
	}
	gen := s.generated()
	s.thumb(n.ID, "32")
	s.thumb(other.ID, "32")
	if s.generated() != gen {
		t.Errorf("live thumbnails were regenerated after gc (%d -> %d): gc deleted them", gen, s.generated())
	}

	if _, err := s.App.Nodes.Purge(s.ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	st, err = c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Deleted != 2 || s.BlobCount() != before-4 {
		t.Errorf("gc after purge = %+v, blobs %d; want the purged source and its thumbnail deleted (%d left)", st, s.BlobCount(), before-4)
	}
	s.thumb(n.ID, "32")
	if s.generated() != gen {
		t.Errorf("the live thumbnail was regenerated after the second gc")
	}
}
