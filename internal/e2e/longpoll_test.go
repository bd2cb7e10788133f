package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestChangesLongPoll: POST /changes with "wait" is held until a change
// commits, then returns it.
func TestChangesLongPoll(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	a := api{t, s.URL, s.Token("poller")}
	cp := a.checkpoint()
	var root acd.NodeList
	a.do("GET", "/drive/v1/nodes?filters=isRoot:true", nil, &root)

	// Nothing changes: the poll returns after its wait, with no nodes.
	start := time.Now()
	_, raw := a.do("POST", "/drive/v1/changes", `{"checkpoint":"`+cp+`","wait":1}`, nil)
	if el := time.Since(start); el < 900*time.Millisecond || strings.Contains(string(raw), `"id"`) {
		t.Errorf("idle long poll returned after %v with %s", el, raw)
	}

	// A change made while the poll waits ends it early.
	go func() {
		time.Sleep(300 * time.Millisecond)
		a.do("POST", "/drive/v1/nodes", acd.NewNode{Name: "wake", Kind: "FOLDER", Parents: []string{root.Data[0].ID}}, nil)
	}()
	start = time.Now()
	code, raw := a.do("POST", "/drive/v1/changes", `{"checkpoint":"`+cp+`","wait":30}`, nil)
	if el := time.Since(start); code != http.StatusOK || el > 10*time.Second || !strings.Contains(string(raw), `"name":"wake"`) {
		t.Errorf("long poll = %d after %v: %s", code, el, raw)
	}
	if code, _ := a.do("POST", "/drive/v1/changes", `{"checkpoint":"`+cp+`","wait":61}`, nil); code != http.StatusBadRequest {
		t.Errorf("wait 61 = %d, want 400", code)
	}
}
