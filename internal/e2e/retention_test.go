package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// TestTrashRetention: nodes that stayed in the trash longer than the
// retention period are purged for every user, with the subtree trashed
// along; younger trash, live nodes and nodes changed in the trash since
// stay; the purges reach the changes feed as PURGED nodes.
func TestTrashRetention(t *testing.T) {
	const day = 24 * time.Hour
	clk := &shareClock{t: time.Now().UTC().Truncate(time.Millisecond)}
	s := drivetest.New(t, drivetest.Options{Now: clk.Now})
	alice := newShareOwner(t, s, "alice")
	bob := newShareOwner(t, s, "bob")
	root := alice.root()

	old := alice.folder("old", root)
	oldChild := alice.file("in-old.txt", old, []byte("child"))
	renamed := alice.file("renamed-in-trash.txt", root, []byte("r"))
	kept := alice.file("kept.txt", root, []byte("kept"))
	bobOld := bob.file("bob-old.txt", bob.root(), []byte("b"))
	for _, tr := range []struct {
		o  *shareOwner
		id string
	}{{alice, old}, {alice, renamed}, {bob, bobOld}} {
		if _, err := s.App.Nodes.Trash(tr.o.ctx, tr.id); err != nil {
			t.Fatal(err)
		}
	}
	var checkpoint string
	if sets := changesSince(t, alice.api, ""); len(sets) > 0 {
		checkpoint = sets[len(sets)-1].Checkpoint
	}

	clk.Add(10 * day)
	newName := "renamed-later.txt"
	if _, err := s.App.Nodes.Update(alice.ctx, renamed, nodes.Patch{Name: &newName}); err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * day)
	recent := alice.file("recent.txt", root, []byte("recent"))
	if _, err := s.App.Nodes.Trash(alice.ctx, recent); err != nil {
		t.Fatal(err)
	}

	// Off by default (Config.TrashRetention 0): nothing happens.
	if st, err := s.App.Retention.RunOnce(alice.ctx); err != nil || st.Purged != 0 {
		t.Fatalf("RunOnce with retention off = %+v, %v; want nothing purged", st, err)
	}
	s.App.Retention.Period = 30 * day
	clk.Add(10*day + time.Minute) // old and bob-old: 30 days and a minute in the trash
	st, err := s.App.Retention.RunOnce(alice.ctx)
	if err != nil || st.Purged != 2 || st.Users != 2 {
		t.Fatalf("RunOnce = %+v, %v; want 2 trash roots of 2 users purged", st, err)
	}
	// Tokens minted 30 days ago have expired.
	alice.api.token, bob.api.token = s.Token("alice"), s.Token("bob")
	for id, want := range map[string]int{old: http.StatusNotFound, oldChild: http.StatusNotFound,
		renamed: http.StatusOK, recent: http.StatusOK, kept: http.StatusOK} {
		if code, raw := alice.api.do(http.MethodGet, "/drive/v1/nodes/"+id, nil, nil); code != want {
			t.Errorf("GET node %s after retention: %d %s, want %d", id, code, raw, want)
		}
	}
	if code, raw := bob.api.do(http.MethodGet, "/drive/v1/nodes/"+bobOld, nil, nil); code != http.StatusNotFound {
		t.Errorf("bob's old trash after retention: %d %s, want 404", code, raw)
	}
	purged := map[string]bool{}
	for _, set := range changesSince(t, alice.api, checkpoint) {
		for _, n := range set.Nodes {
			if n.Status == "PURGED" {
				purged[n.ID] = true
			}
		}
	}
	if !purged[old] || !purged[oldChild] || purged[renamed] || purged[recent] {
		t.Errorf("PURGED in the changes feed: %v; want %s and %s only", purged, old, oldChild)
	}

	// A second run finds nothing; once its period after the rename has
	// passed, the node renamed in the trash goes too.
	if st, err := s.App.Retention.RunOnce(alice.ctx); err != nil || st.Purged != 0 {
		t.Errorf("second RunOnce = %+v, %v; want nothing", st, err)
	}
	clk.Add(10 * day)
	alice.api.token = s.Token("alice")
	if st, err := s.App.Retention.RunOnce(alice.ctx); err != nil || st.Purged != 1 {
		t.Errorf("RunOnce 30 days after the rename = %+v, %v; want 1", st, err)
	}
	if code, _ := alice.api.do(http.MethodGet, "/drive/v1/nodes/"+renamed, nil, nil); code != http.StatusNotFound {
		t.Errorf("node renamed in the trash, 30 days later: %d, want 404", code)
	}
}

// changesSince reads the whole changes feed from checkpoint, with purged
// nodes.
func changesSince(t *testing.T, a api, checkpoint string) []acd.ChangeSet {
	t.Helper()
	code, raw := a.do(http.MethodPost, "/drive/v1/changes", map[string]any{"checkpoint": checkpoint, "includePurged": true}, nil)
	if code != http.StatusOK {
		t.Fatalf("changes: %d %s", code, raw)
	}
	var sets []acd.ChangeSet
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var set acd.ChangeSet
		if err := json.Unmarshal(sc.Bytes(), &set); err != nil {
			t.Fatalf("changes line %q: %v", sc.Bytes(), err)
		}
		if set.Checkpoint != "" {
			sets = append(sets, set)
		}
	}
	return sets
}
