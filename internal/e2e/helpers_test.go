package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	goacd "github.com/ncw/go-acd"
	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/testbytes"
)

// newClient returns a go-acd client for a fresh user on s, with its URLs
// taken from the server's account/endpoint reply as a real client does.
func newClient(t *testing.T, s *drivetest.Server, user string) (*goacd.Client, string) {
	t.Helper()
	tok := s.Token(user)
	hc := oauth2.NewClient(context.Background(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok, TokenType: "Bearer"}))
	c := goacd.NewClient(hc)
	c.MetadataURL = mustURL(t, s.MetadataURL())
	c.ContentURL = mustURL(t, s.ContentURL())
	if _, _, err := c.Account.GetEndpoints(); err != nil {
		t.Fatalf("GetEndpoints: %v", err)
	}
	return c, tok
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// randomBytes and md5hex are package testbytes' shared helpers under the
// names this package's tests use.
func randomBytes(n int, seed uint64) []byte { return testbytes.Random(n, seed) }

func md5hex(b []byte) string { return testbytes.MD5(b) }

func readAll(t *testing.T, rc io.ReadCloser) []byte {
	t.Helper()
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

// status extracts the HTTP status from a go-acd call.
func status(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// api is a raw HTTP helper for calls go-acd does not make.
type api struct {
	t     *testing.T
	base  string
	token string
}

func (a api) do(method, path string, body any, out any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, raw
}
