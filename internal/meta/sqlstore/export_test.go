package sqlstore

import "github.com/clouddrive/clouddrive/internal/meta"

// ListSQL returns the statements List runs for q on s, with their
// placeholders as the database takes them: the count ("" when the page
// query counts) and the page query, each with its arguments.
func ListSQL(s *Store, q meta.Query) (count string, countArgs []any, page string, pageArgs []any, err error) {
	st, err := buildList(&s.Dialect, q)
	if err != nil {
		return "", nil, "", nil, err
	}
	if st.count != "" {
		count = rebind(&s.Dialect, st.count)
	}
	return count, st.countArgs, rebind(&s.Dialect, st.page), st.pageArgs, nil
}

// ChangedWireSQL returns the two statements of ChangedWire as s's
// database takes them.
func ChangedWireSQL(s *Store) (seqs, feed string) {
	return rebind(&s.Dialect, changedSeqsSQL), rebind(&s.Dialect, feedRangeSQL)
}
