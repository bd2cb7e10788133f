package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// hookCall calls the webhooks API with a token and returns the status and
// body.
func hookCall(t *testing.T, s *drivetest.Server, token, method, path string, in any) (int, []byte) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.MetadataURL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// appToken mints a token of app clientID for user (created if needed).
func appToken(t *testing.T, s *drivetest.Server, user, clientID, scope string) string {
	t.Helper()
	ctx := context.Background()
	u, err := s.App.Nodes.EnsureUser(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.App.Tokens.Mint(ctx, u.ID, clientID, scope, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func decodeHook(t *testing.T, b []byte) *acd.Webhook {
	t.Helper()
	var w acd.Webhook
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return &w
}

func TestWebhooksAPI(t *testing.T) {
	now := time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)
	s := drivetest.New(t, drivetest.Options{Now: func() time.Time { return now }, WebhookPoll: -1})
	const full = "clouddrive:read_all clouddrive:write"
	alice := appToken(t, s, "alice", "app-a", full)
	aliceB := appToken(t, s, "alice", "app-b", full)
	bob := appToken(t, s, "bob", "app-a", full)
	readOnly := appToken(t, s, "alice", "app-a", "clouddrive:read_all")

	st, b := hookCall(t, s, alice, "POST", "webhooks", acd.NewWebhook{URL: "https://hooks.example/a",
		Secret: "0123456789abcdef-secret", Events: []string{acd.EventNodeTrashed, acd.EventNodeCreated, acd.EventNodeCreated}})
	if st != http.StatusCreated {
		t.Fatalf("POST webhooks = %d %s, want 201", st, b)
	}
	created := decodeHook(t, b)
	want := &acd.Webhook{ID: created.ID, URL: "https://hooks.example/a", Events: []string{acd.EventNodeCreated, acd.EventNodeTrashed},
		AppID: "app-a", UserID: created.UserID, Secret: "0123456789abcdef-secret", CreatedDate: "2025-06-01T12:00:00.000Z"}
	if diff := cmp.Diff(want, created); diff != "" || created.UserID == "" {
		t.Errorf("POST webhooks reply mismatch (-want +got):\n%s", diff)
	}
	st, b = hookCall(t, s, alice, "POST", "webhooks", acd.NewWebhook{URL: "http://127.0.0.1:9/x"})
	if st != http.StatusCreated {
		t.Fatalf("POST webhooks without secret = %d %s, want 201", st, b)
	}
	second := decodeHook(t, b)
	if len(second.Secret) != 64 || len(second.Events) != 0 || second.Events == nil {
		t.Errorf("POST webhooks without secret or events = secret %q, events %#v; want a generated 64-hex secret and []", second.Secret, second.Events)
	}

	t.Run("OwnOnly", func(t *testing.T) {
		st, b := hookCall(t, s, alice, "GET", "webhooks", nil)
		var l acd.WebhookList
		if err := json.Unmarshal(b, &l); err != nil || st != http.StatusOK {
			t.Fatalf("GET webhooks = %d %s", st, b)
		}
		// Both were created at the same (fixed) time: the id breaks the tie.
		wantIDs := []string{created.ID, second.ID}
		slices.Sort(wantIDs)
		if l.Count != 2 || len(l.Data) != 2 || l.Data[0].ID != wantIDs[0] || l.Data[1].ID != wantIDs[1] {
			t.Errorf("GET webhooks (alice, app-a) = %s, want her two subscriptions in (createdDate, id) order", b)
		}
		for _, w := range l.Data {
			if w.Secret != "" {
				t.Errorf("GET webhooks shows the secret of %s", w.ID)
			}
		}
		for name, tok := range map[string]string{"bob, app-a": bob, "alice, app-b": aliceB} {
			st, b := hookCall(t, s, tok, "GET", "webhooks", nil)
			if st != http.StatusOK || !strings.Contains(string(b), `"count":0`) || !strings.Contains(string(b), `"data":[]`) {
				t.Errorf("GET webhooks (%s) = %d %s, want an empty list", name, st, b)
			}
			for _, method := range []string{"GET", "DELETE"} {
				if st, b := hookCall(t, s, tok, method, "webhooks/"+created.ID, nil); st != http.StatusNotFound {
					t.Errorf("%s webhooks/{alice's} as %s = %d %s, want 404", method, name, st, b)
				}
			}
		}
		st, b = hookCall(t, s, alice, "GET", "webhooks/"+created.ID, nil)
		if got := decodeHook(t, b); st != http.StatusOK || got.ID != created.ID || got.Secret != "" {
			t.Errorf("GET webhooks/{id} = %d %s, want the subscription without its secret", st, b)
		}
	})

	t.Run("Validation", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			in   any
			msg  string
		}{
			{"no url", acd.NewWebhook{}, "url:"},
			{"relative url", acd.NewWebhook{URL: "/hook"}, "url:"},
			{"ftp url", acd.NewWebhook{URL: "ftp://hooks.example/"}, "url:"},
			{"no host", acd.NewWebhook{URL: "https:///x"}, "url:"},
			{"credentials", acd.NewWebhook{URL: "https://u:p@hooks.example/"}, "url:"},
			{"not a url", acd.NewWebhook{URL: "http://[::1"}, "url:"},
			{"short secret", acd.NewWebhook{URL: "https://hooks.example/", Secret: "short"}, "secret:"},
			{"unknown event", acd.NewWebhook{URL: "https://hooks.example/", Events: []string{"node.exploded"}}, "events:"},
			{"bad json", "not an object", "body:"},
		} {
			st, b := hookCall(t, s, alice, "POST", "webhooks", tc.in)
			var e acd.Error
			if err := json.Unmarshal(b, &e); err != nil {
				t.Errorf("%s: error body %s: %v", tc.name, b, err)
			}
			if st != http.StatusBadRequest || !strings.HasPrefix(e.Message, tc.msg) || e.Logref == "" {
				t.Errorf("POST webhooks (%s) = %d %s, want 400 with a message starting %q and a logref", tc.name, st, b, tc.msg)
			}
		}
	})

	t.Run("Scope", func(t *testing.T) {
		if st, b := hookCall(t, s, readOnly, "POST", "webhooks", acd.NewWebhook{URL: "https://hooks.example/"}); st != http.StatusForbidden {
			t.Errorf("POST webhooks with a read-only token = %d %s, want 403", st, b)
		}
		if st, b := hookCall(t, s, readOnly, "DELETE", "webhooks/"+created.ID, nil); st != http.StatusForbidden {
			t.Errorf("DELETE webhooks/{id} with a read-only token = %d %s, want 403", st, b)
		}
		if st, b := hookCall(t, s, readOnly, "GET", "webhooks", nil); st != http.StatusOK {
			t.Errorf("GET webhooks with a read-only token = %d %s, want 200", st, b)
		}
		if st, b := hookCall(t, s, "", "GET", "webhooks", nil); st != http.StatusUnauthorized {
			t.Errorf("GET webhooks without a token = %d %s, want 401", st, b)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		if st, b := hookCall(t, s, alice, "DELETE", "webhooks/"+created.ID, nil); st != http.StatusNoContent {
			t.Fatalf("DELETE webhooks/{id} = %d %s, want 204", st, b)
		}
		if st, b := hookCall(t, s, alice, "GET", "webhooks/"+created.ID, nil); st != http.StatusNotFound {
			t.Errorf("GET webhooks/{deleted} = %d %s, want 404", st, b)
		}
		if st, b := hookCall(t, s, alice, "DELETE", "webhooks/"+created.ID, nil); st != http.StatusNotFound {
			t.Errorf("DELETE webhooks/{deleted} = %d %s, want 404", st, b)
		}
	})
}
