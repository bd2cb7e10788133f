package sqlstore_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/filter"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/meta/sqlite"
	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
)

// TestListPlansSQLite checks, with EXPLAIN QUERY PLAN, that the
// statements List builds for folder listings and the filters ACD clients
// send are served by the listing indexes (SQLite migration 00009 and its
// fixed planner statistics, so the plans do not depend on the data): a
// folder's links, the name, md5 and label indexes, never a scan of every
// node of the user.
func TestListPlansSQLite(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	user, folder := drive.NewID(), drive.NewID()
	available := []drive.Status{drive.StatusAvailable}
	parse := func(q string) filter.Expr {
		e, err := filter.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	byName, err := filter.ParseSort(`["name ASC"]`)
	if err != nil {
		t.Fatal(err)
	}
	after := &meta.Cursor{ID: drive.NewID()}
	for _, tt := range []struct {
		name string
		q    meta.Query
		// want are index names each plan must use (count, then page).
		count, page []string
	}{
		{"Folder", meta.Query{Parent: folder, Statuses: available},
			[]string{"node_parents_live_name"}, []string{"sqlite_autoindex_node_parents_1"}},
		{"FolderNext", meta.Query{Parent: folder, Statuses: available, After: after},
			[]string{"node_parents_live_name"}, []string{"sqlite_autoindex_node_parents_1"}},
		{"FolderByName", meta.Query{Parent: folder, Statuses: available, Sort: byName},
			[]string{"node_parents_live_name"}, []string{"sqlite_autoindex_node_parents_1"}},
		{"NamePrefix", meta.Query{Filter: parse(`name:item-0123*`), Statuses: available},
			[]string{"nodes_user_name"}, []string{"nodes_user_name"}},
		{"NameExact", meta.Query{Filter: parse(`name:"IMG 1.jpg"`), Statuses: available},
			[]string{"nodes_user_name"}, []string{"nodes_user_name"}},
		{"MD5", meta.Query{Filter: parse(`contentProperties.md5:5d41402abc4b2a76b9719d911017c592`), Statuses: available},
			[]string{"nodes_user_md5"}, []string{"nodes_user_md5"}},
		{"ParentsAndName", meta.Query{Filter: parse(`parents:` + folder + ` AND name:x`), Statuses: available},
			[]string{"nodes_user_name"}, []string{"nodes_user_name"}},
		{"LabelsOrName", meta.Query{Filter: parse(`labels:starred OR name:dir-0001*`), Statuses: available},
			[]string{"node_labels_label", "nodes_user_name"}, []string{"node_labels_label", "nodes_user_name"}},
		{"ExtensionInFolder", meta.Query{Parent: folder, Filter: parse(`contentProperties.extension:pdf`), Statuses: available},
			nil, []string{"sqlite_autoindex_node_parents_1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.UserID, tt.q.Limit = user, 200
			if tt.q.After != nil {
				tt.q.After.Values = make([]any, len(tt.q.Sort))
				for i := range tt.q.After.Values {
					tt.q.After.Values[i] = "x"
				}
			}
			count, countArgs, page, pageArgs, err := sqlstore.ListSQL(s, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if (count != "") != (tt.count != nil) {
				t.Fatalf("count query %q, want one: %v", count, tt.count != nil)
			}
			if count != "" {
				checkPlan(t, s, "count", count, countArgs, tt.count)
			}
			checkPlan(t, s, "page", page, pageArgs, tt.page)
		})
	}
}

// TestChangedWirePlanSQLite checks that the changes feed walks the
// (user, change number) index of nodes alone, never the node rows, and
// node_feed by its key, each in key order.
func TestChangedWirePlanSQLite(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	seqs, feed := sqlstore.ChangedWireSQL(s)
	plan := checkPlan(t, s, "change numbers", seqs, []any{drive.NewID(), 5, 500}, []string{"nodes_user_change"})
	if !strings.Contains(plan, "SEARCH n USING COVERING INDEX nodes_user_change") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("ChangedWire does not read the change numbers from the index alone, in order:\n%s", plan)
	}
	plan = checkPlan(t, s, "node_feed", feed, []any{drive.NewID(), 5, 505}, nil)
	if !strings.Contains(plan, "SEARCH f USING PRIMARY KEY (user_id=? AND change_seq>? AND change_seq<?)") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("ChangedWire does not read a key range of node_feed, in order:\n%s", plan)
	}
}

// checkPlan runs EXPLAIN QUERY PLAN on q and checks that the plan uses
// every index of want and never scans the nodes table. It returns the
// plan, a line a step.
func checkPlan(t *testing.T, s *sqlstore.Store, what, q string, args []any, want []string) string {
	t.Helper()
	rows, err := s.Read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("%s: EXPLAIN QUERY PLAN %s: %v", what, q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan, "\n")
	for _, idx := range want {
		if !strings.Contains(all, "INDEX "+idx+" ") && !strings.HasSuffix(all, "INDEX "+idx) {
			t.Errorf("%s plan does not use %s:\n%s\nquery: %s", what, idx, all, q)
		}
	}
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN n") && !strings.Contains(line, "INDEX") {
			t.Errorf("%s plan scans the nodes table: %s\n%s\nquery: %s", what, line, all, q)
		}
	}
	return all
}
