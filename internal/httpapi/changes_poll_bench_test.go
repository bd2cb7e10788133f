package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/bench"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// BenchmarkChangesPoll is an incremental sync: 100 nodes of a
// 20,000-node account change (outside the timer), then one POST /changes
// from the last checkpoint reads them, as clouddrive bench's incremental
// poll does. It reports the time of that POST per op.
func BenchmarkChangesPoll(b *testing.B) {
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
	ids, err := bench.Seed(ctx, s.App.Meta, u.ID, u.RootID, 20000, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	call := func(method, path, body string) []byte {
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%s %s: %d %v %s", method, path, resp.StatusCode, err, raw)
		}
		return raw
	}
	checkpoint := func(raw []byte) string {
		cp := ""
		for line := range strings.SplitSeq(string(raw), "\n") {
			var set struct{ Checkpoint string }
			if json.Unmarshal([]byte(line), &set) == nil && set.Checkpoint != "" {
				cp = set.Checkpoint
			}
		}
		return cp
	}
	cp := checkpoint(call("POST", "/drive/v1/changes", `{}`))
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		for i := range 100 {
			call("PATCH", "/drive/v1/nodes/"+ids[i*7], fmt.Sprintf(`{"description":"poll %d"}`, round))
		}
		b.StartTimer()
		raw := call("POST", "/drive/v1/changes", fmt.Sprintf(`{"checkpoint":%q}`, cp))
		if n := strings.Count(string(raw), `"id":`); n < 100 {
			b.Fatalf("incremental sync saw %d ids", n)
		}
		cp = checkpoint(raw)
	}
}
