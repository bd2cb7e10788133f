package meta

import "context"

// This file is the contract for moving a whole metadata store into
// another (clouddrive admin migrate, between SQLite and PostgreSQL either
// way) and for walking the blobs it references (admin check): the
// operations work on tables of rows, below the node model, so that a copy
// keeps every row as it is, including those of tables this package does
// not describe. The SQL adapters implement it (meta/sqlstore).

// Table is one data table of a store.
type Table struct {
	// Name is the table's name.
	Name string
	// Columns are its column names, in the store's order.
	Columns []string
	// References are the tables its foreign keys point to, itself
	// excluded: a copy inserts those first.
	References []string
}

// TableReader reads one consistent snapshot of a store's tables.
type TableReader interface {
	// Tables lists the store's data tables by name; bookkeeping (the
	// migration version table) and state that is not worth moving (the
	// shared rate-limit buckets of PostgreSQL) are left out.
	Tables(ctx context.Context) ([]Table, error)
	// Rows calls fn with every row of table, its values in the order of
	// cols (columns of the table), in no particular order. fn must not
	// keep row. An error of fn ends the walk and is returned.
	Rows(ctx context.Context, table string, cols []string, fn func(row []any) error) error
}

// TableWriter writes rows into a store within one transaction.
type TableWriter interface {
	// Tables is TableReader.Tables of the store written to.
	Tables(ctx context.Context) ([]Table, error)
	// Count returns the number of rows of table.
	Count(ctx context.Context, table string) (int64, error)
	// Insert inserts rows into table, each row's values in the order of
	// cols. Values are as a TableReader of any adapter returns them.
	Insert(ctx context.Context, table string, cols []string, rows [][]any) error
}

// TableCopier is a store whose tables can be read and written whole.
type TableCopier interface {
	// ReadTables calls fn with a reader of one snapshot of the store,
	// which lasts until fn returns, and returns fn's error.
	ReadTables(ctx context.Context, fn func(r TableReader) error) error
	// WriteTables calls fn with a writer in one transaction, committed
	// when fn returns nil and rolled back otherwise: the store gets all
	// the rows or none.
	WriteTables(ctx context.Context, fn func(w TableWriter) error) error
}

// BlobReferencer reports the blobs a store's nodes reference.
type BlobReferencer interface {
	// ReferencedBlobs returns the blob key of every node row that has
	// one, whatever the node's status, with the size the node records.
	ReferencedBlobs(ctx context.Context) (map[string]int64, error)
}
