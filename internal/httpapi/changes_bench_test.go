package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/bench"
	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// BenchmarkChangesHTTP is a full first sync of a 20,000-node account
// through POST /changes on the embedded stores, over loopback HTTP; it
// reports nodes/s. "read" discards the body (the server's side); "decode"
// parses every line as a client does, on the same CPUs; "gzip" reads the
// body compressed, as Go clients (go-acd, rclone) ask for it. Each runs
// with the default chunkSize ("chunk=0") and with the largest (10,000).
func BenchmarkChangesHTTP(b *testing.B) {
	const n = 20000
	s, tok, _ := seededServer(b, n)
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true, ReadBufferSize: 256 << 10}}
	gz := &http.Client{Transport: &http.Transport{ReadBufferSize: 256 << 10}}
	sync := func(b *testing.B, hc *http.Client, body string, decode bool) int {
		resp := authedDo(b, hc, tok, "POST", s.URL+"/drive/v1/changes", body)
		defer resp.Body.Close()
		if !decode {
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				b.Fatal(err)
			}
			return n + 1
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		got := 0
		for sc.Scan() {
			var set acd.ChangeSet
			if err := json.Unmarshal(sc.Bytes(), &set); err != nil {
				b.Fatal(err)
			}
			got += len(set.Nodes)
		}
		return got
	}
	for _, bc := range []struct {
		name   string
		hc     *http.Client
		decode bool
	}{{"read", hc, false}, {"decode", hc, true}, {"gzip", gz, true}} {
		for _, chunk := range []int{0, changes.MaxChunkSize} {
			body := fmt.Sprintf(`{"chunkSize":%d}`, chunk)
			b.Run(fmt.Sprintf("%s/chunk=%d", bc.name, chunk), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if got := sync(b, bc.hc, body, bc.decode); got != n+1 {
						b.Fatalf("synced %d nodes, want %d", got, n+1)
					}
				}
				b.ReportMetric(float64(b.N*(n+1))/b.Elapsed().Seconds(), "nodes/s")
			})
		}
	}
}

// seededServer starts a server on the embedded stores with a user "bench"
// holding n seeded nodes (internal/bench.Seed), and returns it, the user's
// token and the seeded nodes' ids.
func seededServer(b *testing.B, n int) (*drivetest.Server, string, []string) {
	ctx := context.Background()
	s := drivetest.New(b, drivetest.Options{Stores: "embedded"})
	tok := s.Token("bench")
	var u *drive.User
	err := s.App.Meta.View(ctx, func(tx meta.Tx) error {
		var err error
		u, err = tx.UserByName(ctx, "bench")
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	ids, err := bench.Seed(ctx, s.App.Meta, u.ID, u.RootID, n, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return s, tok, ids
}

// authedDo sends a request with tok as its bearer token.
func authedDo(b *testing.B, hc *http.Client, tok, method, url, body string) *http.Response {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	return resp
}
