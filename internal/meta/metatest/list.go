package metatest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// listData is the listing fixture: Alice's folder P holds 450 AVAILABLE
// children with many equal sizes and dates, plus trashed and purged nodes
// whose names repeat live ones; folder Q holds children whose names fold
// to names in P, a trashed folder T, and a node that lives in both P and
// Q. Bob has a few nodes named like Alice's.
type listData struct {
	alice, bob      *drive.User
	aliceRoot, p, q *drive.Node
	trashT          *drive.Node
	nodes           []*drive.Node // all of Alice's nodes, root included
	bobNodes        []*drive.Node // all of Bob's nodes, root included
}

func buildList(t *testing.T, s meta.Store) *listData {
	t.Helper()
	d := &listData{}
	var bobRoot *drive.Node
	d.alice, d.aliceRoot = createUser(t, s, "alice")
	d.bob, bobRoot = createUser(t, s, "bob")
	a := d.alice.ID
	d.p = folder(a, "P", d.aliceRoot.ID)
	d.q = folder(a, "Q", d.aliceRoot.ID)
	nodes := []*drive.Node{d.p, d.q}

	contentTypes := []string{"image/jpeg", "video/mp4", "text/plain"}
	var pNames []string
	for i := range 450 {
		var name string
		switch i % 4 {
		case 0:
			name = fmt.Sprintf("foo-%03d", i)
		case 1:
			name = fmt.Sprintf("Foo %03d.txt", i)
		case 2:
			name = fmt.Sprintf("bar-%03d.jpg", i)
		default:
			name = fmt.Sprintf("BAR_%03d", i)
		}
		pNames = append(pNames, name)
		var n *drive.Node
		if i%9 == 0 {
			n = folder(a, name, d.p.ID)
		} else {
			n = file(a, name, int64(i%7)*100, contentTypes[i%3], d.p.ID)
		}
		n.CreatedAt = clock(-time.Duration(i) * time.Second)
		n.ModifiedAt = clock(time.Duration(i%13) * time.Minute)
		n.ChangeSeq = int64(i + 1)
		if i%10 == 3 {
			n.Labels = []string{"tagged", fmt.Sprintf("l%d", i%3)}
		}
		nodes = append(nodes, n)
	}
	for j := range 40 {
		n := file(a, strings.ToUpper(pNames[j]), int64(j%7)*100, "application/zip", d.q.ID)
		n.ModifiedAt = clock(time.Duration(j%13) * time.Minute)
		nodes = append(nodes, n)
	}
	d.trashT = trashed(folder(a, "T", d.q.ID), "")
	nodes = append(nodes, d.trashT)
	for j := range 15 {
		root := d.trashT.ID
		if j%2 == 0 {
			root = ""
		}
		n := trashed(file(a, pNames[j], 50, "text/plain", d.p.ID), root)
		n.ModifiedAt = clock(time.Duration(j%13) * time.Minute)
		nodes = append(nodes, n)
	}
	for j := range 5 {
		n := file(a, pNames[j], 700, "image/png", d.p.ID)
		n.Status = drive.StatusPurged
		nodes = append(nodes, n)
	}
	nodes = append(nodes, file(a, "multi.bin", 12345, "application/octet-stream", d.p.ID, d.q.ID))
	insert(t, s, nodes...)
	d.nodes = append([]*drive.Node{d.aliceRoot}, nodes...)

	d.bobNodes = []*drive.Node{bobRoot}
	for j := range 10 {
		n := file(d.bob.ID, pNames[j], 100, "text/plain", bobRoot.ID)
		if j == 3 {
			n.Labels = []string{"tagged"}
		}
		d.bobNodes = append(d.bobNodes, n)
	}
	insert(t, s, d.bobNodes[1:]...)
	return d
}

// where returns the nodes for which keep is true, in order.
func where(nodes []*drive.Node, keep func(n *drive.Node) bool) []*drive.Node {
	var out []*drive.Node
	for _, n := range nodes {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out
}

func hasParent(n *drive.Node, parent string) bool { return slices.Contains(n.Parents, parent) }

// sortValue is the value a node sorts by for a sort field, as
// meta.Query.Sort documents it: the folded name, times in milliseconds,
// -1 for a missing size and 0 for a missing content date.
func sortValue(n *drive.Node, field string) any {
	switch field {
	case filter.FieldName:
		return drive.NameKey(n.Name)
	case filter.FieldCreated:
		return n.CreatedAt.UnixMilli()
	case filter.FieldModified:
		return n.ModifiedAt.UnixMilli()
	case filter.FieldSize:
		if n.Kind == drive.KindFile && n.Content != nil {
			return n.Content.Size
		}
		return int64(-1)
	case filter.FieldContentDate:
		if n.Kind == drive.KindFile && n.Content != nil && !n.Content.ContentDate.IsZero() {
			return n.Content.ContentDate.UnixMilli()
		}
		return int64(0)
	case filter.FieldKind:
		return string(n.Kind)
	case filter.FieldID:
		return n.ID
	}
	panic("metatest: no sort value for field " + field)
}

func compareValues(x, y any) int {
	switch x := x.(type) {
	case int64:
		return cmp.Compare(x, y.(int64))
	case string:
		return cmp.Compare(x, y.(string))
	}
	panic(fmt.Sprintf("metatest: cannot compare %T", x))
}

// sorted returns nodes in the order a listing sorted by keys must return
// them: by each key in turn, ties broken by id ascending.
func sorted(nodes []*drive.Node, keys []filter.SortKey) []*drive.Node {
	out := slices.Clone(nodes)
	slices.SortFunc(out, func(x, y *drive.Node) int {
		for _, k := range keys {
			c := compareValues(sortValue(x, k.Field), sortValue(y, k.Field))
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(x.ID, y.ID)
	})
	return out
}

func parseSort(t *testing.T, s string) []filter.SortKey {
	t.Helper()
	keys, err := filter.ParseSort(s)
	if err != nil {
		t.Fatalf("ParseSort(%q) error: %v", s, err)
	}
	return keys
}

func parseFilter(t *testing.T, s string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q) error: %v", s, err)
	}
	return e
}

func listPage(t *testing.T, s meta.Store, q meta.Query) meta.Page {
	t.Helper()
	var pg meta.Page
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		pg, err = tx.List(ctx, q)
		return err
	})
	return pg
}

// walk pages through q from the start, checking every page's shape, and
// returns all nodes in the order they came. desc names q in messages.
func walk(t *testing.T, s meta.Store, desc string, q meta.Query, wantTotal int) []*drive.Node {
	t.Helper()
	q.After = nil
	wantPages := max(1, (wantTotal+q.Limit-1)/q.Limit)
	var out []*drive.Node
	for page := 1; ; page++ {
		if page > wantPages {
			t.Fatalf("List(%s) gave more than %d pages for %d matches with Limit %d", desc, wantPages, wantTotal, q.Limit)
		}
		pg := listPage(t, s, q)
		if pg.Total != int64(wantTotal) {
			t.Errorf("List(%s) page %d Total = %d, want %d", desc, page, pg.Total, wantTotal)
		}
		if pg.Nodes == nil {
			t.Errorf("List(%s) page %d Nodes = nil, want a non-nil slice", desc, page)
		}
		if len(pg.Nodes) > q.Limit {
			t.Errorf("List(%s) page %d has %d nodes, want at most Limit %d", desc, page, len(pg.Nodes), q.Limit)
		}
		out = append(out, pg.Nodes...)
		if pg.Last == nil {
			if page != wantPages {
				t.Errorf("List(%s) ended after page %d, want %d pages for %d matches with Limit %d", desc, page, wantPages, wantTotal, q.Limit)
			}
			return out
		}
		if len(pg.Nodes) != q.Limit {
			t.Fatalf("List(%s) page %d has %d nodes and a Last cursor, want a full page of %d", desc, page, len(pg.Nodes), q.Limit)
		}
		if last := pg.Nodes[len(pg.Nodes)-1].ID; pg.Last.ID != last {
			t.Errorf("List(%s) page %d Last.ID = %s, want the last node %s", desc, page, pg.Last.ID, last)
		}
		if len(pg.Last.Values) != len(q.Sort) {
			t.Fatalf("List(%s) page %d Last.Values = %v, want %d values", desc, page, pg.Last.Values, len(q.Sort))
		}
		for i, v := range pg.Last.Values {
			switch v.(type) {
			case int64, string:
			default:
				t.Errorf("List(%s) page %d Last.Values[%d] = %v (%T), want int64 or string", desc, page, i, v, v)
			}
		}
		q.After = pg.Last
	}
}

// checkWalk walks q and compares the ids it returns, in order, with want.
func checkWalk(t *testing.T, s meta.Store, desc string, q meta.Query, want []*drive.Node) []*drive.Node {
	t.Helper()
	got := walk(t, s, desc, q, len(want))
	if diff := gocmp.Diff(ids(want), ids(got), nodeOpts()); diff != "" {
		t.Errorf("List(%s) walk mismatch (-want +got):\n%s", desc, diff)
	}
	return got
}

// checkSet walks q and compares the set of ids it returns with want; it
// also reports any node returned twice.
func checkSet(t *testing.T, s meta.Store, desc string, q meta.Query, want []*drive.Node) {
	t.Helper()
	got := ids(walk(t, s, desc, q, len(want)))
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("List(%s) returned %s twice", desc, id)
		}
		seen[id] = true
	}
	if diff := gocmp.Diff(sortedIDs(ids(want)...), sortedIDs(got...), nodeOpts()); diff != "" {
		t.Errorf("List(%s) set mismatch (-want +got):\n%s", desc, diff)
	}
}

func testListEmpty(t *testing.T, s meta.Store) {
	u, root := createUser(t, s, "alice")
	pg := listPage(t, s, meta.Query{UserID: u.ID, Parent: root.ID, Limit: 200})
	if pg.Nodes == nil || len(pg.Nodes) != 0 || pg.Total != 0 || pg.Last != nil {
		t.Errorf("List(empty root) = {Nodes:%v Total:%d Last:%v}, want {Nodes:[] Total:0 Last:<nil>}", pg.Nodes, pg.Total, pg.Last)
	}
	pg = listPage(t, s, meta.Query{UserID: u.ID, Limit: 200})
	if diff := diffNodes([]*drive.Node{root}, pg.Nodes); diff != "" || pg.Total != 1 || pg.Last != nil {
		t.Errorf("List(user with only a root) = {Total:%d Last:%v}, want {Total:1 Last:<nil>}; nodes (-want +got):\n%s", pg.Total, pg.Last, diff)
	}
	pg = listPage(t, s, meta.Query{UserID: drive.NewID(), Limit: 200})
	if len(pg.Nodes) != 0 || pg.Total != 0 || pg.Last != nil {
		t.Errorf("List(missing user) = {Nodes:%d Total:%d Last:%v}, want {Nodes:0 Total:0 Last:<nil>}", len(pg.Nodes), pg.Total, pg.Last)
	}
}

func testListPaging(t *testing.T, s meta.Store) {
	d := buildList(t, s)
	all := sorted(d.nodes, nil)

	got := checkWalk(t, s, "all, Limit 200", meta.Query{UserID: d.alice.ID, Limit: 200}, all)
	if len(got) == len(all) {
		if diff := diffNodes(all, got); diff != "" {
			t.Errorf("List(all) nodes mismatch (-want +got):\n%s", diff)
		}
	}

	inQ := where(all, func(n *drive.Node) bool { return hasParent(n, d.q.ID) })
	if len(inQ)%21 != 0 {
		t.Fatalf("fixture: Q has %d children, want a multiple of 21", len(inQ))
	}
	// Pages that end exactly at the last match: no empty page follows.
	checkWalk(t, s, "Q, Limit 21", meta.Query{UserID: d.alice.ID, Parent: d.q.ID, Limit: 21}, inQ)
	checkWalk(t, s, "Q, Limit 1", meta.Query{UserID: d.alice.ID, Parent: d.q.ID, Limit: 1}, inQ)
	checkWalk(t, s, "Q, Limit 200", meta.Query{UserID: d.alice.ID, Parent: d.q.ID, Limit: 200}, inQ)
}

func testListSort(t *testing.T, s meta.Store) {
	d := buildList(t, s)
	for _, tt := range []struct{ name, sort string }{
		{"NameAsc", `["name ASC"]`},
		{"ModifiedDesc", `["modifiedDate DESC"]`},
		{"SizeDesc", `["contentProperties.size DESC"]`},
		{"KindNameDesc", `["kind", "name DESC"]`},
		{"SizeAscModifiedDesc", `["contentProperties.size ASC", "modifiedDate DESC"]`},
		{"CreatedDesc", `['createdDate DESC']`},
		{"IDDesc", `["id DESC"]`},
		{"None", ``},
	} {
		sort := tt.sort
		t.Run(tt.name, func(t *testing.T) {
			keys := parseSort(t, sort)
			checkWalk(t, s, "all, sort "+sort+", Limit 200",
				meta.Query{UserID: d.alice.ID, Sort: keys, Limit: 200}, sorted(d.nodes, keys))
			checkWalk(t, s, "all, sort "+sort+", Limit 37",
				meta.Query{UserID: d.alice.ID, Sort: keys, Limit: 37}, sorted(d.nodes, keys))
			inP := where(d.nodes, func(n *drive.Node) bool {
				return hasParent(n, d.p.ID) && n.Status == drive.StatusAvailable
			})
			checkWalk(t, s, "P AVAILABLE, sort "+sort+", Limit 200",
				meta.Query{UserID: d.alice.ID, Parent: d.p.ID, Statuses: []drive.Status{drive.StatusAvailable}, Sort: keys, Limit: 200},
				sorted(inP, keys))
		})
	}
}

func testListStatuses(t *testing.T, s meta.Store) {
	d := buildList(t, s)
	for _, tt := range []struct {
		name     string
		statuses []drive.Status
	}{
		{"AVAILABLE", []drive.Status{drive.StatusAvailable}},
		{"TRASH", []drive.Status{drive.StatusTrash}},
		{"PURGED", []drive.Status{drive.StatusPurged}},
		{"TRASH,PURGED", []drive.Status{drive.StatusTrash, drive.StatusPurged}},
		{"PENDING", []drive.Status{drive.StatusPending}},
	} {
		want := where(d.nodes, func(n *drive.Node) bool { return slices.Contains(tt.statuses, n.Status) })
		checkSet(t, s, "Statuses "+tt.name, meta.Query{UserID: d.alice.ID, Statuses: tt.statuses, Limit: 200}, want)
	}
}

func testListParent(t *testing.T, s meta.Store) {
	d := buildList(t, s)
	keys := parseSort(t, `["name"]`)
	for _, tt := range []struct {
		name     string
		parent   string
		statuses []drive.Status
	}{
		{"P", d.p.ID, nil},
		{"P AVAILABLE", d.p.ID, []drive.Status{drive.StatusAvailable}},
		{"Q", d.q.ID, nil},
		{"root", d.aliceRoot.ID, nil},
		{"T", d.trashT.ID, nil},
		{"missing", drive.NewID(), nil},
	} {
		want := where(d.nodes, func(n *drive.Node) bool {
			return hasParent(n, tt.parent) && (tt.statuses == nil || slices.Contains(tt.statuses, n.Status))
		})
		checkWalk(t, s, "Parent "+tt.name, meta.Query{UserID: d.alice.ID, Parent: tt.parent, Statuses: tt.statuses, Sort: keys, Limit: 200},
			sorted(want, keys))
	}
}

func testListTrashRootsOnly(t *testing.T, s meta.Store) {
	d := buildList(t, s)
	want := where(d.nodes, func(n *drive.Node) bool { return n.TrashRoot == n.ID })
	if len(want) == 0 {
		t.Fatal("fixture has no trash roots")
	}
	checkSet(t, s, "TrashRootsOnly", meta.Query{UserID: d.alice.ID, TrashRootsOnly: true, Limit: 200}, want)
	wantP := where(want, func(n *drive.Node) bool { return hasParent(n, d.p.ID) })
	checkSet(t, s, "TrashRootsOnly in P", meta.Query{UserID: d.alice.ID, Parent: d.p.ID, TrashRootsOnly: true, Limit: 200}, wantP)
}

func testListFilter(t *testing.T, s meta.Store) {
	d := buildList(t, s)
	keys := parseSort(t, `["name", "modifiedDate DESC"]`)
	for _, tt := range []struct {
		filter string
		parent string
		keep   func(n *drive.Node) bool
	}{
		{`kind:FILE AND name:foo*`, "", func(n *drive.Node) bool {
			return n.Kind == drive.KindFile && strings.HasPrefix(drive.NameKey(n.Name), "foo")
		}},
		{`kind:FILE AND name:foo*`, d.q.ID, func(n *drive.Node) bool {
			return n.Kind == drive.KindFile && strings.HasPrefix(drive.NameKey(n.Name), "foo") && hasParent(n, d.q.ID)
		}},
		{`contentProperties.size:[100 TO 300]`, "", func(n *drive.Node) bool {
			return n.Content != nil && n.Content.Size >= 100 && n.Content.Size <= 300
		}},
		{`kind:FOLDER AND NOT status:TRASH`, "", func(n *drive.Node) bool {
			return n.Kind == drive.KindFolder && n.Status != drive.StatusTrash
		}},
		{`parents:` + d.q.ID + ` OR name:"multi.bin"`, "", func(n *drive.Node) bool {
			return hasParent(n, d.q.ID) || n.Name == "multi.bin"
		}},
		// Link terms inside an OR and under NOT (stores may turn them into
		// index conditions).
		{`labels:tagged OR (kind:FILE AND name:bar*)`, "", func(n *drive.Node) bool {
			return slices.Contains(n.Labels, "tagged") || n.Kind == drive.KindFile && strings.HasPrefix(drive.NameKey(n.Name), "bar")
		}},
		{`kind:FILE AND NOT labels:tagged AND NOT parents:` + d.q.ID, "", func(n *drive.Node) bool {
			return n.Kind == drive.KindFile && !slices.Contains(n.Labels, "tagged") && !hasParent(n, d.q.ID)
		}},
		{`labels:l1 OR labels:l2`, d.p.ID, func(n *drive.Node) bool {
			return (slices.Contains(n.Labels, "l1") || slices.Contains(n.Labels, "l2")) && hasParent(n, d.p.ID)
		}},
	} {
		want := sorted(where(d.nodes, tt.keep), keys)
		if len(want) == 0 {
			t.Fatalf("fixture: filter %q matches nothing", tt.filter)
		}
		q := meta.Query{UserID: d.alice.ID, Filter: parseFilter(t, tt.filter), Parent: tt.parent, Sort: keys, Limit: 50}
		checkWalk(t, s, fmt.Sprintf("filter %q parent %q", tt.filter, tt.parent), q, want)
	}
}

func testListUserIsolation(t *testing.T, s meta.Store) {
	d := buildList(t, s)
	checkSet(t, s, "bob, all", meta.Query{UserID: d.bob.ID, Limit: 200}, d.bobNodes)
	checkSet(t, s, "bob, filter name:foo*", meta.Query{UserID: d.bob.ID, Filter: parseFilter(t, `name:foo*`), Limit: 200},
		where(d.bobNodes, func(n *drive.Node) bool { return strings.HasPrefix(drive.NameKey(n.Name), "foo") }))
	checkSet(t, s, "alice, Parent bob's root", meta.Query{UserID: d.alice.ID, Parent: d.bob.RootID, Limit: 200}, nil)
	checkSet(t, s, "bob, Parent alice's P", meta.Query{UserID: d.bob.ID, Parent: d.p.ID, Limit: 200}, nil)
	checkSet(t, s, "bob, TrashRootsOnly", meta.Query{UserID: d.bob.ID, TrashRootsOnly: true, Limit: 200}, nil)
}
