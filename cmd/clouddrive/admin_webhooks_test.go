package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

func TestAdminWebhook(t *testing.T) {
	data := t.TempDir()
	var hits atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer recv.Close()
	mustRun(t, "", "admin", "token", "alice", "--data", data) // alice grants the admin app

	out := mustRun(t, "", "admin", "webhook", "add", "--app", auth.AdminClientID, "--url", recv.URL+"/all",
		"--events", "node.created,node.trashed", "--data", data)
	m := regexp.MustCompile(`^id: (\S+)\nsecret: ([0-9a-f]{64})\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("webhook add printed %q, want id and a generated secret", out)
	}
	allID := m[1]
	out = mustRun(t, "", "admin", "webhook", "add", "--app", auth.AdminClientID, "--url", recv.URL+"/alice",
		"--user", "alice", "--secret", "0123456789abcdef-given", "--data", data)
	m = regexp.MustCompile(`^id: (\S+)\nsecret: 0123456789abcdef-given\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("webhook add --user --secret printed %q", out)
	}
	aliceID := m[1]

	for _, tc := range []struct {
		args []string
		kind drive.Kind
	}{
		{[]string{"--app", auth.AdminClientID, "--url", "ftp://x/"}, drive.Invalid},
		{[]string{"--app", auth.AdminClientID, "--url", recv.URL, "--events", "node.exploded"}, drive.Invalid},
		{[]string{"--app", "no-such-app", "--url", recv.URL}, drive.NotFound},
		{[]string{"--app", auth.AdminClientID, "--url", recv.URL, "--user", "nobody"}, drive.NotFound},
	} {
		args := append([]string{"admin", "webhook", "add", "--data", data}, tc.args...)
		if _, _, err := run(t, "", args...); !drive.Is(tc.kind, err) {
			t.Errorf("webhook add %v = %v, want kind %v", tc.args, err, tc.kind)
		}
	}

	list := mustRun(t, "", "admin", "webhook", "list", "--data", data)
	if !regexp.MustCompile(`(?m)^`+allID+`\s+clouddrive-admin\s+\(all who granted\)\s+node.created,node.trashed\s+`+regexp.QuoteMeta(recv.URL)+`/all\s`).MatchString(list) ||
		!regexp.MustCompile(`(?m)^`+aliceID+`\s+clouddrive-admin\s+alice\s+all\s+`).MatchString(list) {
		t.Errorf("webhook list =\n%s", list)
	}

	// A change while a server runs: both subscriptions take node.created;
	// the receiver fails, so both deliveries stay pending.
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DataDir: data, WebhookPoll: -1, WebhookAllowInternal: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Nodes.EnsureUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	pctx := drive.NewContext(ctx, drive.Principal{UserID: u.ID, App: auth.AdminClientID, Scopes: []string{drive.ScopeWrite}})
	if _, err := a.Nodes.CreateFolder(pctx, nodes.NewNode{Name: "docs", Parents: []string{u.RootID}}); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Webhooks.RunOnce(ctx); n != 2 || err != nil {
		t.Fatalf("RunOnce = %d, %v; want 2 attempts", n, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 2 {
		t.Errorf("receiver got %d requests, want 2", hits.Load())
	}

	out = mustRun(t, "", "admin", "webhook", "deliveries", "--status", "pending", "--sub", aliceID, "--data", data)
	row := regexp.MustCompile(`(?m)^(\S+)\s+\S+\s+node.created\s+` + aliceID + `\s+pending\s+1\s+\S+\s+\S+ HTTP 500`).FindStringSubmatch(out)
	if row == nil {
		t.Fatalf("webhook deliveries --status pending --sub =\n%s", out)
	}
	if out := mustRun(t, "", "admin", "webhook", "deliveries", "--data", data); strings.Count(out, "pending") != 2 {
		t.Errorf("webhook deliveries =\n%s\nwant two pending rows", out)
	}
	if out := mustRun(t, "", "admin", "webhook", "deliveries", "--status", "dead", "--data", data); strings.Count(out, "\n") != 1 {
		t.Errorf("webhook deliveries --status dead =\n%s\nwant only the header", out)
	}
	if _, _, err := run(t, "", "admin", "webhook", "deliveries", "--status", "lost", "--data", data); !drive.Is(drive.Invalid, err) {
		t.Errorf("webhook deliveries --status lost = %v, want Invalid", err)
	}

	out = mustRun(t, "", "admin", "webhook", "replay", row[1], "--data", data)
	if !strings.Contains(out, "queued again") {
		t.Errorf("webhook replay printed %q", out)
	}
	inspect(t, data, func(ctx context.Context, tx meta.Tx) error {
		d, err := tx.Delivery(ctx, row[1])
		if err != nil {
			return err
		}
		if d.Status != meta.DeliveryPending || d.Attempts != 0 {
			t.Errorf("delivery after replay: status %s, %d attempts; want pending, 0", d.Status, d.Attempts)
		}
		return nil
	})
	if _, _, err := run(t, "", "admin", "webhook", "replay", "nope", "--data", data); !drive.Is(drive.NotFound, err) {
		t.Errorf("webhook replay of a missing delivery = %v, want NotFound", err)
	}

	mustRun(t, "", "admin", "webhook", "delete", aliceID, "--data", data)
	if list := mustRun(t, "", "admin", "webhook", "list", "--data", data); strings.Contains(list, aliceID) || !strings.Contains(list, allID) {
		t.Errorf("webhook list after delete =\n%s", list)
	}
	if _, _, err := run(t, "", "admin", "webhook", "delete", aliceID, "--data", data); !drive.Is(drive.NotFound, err) {
		t.Errorf("deleting a deleted webhook = %v, want NotFound", err)
	}
}
