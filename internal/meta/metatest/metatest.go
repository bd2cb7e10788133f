// Package metatest is the conformance suite for meta.Store implementations.
// Every backend's tests call Run; any new behaviour of the contract goes
// into this suite first.
//
// Beyond the doc comments in package meta, the suite pins down these
// behaviours, which every backend must share:
//
//   - Times come back in UTC at millisecond precision; the suite only
//     stores times that are already whole milliseconds.
//   - A live-name Conflict from InsertNode or UpdateNode carries the id of
//     the existing node in its NodeID.
//   - The order of a node's Parents and Labels is not part of the contract;
//     the suite compares them as sets. Empty and nil slices are equal.
//   - Properties returns a non-nil map; List returns a non-nil Nodes slice.
//   - Cursor values are int64 or string, so package nodes can carry them
//     in a JSON page token.
//   - DeleteUser and UpdateUser of a missing user give NotFound, as does
//     UpdateNode of a missing node or of another user's node.
//   - A View does not block an Update, and does not see what it commits.
//   - Concurrent Updates commit or roll back each on its own, whether or
//     not the store batches them; a panic in fn reaches Update's caller
//     with fn's value; change numbers become visible in order.
//
// The suite names every subtest, so a single failure can be rerun with
// go test -run 'TestConformance/Name'.
package metatest

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"path"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Run runs the conformance suite against the stores returned by newStore.
// newStore is called once per subtest and must return an empty store; it
// registers the store's Close with t.Cleanup. The Close subtest closes its
// store itself, so that cleanup sees a second Close.
func Run(t *testing.T, newStore func(t *testing.T) meta.Store) {
	t.Helper()
	tests := []subtest{
		{"CreateUser", testCreateUser},
		{"CreateUserDuplicateName", testCreateUserDuplicateName},
		{"UserMissing", testUserMissing},
		{"UsersOrderedByName", testUsersOrderedByName},
		{"UpdateUser", testUpdateUser},
		{"DeleteUser", testDeleteUser},

		{"NextSeq", testNextSeq},
		{"NextSeqMissingUser", testNextSeqMissingUser},
		{"NextSeqRollback", testNextSeqRollback},
		{"NextSeqConcurrent", testNextSeqConcurrent},

		{"NodeRoundTrip", testNodeRoundTrip},
		{"UpdateNodeRoundTrip", testUpdateNodeRoundTrip},
		{"ModTimeRoundTrip", testModTimeRoundTrip},
		{"NodeMissing", testNodeMissing},
		{"NodeOtherUser", testNodeOtherUser},

		{"LiveNameConflict", testLiveNameConflict},
		{"LiveNameUnicodeFold", testLiveNameUnicodeFold},
		{"LiveNameTrashNoConflict", testLiveNameTrashNoConflict},
		{"LiveNameRestoreConflict", testLiveNameRestoreConflict},
		{"LiveNameRenameConflict", testLiveNameRenameConflict},
		{"LiveNameDifferentParents", testLiveNameDifferentParents},
		{"LiveNameMultiParent", testLiveNameMultiParent},

		{"ChildByName", testChildByName},
		{"NodeByMD5", testNodeByMD5},
		{"LocalID", testLocalID},
		{"LocalIDConflict", testLocalIDConflict},
		{"Subtree", testSubtree},
		{"TrashedWith", testTrashedWith},

		{"ListEmpty", testListEmpty},
		{"ListPaging", testListPaging},
		{"ListSort", testListSort},
		{"ListStatuses", testListStatuses},
		{"ListParent", testListParent},
		{"ListTrashRootsOnly", testListTrashRootsOnly},
		{"ListFilter", testListFilter},
		{"ListUserIsolation", testListUserIsolation},

		{"Changed", testChanged},
		{"AppendChange", testAppendChange},
		{"Usage", testUsage},
		{"BlobReferenced", testBlobReferenced},
		{"LockBlob", testLockBlob},

		{"Properties", testProperties},
		{"PropertiesOwners", testPropertiesOwners},
		{"DeleteProperties", testDeleteProperties},

		{"Token", testToken},
		{"TokenMissing", testTokenMissing},
		{"RevokeTokens", testRevokeTokens},

		{"Settings", testSettings},

		{"ViewSnapshot", testViewSnapshot},
		{"Ping", testPing},
		{"Close", testClose},
	}
	tests = append(tests, oauthTests()...)
	tests = append(tests, derivedTests()...)
	tests = append(tests, shareTests()...)
	tests = append(tests, webhookTests()...)
	tests = append(tests, usedTests()...)
	tests = append(tests, concurrentTests()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// clock returns the suite's fixed base time plus d. The base is a whole
// millisecond in UTC, as the store keeps times.
func clock(d time.Duration) time.Time {
	return time.Date(2024, time.March, 1, 9, 30, 0, 123_000_000, time.UTC).Add(d)
}

// update runs fn in s.Update and fails the test on error. fn reports
// problems by returning errors, never by calling t.Fatal, so that the
// transaction always ends.
func update(t *testing.T, s meta.Store, fn func(ctx context.Context, tx meta.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.Update(ctx, func(tx meta.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Update error: %v", err)
	}
}

// view runs fn in s.View and fails the test on error.
func view(t *testing.T, s meta.Store, fn func(ctx context.Context, tx meta.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.View(ctx, func(tx meta.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("View error: %v", err)
	}
}

// tryUpdate runs fn in s.Update and returns its error.
func tryUpdate(t *testing.T, s meta.Store, fn func(ctx context.Context, tx meta.Tx) error) error {
	t.Helper()
	ctx := t.Context()
	return s.Update(ctx, func(tx meta.Tx) error { return fn(ctx, tx) })
}

// tryView runs fn in s.View and returns its error.
func tryView(t *testing.T, s meta.Store, fn func(ctx context.Context, tx meta.Tx) error) error {
	t.Helper()
	ctx := t.Context()
	return s.View(ctx, func(tx meta.Tx) error { return fn(ctx, tx) })
}

// wantKind reports an error unless err is a drive error of kind k.
func wantKind(t *testing.T, call string, err error, k drive.Kind) {
	t.Helper()
	if !drive.Is(k, err) {
		t.Errorf("%s = %v (kind %v), want kind %v", call, err, drive.KindOf(err), k)
	}
}

// wantConflict reports an error unless err is a Conflict naming nodeID.
func wantConflict(t *testing.T, call string, err error, nodeID string) {
	t.Helper()
	if !drive.Is(drive.Conflict, err) {
		t.Errorf("%s = %v (kind %v), want kind %v", call, err, drive.KindOf(err), drive.Conflict)
		return
	}
	if got := drive.AsError(err).NodeID; got != nodeID {
		t.Errorf("%s Conflict NodeID = %q, want %q", call, got, nodeID)
	}
}

// newUser returns a user named name and its root folder, not yet stored.
func newUser(name string) (*drive.User, *drive.Node) {
	u := &drive.User{
		ID:        drive.NewID(),
		Name:      name,
		Quota:     5 << 30,
		CreatedAt: clock(0),
		Epoch:     "epoch-" + name,
	}
	root := &drive.Node{
		ID:         drive.NewID(),
		UserID:     u.ID,
		Kind:       drive.KindFolder,
		Status:     drive.StatusAvailable,
		IsRoot:     true,
		CreatedAt:  clock(0),
		ModifiedAt: clock(0),
		CreatedBy:  "clouddrive",
		Version:    1,
	}
	u.RootID = root.ID
	return u, root
}

// createUser stores a new user named name with its root folder.
func createUser(t *testing.T, s meta.Store, name string) (*drive.User, *drive.Node) {
	t.Helper()
	u, root := newUser(name)
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.CreateUser(ctx, u, root)
	})
	return u, root
}

// folder returns an AVAILABLE folder of userID named name under parents.
func folder(userID, name string, parents ...string) *drive.Node {
	return &drive.Node{
		ID:         drive.NewID(),
		UserID:     userID,
		Kind:       drive.KindFolder,
		Name:       name,
		Status:     drive.StatusAvailable,
		Parents:    parents,
		CreatedAt:  clock(time.Minute),
		ModifiedAt: clock(2 * time.Minute),
		CreatedBy:  "app-test",
		Version:    1,
	}
}

// file returns an AVAILABLE file of userID named name under parents, with
// size bytes of contentType. Its md5 is derived from the name and its blob
// key from its id.
func file(userID, name string, size int64, contentType string, parents ...string) *drive.Node {
	n := folder(userID, name, parents...)
	n.Kind = drive.KindFile
	sum := md5.Sum([]byte(name))
	n.Content = &drive.Content{
		BlobKey:     "blob-" + n.ID,
		Size:        size,
		MD5:         hex.EncodeToString(sum[:]),
		ContentType: contentType,
		Extension:   trimDot(path.Ext(name)),
		Version:     1,
	}
	return n
}

func trimDot(ext string) string {
	if ext != "" {
		return ext[1:]
	}
	return ext
}

// trashed sets n's status to TRASH with trash root root ("" for n itself)
// and returns n.
func trashed(n *drive.Node, root string) *drive.Node {
	n.Status = drive.StatusTrash
	if root == "" {
		root = n.ID
	}
	n.TrashRoot = root
	return n
}

// insert stores nodes in one transaction, in order.
func insert(t *testing.T, s meta.Store, nodes ...*drive.Node) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for _, n := range nodes {
			if err := tx.InsertNode(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
}

// getNode reads one node in its own View.
func getNode(t *testing.T, s meta.Store, userID, id string) (*drive.Node, error) {
	t.Helper()
	var n *drive.Node
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		n, err = tx.Node(ctx, userID, id)
		return err
	})
	return n, err
}

// norm returns a copy of n with Parents and Labels sorted, for comparing
// nodes regardless of the order a backend returns them in.
func norm(n *drive.Node) *drive.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Parents = slices.Sorted(slices.Values(n.Parents))
	c.Labels = slices.Sorted(slices.Values(n.Labels))
	if n.Content != nil {
		content := *n.Content
		c.Content = &content
	}
	return &c
}

// nodeOpts compares nodes: empty and nil slices are equal.
func nodeOpts() gocmp.Options {
	return gocmp.Options{cmpopts.EquateEmpty()}
}

// diffNode returns the difference between want and got as sets of parents
// and labels.
func diffNode(want, got *drive.Node) string {
	return gocmp.Diff(norm(want), norm(got), nodeOpts())
}

// diffNodes compares node lists element by element.
func diffNodes(want, got []*drive.Node) string {
	w := make([]*drive.Node, len(want))
	for i, n := range want {
		w[i] = norm(n)
	}
	g := make([]*drive.Node, len(got))
	for i, n := range got {
		g[i] = norm(n)
	}
	return gocmp.Diff(w, g, nodeOpts())
}

// ids returns the ids of nodes in order.
func ids(nodes []*drive.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

// sortedIDs returns ids sorted, for comparing sets.
func sortedIDs(ids ...string) []string {
	return slices.SortedFunc(slices.Values(ids), cmp.Compare[string])
}

// checkUTC reports an error for every time of n that is not in UTC.
func checkUTC(t *testing.T, call string, n *drive.Node) {
	t.Helper()
	times := map[string]time.Time{"CreatedAt": n.CreatedAt, "ModifiedAt": n.ModifiedAt}
	if n.Content != nil && !n.Content.ContentDate.IsZero() {
		times["Content.ContentDate"] = n.Content.ContentDate
	}
	if n.Content != nil && !n.Content.ModTime.IsZero() {
		times["Content.ModTime"] = n.Content.ModTime
	}
	for name, tm := range times {
		if tm.Location() != time.UTC {
			t.Errorf("%s.%s location = %v, want UTC", call, name, tm.Location())
		}
	}
}

// subtest is one conformance test: a name and a function run on a fresh
// store.
type subtest struct {
	name string
	fn   func(t *testing.T, s meta.Store)
}
