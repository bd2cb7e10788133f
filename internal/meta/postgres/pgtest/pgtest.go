// Package pgtest gives tests an isolated, empty PostgreSQL schema on the
// server named by the CLOUDDRIVE_TEST_PG_DSN environment variable, which
// scripts/pg-test-start.sh prints and scripts/test.sh exports.
//
// Without the variable, tests that need PostgreSQL skip, so that go test
// ./... passes on a laptop; when CI is set (as .ci/run and GitHub Actions
// set it) they fail instead, so CI never silently skips them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding the test server's DSN.
const EnvDSN = "CLOUDDRIVE_TEST_PG_DSN"

// BaseDSN returns the test server's DSN, skipping (or, under CI, failing)
// the test when it is not configured.
func BaseDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; CI must run scripts/pg-test-start.sh (scripts/test.sh does)", EnvDSN)
		}
		t.Skipf("%s not set; run scripts/pg-test-start.sh to test PostgreSQL", EnvDSN)
	}
	return dsn
}

// Schema creates a new empty schema on the test server and returns a DSN
// whose search_path selects it, so a store opened on the DSN sees only its
// own tables. The schema and everything in it are dropped when the test
// ends.
func Schema(t testing.TB) string {
	t.Helper()
	base := BaseDSN(t)
	name := NewSchema(t, base)
	t.Cleanup(func() { DropSchema(t, base, name) })
	return WithSchema(t, base, name)
}

// NewSchema creates a schema with a fresh random name and returns the
// name; the caller drops it with DropSchema.
func NewSchema(t testing.TB, base string) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	exec(t, base, `CREATE SCHEMA `+name)
	return name
}

// DropSchema drops a schema made by NewSchema with everything in it.
func DropSchema(t testing.TB, base, name string) {
	t.Helper()
	exec(t, base, `DROP SCHEMA IF EXISTS `+name+` CASCADE`)
}

// WithSchema returns base with its search_path set to schema.
func WithSchema(t testing.TB, base, schema string) string {
	t.Helper()
	if !strings.Contains(base, "://") {
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvDSN, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}
