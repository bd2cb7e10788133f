package metatest

import (
	"context"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// shareTests are the subtests of meta.ShareTx. Run appends them to its
// table.
func shareTests() []subtest {
	return []subtest{
		{"ShareLinkRoundTrip", testShareLinkRoundTrip},
		{"ShareLinkConflict", testShareLinkConflict},
		{"ShareLinksOrdered", testShareLinksOrdered},
		{"DeleteShareLink", testDeleteShareLink},
		{"DeleteUserShareLinks", testDeleteUserShareLinks},
	}
}

func shareLink(userID, nodeID, token string, created time.Duration) *meta.ShareLink {
	return &meta.ShareLink{ID: drive.NewID(), UserID: userID, NodeID: nodeID, Token: token, CreatedAt: clock(created)}
}

func insertShareLinks(t *testing.T, s meta.Store, ls ...*meta.ShareLink) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for _, l := range ls {
			if err := tx.InsertShareLink(ctx, l); err != nil {
				return err
			}
		}
		return nil
	})
}

func shareLinkByToken(t *testing.T, s meta.Store, token string) (*meta.ShareLink, error) {
	t.Helper()
	var l *meta.ShareLink
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		l, err = tx.ShareLinkByToken(ctx, token)
		return err
	})
	return l, err
}

func shareLinks(t *testing.T, s meta.Store, userID, nodeID string) []*meta.ShareLink {
	t.Helper()
	var ls []*meta.ShareLink
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		ls, err = tx.ShareLinks(ctx, userID, nodeID)
		return err
	})
	return ls
}

func linkIDs(ls []*meta.ShareLink) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

func testShareLinkRoundTrip(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	f := file(u.ID, "a.txt", 1, "text/plain", root.ID)
	insert(t, s, f)
	l := shareLink(u.ID, f.ID, "tok-1", 0)
	l.PasswordHash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
	l.ExpiresAt = clock(time.Hour)
	insertShareLinks(t, s, l)
	got, err := shareLinkByToken(t, s, "tok-1")
	if err != nil {
		t.Fatalf("ShareLinkByToken: %v", err)
	}
	if diff := gocmp.Diff(l, got); diff != "" {
		t.Errorf("ShareLinkByToken mismatch (-want +got):\n%s", diff)
	}
	_, err = shareLinkByToken(t, s, "tok-missing")
	wantKind(t, "ShareLinkByToken(missing)", err, drive.NotFound)

	// No expiry and no password round-trip as zero values.
	l2 := shareLink(u.ID, root.ID, "tok-2", time.Second)
	insertShareLinks(t, s, l2)
	if got, err := shareLinkByToken(t, s, "tok-2"); err != nil || gocmp.Diff(l2, got) != "" {
		t.Errorf("ShareLinkByToken(tok-2) = %+v, %v; want %+v", got, err, l2)
	}
}

func testShareLinkConflict(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	l := shareLink(u.ID, root.ID, "tok-1", 0)
	insertShareLinks(t, s, l)
	dupToken := shareLink(u.ID, root.ID, "tok-1", 0)
	dupID := shareLink(u.ID, root.ID, "tok-2", 0)
	dupID.ID = l.ID
	for name, d := range map[string]*meta.ShareLink{"token": dupToken, "id": dupID} {
		err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.InsertShareLink(ctx, d) })
		wantKind(t, "InsertShareLink(duplicate "+name+")", err, drive.Conflict)
	}
}

func testShareLinksOrdered(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	bob, bobRoot := createUser(t, s, "bob")
	f := file(u.ID, "a.txt", 1, "text/plain", root.ID)
	insert(t, s, f)
	late := shareLink(u.ID, f.ID, "tok-late", 3*time.Second)
	early := shareLink(u.ID, root.ID, "tok-early", time.Second)
	mid := shareLink(u.ID, f.ID, "tok-mid", 2*time.Second)
	other := shareLink(bob.ID, bobRoot.ID, "tok-bob", 0)
	insertShareLinks(t, s, late, early, mid, other)

	if diff := gocmp.Diff([]string{early.ID, mid.ID, late.ID}, linkIDs(shareLinks(t, s, u.ID, ""))); diff != "" {
		t.Errorf("ShareLinks(alice) ids (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff([]string{mid.ID, late.ID}, linkIDs(shareLinks(t, s, u.ID, f.ID))); diff != "" {
		t.Errorf("ShareLinks(alice, file) ids (-want +got):\n%s", diff)
	}
	if got := shareLinks(t, s, u.ID, bobRoot.ID); got == nil || len(got) != 0 {
		t.Errorf("ShareLinks(alice, bob's root) = %v, want empty non-nil", got)
	}
}

func testDeleteShareLink(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	bob, _ := createUser(t, s, "bob")
	l := shareLink(u.ID, root.ID, "tok-1", 0)
	insertShareLinks(t, s, l)
	del := func(userID string) error {
		return tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteShareLink(ctx, userID, l.ID) })
	}
	wantKind(t, "DeleteShareLink(another user's)", del(bob.ID), drive.NotFound)
	if err := del(u.ID); err != nil {
		t.Fatalf("DeleteShareLink: %v", err)
	}
	wantKind(t, "DeleteShareLink(again)", del(u.ID), drive.NotFound)
	_, err := shareLinkByToken(t, s, "tok-1")
	wantKind(t, "ShareLinkByToken(deleted)", err, drive.NotFound)
}

func testDeleteUserShareLinks(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	f := file(u.ID, "a.txt", 1, "text/plain", root.ID)
	insert(t, s, f)
	insertShareLinks(t, s, shareLink(u.ID, f.ID, "tok-1", 0), shareLink(u.ID, root.ID, "tok-2", 0))
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteUser(ctx, u.ID) })
	for _, tok := range []string{"tok-1", "tok-2"} {
		_, err := shareLinkByToken(t, s, tok)
		wantKind(t, "ShareLinkByToken(deleted user's)", err, drive.NotFound)
	}
}
