// Package storeconfig turns the --db and --blobs settings of the
// clouddrive commands (or the CLOUDDRIVE_DB and CLOUDDRIVE_BLOBS
// environment variables the commands read for them) into opened stores.
//
// --db selects the metadata store:
//
//	""                            SQLite file meta.db in the data directory (the default)
//	sqlite:PATH, sqlite:///PATH   a SQLite file elsewhere
//	postgres://..., postgresql://...
//	                              PostgreSQL (see package meta/postgres for the DSN)
//
// --blobs selects the blob store:
//
//	""                            directory blobs/ in the data directory (the default)
//	file:///DIR, file:DIR, /DIR   a local directory elsewhere
//	s3://BUCKET[/PREFIX][?endpoint=URL&region=R&path_style=true|false&profile=P&part_size=16MiB&concurrency=4]
//	                              an S3-compatible bucket (see package blob/s3)
//
// S3 credentials never appear in the URL: they come from the standard AWS
// environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_PROFILE) or the shared config files
// (~/.aws/credentials, ~/.aws/config). With an endpoint, addressing is
// path-style unless path_style=false.
package storeconfig

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/blob/localdir"
	s3blob "github.com/clouddrive/clouddrive/internal/blob/s3"
	"github.com/clouddrive/clouddrive/internal/bytesize"
	"github.com/clouddrive/clouddrive/internal/meta/postgres"
	"github.com/clouddrive/clouddrive/internal/meta/sqlite"
	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
)

// Environment variables the commands read for --db and --blobs.
const (
	EnvDB    = "CLOUDDRIVE_DB"
	EnvBlobs = "CLOUDDRIVE_BLOBS"
)

// Metadata store drivers.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Blob store drivers.
const (
	Local = "local"
	S3    = "s3"
)

// DB is a parsed --db setting.
type DB struct {
	// Driver is SQLite or Postgres.
	Driver string
	// Path is the SQLite database file.
	Path string
	// DSN is the PostgreSQL connection string.
	DSN string
}

// ParseDB parses a --db setting; dataDir supplies the default SQLite file.
func ParseDB(s, dataDir string) (DB, error) {
	switch {
	case s == "":
		return DB{Driver: SQLite, Path: filepath.Join(dataDir, "meta.db")}, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			return DB{}, fmt.Errorf("--db: invalid PostgreSQL URL")
		}
		return DB{Driver: Postgres, DSN: s}, nil
	case strings.HasPrefix(s, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//")
		if p == "" {
			return DB{}, fmt.Errorf("--db %q: no file name", s)
		}
		return DB{Driver: SQLite, Path: p}, nil
	}
	return DB{}, fmt.Errorf("--db %q: want sqlite:PATH or a postgres:// URL", redactURL(s))
}

// String describes the store for logs, without any password.
func (d DB) String() string {
	if d.Driver == Postgres {
		return redactURL(d.DSN)
	}
	return "sqlite:" + d.Path
}

// Open opens the metadata store, creating its schema or applying pending
// migrations.
func (d DB) Open(ctx context.Context) (*sqlstore.Store, error) {
	switch d.Driver {
	case SQLite:
		return sqlite.Open(ctx, d.Path)
	case Postgres:
		return postgres.Open(ctx, d.DSN)
	}
	return nil, fmt.Errorf("storeconfig: unknown metadata driver %q", d.Driver)
}

// Blobs is a parsed --blobs setting.
type Blobs struct {
	// Driver is Local or S3.
	Driver string
	// Dir is the local directory.
	Dir string
	// S3 configures the S3 store.
	S3 s3blob.Config
}

// ParseBlobs parses a --blobs setting; dataDir supplies the default
// directory.
func ParseBlobs(s, dataDir string) (Blobs, error) {
	switch {
	case s == "":
		return Blobs{Driver: Local, Dir: filepath.Join(dataDir, "blobs")}, nil
	case strings.HasPrefix(s, "s3://"):
		return parseS3(s)
	case strings.HasPrefix(s, "file:"):
		p := strings.TrimPrefix(s, "file:")
		if strings.HasPrefix(p, "//") {
			u, err := url.Parse(s)
			if err != nil || (u.Host != "" && u.Host != "localhost") {
				return Blobs{}, fmt.Errorf("--blobs %q: want file:///absolute/dir", s)
			}
			p = u.Path
		}
		if p == "" {
			return Blobs{}, fmt.Errorf("--blobs %q: no directory", s)
		}
		return Blobs{Driver: Local, Dir: p}, nil
	case !strings.Contains(s, "://"):
		return Blobs{Driver: Local, Dir: s}, nil
	}
	return Blobs{}, fmt.Errorf("--blobs %q: want a directory, file:///DIR or s3://BUCKET", redactURL(s))
}

func parseS3(s string) (Blobs, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Blobs{}, fmt.Errorf("--blobs: invalid S3 URL: %w", err)
	}
	if u.User != nil {
		return Blobs{}, fmt.Errorf("--blobs: put S3 credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws, not in the URL")
	}
	cfg := s3blob.Config{Bucket: u.Host}
	if cfg.Bucket == "" {
		return Blobs{}, fmt.Errorf("--blobs %q: no bucket", s)
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		cfg.Prefix = p + "/"
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint", "region", "path_style", "profile", "part_size", "concurrency":
		default:
			return Blobs{}, fmt.Errorf("--blobs: unknown S3 parameter %q", k)
		}
	}
	cfg.Endpoint, cfg.Region, cfg.Profile = q.Get("endpoint"), q.Get("region"), q.Get("profile")
	if cfg.Endpoint != "" {
		if e, err := url.Parse(cfg.Endpoint); err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return Blobs{}, fmt.Errorf("--blobs: endpoint %q must be an http:// or https:// URL", cfg.Endpoint)
		}
	}
	cfg.PathStyle = cfg.Endpoint != ""
	if v := q.Get("path_style"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Blobs{}, fmt.Errorf("--blobs: path_style=%q: want true or false", v)
		}
		cfg.PathStyle = b
	}
	if v := q.Get("part_size"); v != "" {
		n, err := bytesize.Parse(v)
		if err != nil || n < s3blob.MinPartSize || n > 1<<30 {
			return Blobs{}, fmt.Errorf("--blobs: part_size=%q: want a size from 5MiB to 1GiB", v)
		}
		cfg.PartSize = n
	}
	if v := q.Get("concurrency"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return Blobs{}, fmt.Errorf("--blobs: concurrency=%q: want 1 to 64", v)
		}
		cfg.Concurrency = n
	}
	return Blobs{Driver: S3, S3: cfg}, nil
}

// String describes the store for logs.
func (b Blobs) String() string {
	if b.Driver == S3 {
		s := "s3://" + b.S3.Bucket + "/" + b.S3.Prefix
		if b.S3.Endpoint != "" {
			s += " at " + b.S3.Endpoint
		}
		return s
	}
	return b.Dir
}

// Open opens the blob store. For S3 it checks that the bucket is
// reachable.
func (b Blobs) Open(ctx context.Context) (blob.Store, error) {
	switch b.Driver {
	case Local:
		return localdir.New(b.Dir)
	case S3:
		s, err := s3blob.Open(ctx, b.S3)
		if err != nil {
			return nil, err
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.Ping(pctx); err != nil {
			return nil, fmt.Errorf("blob store %s: %w", b, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("storeconfig: unknown blob driver %q", b.Driver)
}

// OpenMeta parses and opens a --db setting.
func OpenMeta(ctx context.Context, db, dataDir string) (*sqlstore.Store, error) {
	d, err := ParseDB(db, dataDir)
	if err != nil {
		return nil, err
	}
	if d.Driver == SQLite {
		if err := os.MkdirAll(filepath.Dir(d.Path), 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	return d.Open(ctx)
}

// OpenBlobs parses and opens a --blobs setting.
func OpenBlobs(ctx context.Context, blobs, dataDir string) (blob.Store, error) {
	b, err := ParseBlobs(blobs, dataDir)
	if err != nil {
		return nil, err
	}
	return b.Open(ctx)
}

// redactURL removes a password from a URL-shaped string.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable URL)"
		}
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
