package storeconfig

import (
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	s3blob "github.com/clouddrive/clouddrive/internal/blob/s3"
)

func TestParseDB(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want DB
	}{
		{"", DB{Driver: SQLite, Path: "/data/meta.db"}},
		{"sqlite:/srv/meta.db", DB{Driver: SQLite, Path: "/srv/meta.db"}},
		{"sqlite:///srv/meta.db", DB{Driver: SQLite, Path: "/srv/meta.db"}},
		{"sqlite:rel/meta.db", DB{Driver: SQLite, Path: "rel/meta.db"}},
		{"postgres://u:pw@h:5432/db?sslmode=disable", DB{Driver: Postgres, DSN: "postgres://u:pw@h:5432/db?sslmode=disable"}},
		{"postgresql://h/db", DB{Driver: Postgres, DSN: "postgresql://h/db"}},
	} {
		got, err := ParseDB(tc.in, "/data")
		if err != nil {
			t.Errorf("ParseDB(%q) error: %v", tc.in, err)
			continue
		}
		if diff := gocmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseDB(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
	for _, in := range []string{"mysql://h/db", "sqlite:", "meta.db", "http://x"} {
		if _, err := ParseDB(in, "/data"); err == nil {
			t.Errorf("ParseDB(%q) succeeded, want an error", in)
		}
	}
}

func TestDBStringRedacts(t *testing.T) {
	d, err := ParseDB("postgres://u:secret@h/db", "")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.String(); s != "postgres://u:xxxxx@h/db" {
		t.Errorf("String() = %q, want the password masked", s)
	}
	if _, err := ParseDB("mysql://u:secret@h/db", ""); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("ParseDB error %v shows the password", err)
	}
}

func TestParseBlobs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Blobs
	}{
		{"", Blobs{Driver: Local, Dir: "/data/blobs"}},
		{"/srv/blobs", Blobs{Driver: Local, Dir: "/srv/blobs"}},
		{"rel/blobs", Blobs{Driver: Local, Dir: "rel/blobs"}},
		{"file:///srv/blobs", Blobs{Driver: Local, Dir: "/srv/blobs"}},
		{"file:rel", Blobs{Driver: Local, Dir: "rel"}},
		{"s3://bucket", Blobs{Driver: S3, S3: s3blob.Config{Bucket: "bucket"}}},
		{"s3://bucket/a/b/?region=eu-west-1", Blobs{Driver: S3, S3: s3blob.Config{Bucket: "bucket", Prefix: "a/b/", Region: "eu-west-1"}}},
		{"s3://b?endpoint=http://127.0.0.1:7070&region=us-east-1", Blobs{Driver: S3, S3: s3blob.Config{
			Bucket: "b", Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", PathStyle: true}}},
		{"s3://b?endpoint=https://s3.example.com&path_style=false&profile=p&part_size=16MiB&concurrency=4", Blobs{Driver: S3, S3: s3blob.Config{
			Bucket: "b", Endpoint: "https://s3.example.com", Profile: "p", PartSize: 16 << 20, Concurrency: 4}}},
		{"s3://b?part_size=10MB", Blobs{Driver: S3, S3: s3blob.Config{Bucket: "b", PartSize: 10e6}}},
	} {
		got, err := ParseBlobs(tc.in, "/data")
		if err != nil {
			t.Errorf("ParseBlobs(%q) error: %v", tc.in, err)
			continue
		}
		if diff := gocmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseBlobs(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
	for _, in := range []string{
		"s3://",
		"s3://key:secret@bucket",
		"s3://b?endpoint=ftp://x",
		"s3://b?endpoint=127.0.0.1:7070",
		"s3://b?unknown=1",
		"s3://b?path_style=maybe",
		"s3://b?part_size=1MiB", "s3://b?part_size=2GB", "s3://b?part_size=lots",
		"s3://b?concurrency=0",
		"file://host/dir",
		"gs://bucket",
	} {
		if _, err := ParseBlobs(in, "/data"); err == nil {
			t.Errorf("ParseBlobs(%q) succeeded, want an error", in)
		}
	}
}
