package httpapi_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestArchiveHostileNames: names that are harmless in the drive (only '/'
// and NUL are refused there) but mean a path, a drive or a device to a
// Windows extractor come out of the zip as plain names inside the folder,
// still one entry each.
func TestArchiveHostileNames(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := archiveClient{t: t, s: s, token: s.Token("ada")}
	top := c.mkdir(c.root(), "Top")
	c.upload(top, `..\..\evil.exe`, []byte("1"))
	c.upload(top, `C:\Windows\x.dll`, []byte("2"))
	c.upload(top, "CON", []byte("3"))
	c.upload(top, "nul.txt", []byte("4"))
	c.upload(top, "a:b", []byte("5"))
	c.upload(top, "a_b", []byte("6"))
	c.upload(top, "trailing. ", []byte("7"))
	c.upload(top, `q?<>|"*`, []byte("8"))
	d := c.mkdir(top, `..\up`)
	c.upload(d, "aux", []byte("10"))

	req, _ := http.NewRequest("GET", s.ContentURL()+"nodes/"+top+"/archive", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	want := map[string]string{
		".._.._evil.exe":   "1",
		"C__Windows_x.dll": "2",
		"CON_":             "3",
		"nul_.txt":         "4",
		"a_b":              "5",
		"a_b (2)":          "6",
		"trailing__":       "7",
		"q______":          "8",
		".._up/aux_":       "10",
	}
	if d := cmp.Diff(want, unzip(t, b)); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
}
