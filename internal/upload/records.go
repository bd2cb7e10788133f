package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// record is the server's own state of one upload, kept beside the staged
// bytes (a file in the staging directory, an object in the bucket), so
// that every replica sees it: who owns the upload, when it expires, and,
// once completed, the node it became.
type record struct {
	// ID is the tus upload id (the s3 store appends its multipart id to
	// the key).
	ID    string `json:"id"`
	Owner string `json:"owner"`
	Size  int64  `json:"size"`
	// Expires is when the upload is collected: its last write, or its
	// completion, plus the expiry.
	Expires time.Time `json:"expires"`
	// NodeID is set once the upload completed into that node.
	NodeID string `json:"nodeId,omitempty"`
}

// recordKey is the name a record is kept under: the upload id up to the
// s3 store's "+multipart id", which is the id this package chose.
func recordKey(id string) string {
	k, _, _ := strings.Cut(id, "+")
	return k
}

// validKey reports whether k is a key this package made (drive.NewID:
// letters, digits, '-' and '_').
func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// records keeps the records of uploads.
type records interface {
	// get returns the record under key, or nil when there is none.
	get(ctx context.Context, key string) (*record, error)
	put(ctx context.Context, key string, r *record) error
	// delete removes a record; a missing one is no error.
	delete(ctx context.Context, key string) error
	// keys lists the keys of every record.
	keys(ctx context.Context) ([]string, error)
}

const recordSuffix = ".upload.json"

// dirRecords keeps records as files in a directory.
type dirRecords struct{ dir string }

func (d dirRecords) path(key string) string { return filepath.Join(d.dir, key+recordSuffix) }

func (d dirRecords) get(_ context.Context, key string) (*record, error) {
	b, err := os.ReadFile(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("upload record %s: %w", key, err)
	}
	return &r, nil
}

func (d dirRecords) put(_ context.Context, key string, r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(d.dir, key+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), d.path(key)); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

func (d dirRecords) delete(_ context.Context, key string) error {
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (d dirRecords) keys(context.Context) ([]string, error) {
	es, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, err
	}
	var ks []string
	for _, e := range es {
		if k, ok := strings.CutSuffix(e.Name(), recordSuffix); ok && validKey(k) {
			ks = append(ks, k)
		}
	}
	return ks, nil
}

// s3Records keeps records as objects under a prefix of a bucket.
type s3Records struct {
	client *s3.Client
	bucket string
	prefix string
}

func (s s3Records) name(key string) *string { return aws.String(s.prefix + key + recordSuffix) }

func (s s3Records) get(ctx context.Context, key string) (*record, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: s.name(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, nil
		}
		return nil, fmt.Errorf("upload record %s: %w", key, err)
	}
	defer out.Body.Close()
	var r record
	if err := json.NewDecoder(io.LimitReader(out.Body, 1<<16)).Decode(&r); err != nil {
		return nil, fmt.Errorf("upload record %s: %w", key, err)
	}
	return &r, nil
}

func (s s3Records) put(ctx context.Context, key string, r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: s.name(key),
		Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b))), ContentType: aws.String("application/json")})
	if err != nil {
		return fmt.Errorf("upload record %s: %w", key, err)
	}
	return nil
}

func (s s3Records) delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: s.name(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil
		}
		return fmt.Errorf("upload record %s: %w", key, err)
	}
	return nil
}

func (s s3Records) keys(ctx context.Context) ([]string, error) {
	var ks []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &s.prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing upload records: %w", err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if k, ok := strings.CutSuffix(name, recordSuffix); ok && validKey(k) {
				ks = append(ks, k)
			}
		}
	}
	return ks, nil
}
