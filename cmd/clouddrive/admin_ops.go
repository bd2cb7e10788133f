package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/blob"
	"github.com/clouddrive/clouddrive/internal/gc"
	"github.com/clouddrive/clouddrive/internal/meta/sqlstore"
	"github.com/clouddrive/clouddrive/internal/storeconfig"
)

// storeFlags registers --db and --blobs on cmd; dataFlag calls it, so
// every command that opens the stores takes the same three flags and
// environment variables.
func storeFlags(cmd *cobra.Command) {
	cmd.Flags().String("db", "",
		"metadata store: empty for SQLite in --data, sqlite:PATH, or postgres://USER@HOST/DB")
	cmd.Flags().String("blobs", "",
		"blob store: empty for --data/blobs, a directory, or s3://BUCKET[/PREFIX]?endpoint=URL&region=R; "+
			"S3 credentials from AWS_* variables or ~/.aws")
}

// storeConfig returns the app configuration of the stores cmd's flags
// select, with data as the data directory.
func storeConfig(cmd *cobra.Command, data string) app.Config {
	db, _ := cmd.Flags().GetString("db")
	blobs, _ := cmd.Flags().GetString("blobs")
	return app.Config{DataDir: data, DB: db, Blobs: blobs}
}

// newAdminOps returns the store operations: gc, backup, restore, migrate.
func newAdminOps(stdout io.Writer) []*cobra.Command {
	return []*cobra.Command{newAdminGC(stdout), newAdminBackup(stdout), newAdminRestore(stdout), newAdminMigrate(stdout)}
}

func newAdminGC(stdout io.Writer) *cobra.Command {
	var data string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Delete blobs no node references (safe while servers run)",
		Long: `Delete the blobs that no node references and that are older than --grace,
plus what interrupted uploads left in the blob store. Safe while servers run:
each deletion is decided under the blob's lock in the metadata store, which an
upload committing the same blob takes too. Servers also collect periodically
(serve --gc-interval).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg := storeConfig(cmd, data)
			m, err := app.OpenMeta(ctx, cfg)
			if err != nil {
				return err
			}
			defer m.Close()
			b, err := app.OpenBlobs(ctx, cfg)
			if err != nil {
				return err
			}
			c := &gc.Collector{Meta: m, Blobs: b, Now: time.Now, Grace: grace, Logger: slog.New(slog.DiscardHandler)}
			st, err := c.Collect(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "scanned %d blobs, deleted %d (%d bytes), removed %d interrupted uploads\n",
				st.Scanned, st.Deleted, st.DeletedBytes, st.SweptUploads)
			return nil
		},
	}
	dataFlag(cmd, &data)
	cmd.Flags().DurationVar(&grace, "grace", time.Hour, "minimum age of an unreferenced blob before it is deleted; keep it above the longest upload")
	return cmd
}

func newAdminBackup(stdout io.Writer) *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the SQLite metadata store to FILE (safe while servers run)",
		Long: `Write a consistent online copy of the SQLite metadata store to FILE, which must
not exist. Servers keep running. Blobs are not included: copy the blob
directory (or bucket) after the backup, with garbage collection paused
(serve --gc-interval 0), so every blob the backup references is in the copy.

For PostgreSQL use pg_dump and pg_restore; see the README.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := storeConfig(cmd, data)
			db, err := storeconfig.ParseDB(cfg.DB, data)
			if err != nil {
				return err
			}
			if err := storeconfig.Backup(cmd.Context(), db, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "backed up %s to %s\n", db, args[0])
			return nil
		},
	}
	dataFlag(cmd, &data)
	return cmd
}

func newAdminRestore(stdout io.Writer) *cobra.Command {
	var data string
	var force bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the SQLite metadata store with a backup (stop the servers first)",
		Long: `Replace the SQLite metadata store with the backup FILE made by
clouddrive admin backup. The backup is checked and brought up to the current
schema beside the database before it replaces it. Stop every server using the
store first; --force is needed to replace an existing database.

For PostgreSQL use pg_restore; see the README.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := storeConfig(cmd, data)
			db, err := storeconfig.ParseDB(cfg.DB, data)
			if err != nil {
				return err
			}
			if err := storeconfig.Restore(cmd.Context(), db, args[0], force); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "restored %s from %s\n", db, args[0])
			return nil
		},
	}
	dataFlag(cmd, &data)
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing database")
	return cmd
}

func newAdminMigrate(stdout io.Writer) *cobra.Command {
	var data, toDB, toBlobs string
	var workers int
	cmd := &cobra.Command{
		Use:   "migrate --to-db URL --to-blobs URL",
		Short: "Copy every node, user, setting and blob to other stores, e.g. from the embedded ones to PostgreSQL + S3",
		Long: `Copy the stores selected by --data/--db/--blobs (by default the embedded SQLite
database and blob directory) into the stores named by --to-db and --to-blobs,
for example PostgreSQL and an S3 bucket:

  clouddrive admin migrate --data /var/lib/clouddrive \
    --to-db 'postgres://clouddrive@db/clouddrive' \
    --to-blobs 's3://bucket?endpoint=https://s3.example.com&region=eu-1'

Stop the servers first. Blobs are copied first (verified: a blob's key is the
SHA-256 of its bytes; blobs already present are skipped, so an interrupted
migration can be run again), then all metadata rows in one transaction into
the new database, which must be empty. Finally every blob a node references
is checked in the new blob store. Signing keys move too, so tokens, temp links
and sessions stay valid. Then start the servers with the new --db and --blobs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if toDB == "" && toBlobs == "" {
				return fmt.Errorf("give --to-db, --to-blobs or both")
			}
			cfg := storeConfig(cmd, data)
			src, err := storeconfig.OpenMeta(ctx, cfg.DB, data)
			if err != nil {
				return fmt.Errorf("source metadata: %w", err)
			}
			defer src.Close()
			srcBlobs, err := app.OpenBlobs(ctx, cfg)
			if err != nil {
				return fmt.Errorf("source blobs: %w", err)
			}
			dstBlobs := srcBlobs
			if toBlobs != "" {
				dstBlobs, err = storeconfig.OpenBlobs(ctx, toBlobs, data)
				if err != nil {
					return fmt.Errorf("--to-blobs: %w", err)
				}
				start := time.Now()
				st, err := storeconfig.CopyBlobs(ctx, dstBlobs, srcBlobs, workers, nil)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "blobs: copied %d (%d bytes), already present %d, in %v\n",
					st.Copied, st.Bytes, st.Skipped, time.Since(start).Round(time.Millisecond))
			}
			dst := src
			if toDB != "" {
				dst, err = storeconfig.OpenMeta(ctx, toDB, data)
				if err != nil {
					return fmt.Errorf("--to-db: %w", err)
				}
				defer dst.Close()
				counts, err := storeconfig.CopyMeta(ctx, dst, src)
				if err != nil {
					return err
				}
				var parts []string
				for _, c := range counts {
					parts = append(parts, fmt.Sprintf("%s %d", c.Table, c.Rows))
				}
				fmt.Fprintf(stdout, "metadata rows: %s\n", strings.Join(parts, ", "))
			}
			return verifyBlobs(ctx, stdout, dst, dstBlobs)
		},
	}
	dataFlag(cmd, &data)
	cmd.Flags().StringVar(&toDB, "to-db", "", "destination metadata store (a new, empty database), e.g. postgres://...")
	cmd.Flags().StringVar(&toBlobs, "to-blobs", "", "destination blob store, e.g. s3://bucket?endpoint=...")
	cmd.Flags().IntVar(&workers, "workers", 4, "blobs copied at once")
	return cmd
}

// verifyBlobs checks that every blob the nodes of m reference is in b.
func verifyBlobs(ctx context.Context, stdout io.Writer, m *sqlstore.Store, b blob.Store) error {
	refs, err := storeconfig.ReferencedBlobs(ctx, m)
	if err != nil {
		return err
	}
	bad, err := storeconfig.CheckBlobs(ctx, b, refs)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d referenced blobs are missing from the destination, e.g. %s", len(bad), bad[0])
	}
	fmt.Fprintf(stdout, "verified: all %d referenced blobs present\n", len(refs))
	return nil
}

// describeDB names the metadata store of cfg for logs, without secrets.
func describeDB(cfg app.Config) string {
	d, err := storeconfig.ParseDB(cfg.DB, cfg.DataDir)
	if err != nil {
		return "?"
	}
	return d.String()
}

// describeBlobs names the blob store of cfg for logs.
func describeBlobs(cfg app.Config) string {
	b, err := storeconfig.ParseBlobs(cfg.Blobs, cfg.DataDir)
	if err != nil {
		return "?"
	}
	return b.String()
}
