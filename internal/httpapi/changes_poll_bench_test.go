package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkChangesPoll is an incremental sync: 100 nodes of a
// 20,000-node account change (outside the timer), then one POST /changes
// from the last checkpoint reads them, as clouddrive bench's incremental
// poll does. It reports the time of that POST per op.
func BenchmarkChangesPoll(b *testing.B) {
	s, tok, ids := seededServer(b, 20000)
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	call := func(method, path, body string) []byte {
		resp := authedDo(b, hc, tok, method, s.URL+path, body)
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
