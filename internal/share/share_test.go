package share_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/share"
)

// TestCreatePasswordHashBound: setting a link password hashes it within
// the shared hasher's bound: while every turn is taken, creating a link
// with a password is RateLimited (429 with Retry-After in the API), one
// without a password is not.
func TestCreatePasswordHashBound(t *testing.T) {
	a, err := app.Open(t.Context(), app.Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), WebhookPoll: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	u, err := a.Nodes.EnsureUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	ctx := drive.NewContext(t.Context(), drive.Principal{UserID: u.ID, App: auth.AdminClientID,
		Scopes: []string{drive.ScopeReadAll, drive.ScopeWrite}})
	root, err := a.Nodes.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hold, entered := make(chan struct{}), make(chan struct{}, 1)
	h := &auth.Hasher{Max: 1, Wait: 50 * time.Millisecond, Running: func(int) {
		select {
		case entered <- struct{}{}:
			<-hold
		default:
		}
	}}
	s := &share.Service{Meta: a.Meta, Nodes: a.Nodes, Now: time.Now, NewID: drive.NewID, Key: make([]byte, 32), Hasher: h,
		Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}
	first := make(chan error, 1)
	go func() {
		_, err := s.Create(ctx, root.ID, share.CreateOptions{Password: "first password"})
		first <- err
	}()
	<-entered
	_, err = s.Create(ctx, root.ID, share.CreateOptions{Password: "second password"})
	if de := drive.AsError(err); !drive.Is(drive.RateLimited, err) || de.RetryAfter <= 0 {
		t.Errorf("Create with a password while the hasher is full = %v, want RateLimited with RetryAfter", err)
	}
	if _, err := s.Create(ctx, root.ID, share.CreateOptions{}); err != nil {
		t.Errorf("Create without a password: %v", err)
	}
	close(hold)
	if err := <-first; err != nil {
		t.Errorf("first Create: %v", err)
	}
}
