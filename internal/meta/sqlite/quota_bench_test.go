package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/meta/sqlite"
)

// BenchmarkQuotaCheck measures the reads of the quota check that every
// upload and overwrite makes (twice: before reading the content and in
// the transaction that commits it), for a user with 50,000 files: Scan
// is the check as it was, summing the user's files with Usage; Counter is
// the check now, reading the counter with Used.
func BenchmarkQuotaCheck(b *testing.B) {
	const files = 50000
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "meta.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	u := &drive.User{ID: drive.NewID(), Name: "alice", CreatedAt: fixedTime(), Epoch: "e1", Quota: 1 << 40}
	root := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFolder, Status: drive.StatusAvailable,
		IsRoot: true, CreatedAt: fixedTime(), ModifiedAt: fixedTime(), CreatedBy: "clouddrive", Version: 1}
	u.RootID = root.ID
	types := []string{"image/jpeg", "text/plain", "application/pdf", "video/mp4"}
	err = s.Update(ctx, func(tx meta.Tx) error {
		if err := tx.CreateUser(ctx, u, root); err != nil {
			return err
		}
		for i := range files {
			f := &drive.Node{ID: drive.NewID(), UserID: u.ID, Kind: drive.KindFile, Name: fmt.Sprintf("f%06d", i),
				Status: drive.StatusAvailable, Parents: []string{root.ID}, CreatedAt: fixedTime(), ModifiedAt: fixedTime(),
				CreatedBy: "bench", Version: 1,
				Content: &drive.Content{BlobKey: "k", Size: int64(1000 + i), MD5: fmt.Sprintf("%032x", i),
					ContentType: types[i%len(types)], Version: 1}}
			if err := tx.InsertNode(ctx, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		used func(ctx context.Context, tx meta.Tx) (int64, error)
	}{
		{"Scan", func(ctx context.Context, tx meta.Tx) (int64, error) {
			usage, err := tx.Usage(ctx, u.ID)
			return usage.Total().Bytes, err
		}},
		{"Counter", func(ctx context.Context, tx meta.Tx) (int64, error) {
			c, err := tx.Used(ctx, u.ID)
			return c.Bytes, err
		}},
	} {
		b.Run(fmt.Sprintf("%s/files=%d", bc.name, files), func(b *testing.B) {
			want := int64(files)*1000 + int64(files)*(files-1)/2
			for b.Loop() {
				err := s.View(ctx, func(tx meta.Tx) error {
					if _, err := tx.User(ctx, u.ID); err != nil {
						return err
					}
					got, err := bc.used(ctx, tx)
					if err == nil && got != want {
						err = fmt.Errorf("used = %d, want %d", got, want)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
