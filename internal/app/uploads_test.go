package app_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/httpguard"
)

// TestResumableUploadRate: a tus PATCH is an upload to httpguard, held to
// the minimum rate, not to the body timeout: a body that takes longer than
// the body timeout but arrives faster than the minimum rate is stored.
func TestResumableUploadRate(t *testing.T) {
	if testing.Short() {
		t.Skip("slow clients take seconds")
	}
	g := startGuarded(t, httpguard.Limits{BodyTimeout: 500 * time.Millisecond, UploadMinRate: 1 << 10, UploadWindow: 2 * time.Second})
	const size = 1500
	req, _ := http.NewRequest(http.MethodPost, "http://"+g.addr+"/cdproxy/uploads/", nil)
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", fmt.Sprint(size))
	req.Header.Set("Upload-Metadata", "name "+base64.StdEncoding.EncodeToString([]byte("slow.bin")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || loc == "" {
		t.Fatalf("create = %d %v", resp.StatusCode, resp.Header)
	}
	path := loc[strings.Index(loc, "/cdproxy/"):]
	head := "PATCH " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + g.token +
		"\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream" +
		fmt.Sprintf("\r\nContent-Length: %d\r\n\r\n", size)
	// About 1.5 s for the body: three body timeouts, yet faster than 1 KiB/s.
	r := slowRequest(g.addr, head, strings.Repeat("z", size), time.Millisecond, 20*time.Second)
	if r.err != nil || r.status != http.StatusNoContent || r.elapsed < time.Second {
		t.Fatalf("slow PATCH: status %d after %s (%v); want 204 after more than the body timeout",
			r.status, r.elapsed.Round(time.Millisecond), r.err)
	}
}
