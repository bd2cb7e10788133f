package app

import (
	"context"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/httpapi"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
	"github.com/clouddrive/clouddrive/internal/storeconfig"
	"github.com/clouddrive/clouddrive/internal/upload"
)

// bucketStore is implemented by blob stores in an S3 bucket (package
// blob/s3): resumable uploads are staged in the same bucket.
type bucketStore interface {
	Client() *s3.Client
	Bucket() string
	Prefix() string
}

// openUploads builds the resumable-upload handler (package upload) and
// starts its expiry loop: uploads staged under <prefix>uploads/ of the
// bucket with the S3 blob store, else in the data directory's uploads/;
// locked across replicas by PostgreSQL advisory locks when the metadata
// store is PostgreSQL, else in this process.
func (a *App) openUploads(ctx context.Context, cfg Config, m meta.Store, b blob.Store, svc *nodes.Service, api *httpapi.Server) error {
	var staging *upload.Staging
	if s, ok := b.(bucketStore); ok {
		staging = upload.S3Staging(s.Client(), s.Bucket(), s.Prefix()+"uploads/", "")
	} else {
		var err error
		if staging, err = upload.LocalStaging(filepath.Join(cfg.DataDir, "uploads")); err != nil {
			return err
		}
	}
	ucfg := upload.Config{Nodes: svc, Staging: staging, Expiry: cfg.UploadExpiry, ErrorResponse: api.ErrorResponse,
		BaseURL: api.UploadsURL, Now: cfg.Now, Logger: cfg.Logger.With("component", "upload")}
	if m, ok := b.(interface{ MaxSize() int64 }); ok {
		// Refused at creation (Tus-Max-Size) rather than at the last byte.
		ucfg.MaxSize = m.MaxSize()
	}
	if storeconfig.Shared(m) {
		d, err := storeconfig.ParseDB(cfg.DB, cfg.DataDir)
		if err != nil {
			return err
		}
		l, err := upload.NewPgLocker(ctx, d.DSN)
		if err != nil {
			return err
		}
		a.stopLoops = append(a.stopLoops, l.Close)
		ucfg.Locker = l
	}
	h, err := upload.New(ucfg)
	if err != nil {
		return err
	}
	a.Uploads, api.Uploads = h, h
	expiry := cfg.UploadExpiry
	if expiry <= 0 {
		expiry = upload.DefaultExpiry
	}
	a.background(ctx, func(ctx context.Context) { h.Loop(ctx, m, upload.LoopInterval(expiry)) })
	return nil
}
