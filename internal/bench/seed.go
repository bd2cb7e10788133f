package bench

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// SeedBlobKey is the blob key of seeded files: they have metadata only,
// and are never downloaded.
const SeedBlobKey = "0000000000000000000000000000000000000000000000000000000000000000"

// Seed adds n nodes under parent for userID straight through the
// metadata store, in transactions of 10,000, as the node service would
// write them: each takes the user's next change number and appends its
// change record. Every fifth node is a folder, the others are files with
// metadata only, named item-0000001.ext. It returns the ids.
func Seed(ctx context.Context, m meta.Store, userID, parent string, n int, now time.Time) ([]string, error) {
	ids := make([]string, 0, n)
	exts := []string{"jpg", "txt", "pdf", "mp4"}
	types := []string{"image/jpeg", "text/plain", "application/pdf", "video/mp4"}
	for start := 0; start < n; start += 10000 {
		end := min(start+10000, n)
		err := m.Update(ctx, func(tx meta.Tx) error {
			ids = ids[:start] // Update may retry
			for i := start; i < end; i++ {
				seq, err := tx.NextSeq(ctx, userID)
				if err != nil {
					return err
				}
				nd := &drive.Node{ID: drive.NewID(), UserID: userID, Kind: drive.KindFolder, Status: drive.StatusAvailable,
					Labels: []string{}, Parents: []string{parent}, CreatedAt: now, ModifiedAt: now, CreatedBy: "clouddrive-bench",
					Version: 1, ChangeSeq: seq}
				if i%5 == 0 {
					nd.Name = fmt.Sprintf("dir-%07d", i)
				} else {
					e := i % len(exts)
					sum := md5.Sum([]byte(strconv.Itoa(i)))
					nd.Kind = drive.KindFile
					nd.Name = fmt.Sprintf("item-%07d.%s", i, exts[e])
					nd.Content = &drive.Content{BlobKey: SeedBlobKey, Size: int64(1000 + i%100000), MD5: hex.EncodeToString(sum[:]),
						ContentType: types[e], Extension: exts[e], Version: 1}
				}
				if err := tx.AppendChange(ctx, drive.Change{UserID: userID, Seq: seq, NodeID: nd.ID, Event: drive.EventCreated, At: now}); err != nil {
					return err
				}
				if err := tx.InsertNode(ctx, nd); err != nil {
					return err
				}
				ids = append(ids, nd.ID)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("bench: seed: %w", err)
		}
	}
	return ids, nil
}
