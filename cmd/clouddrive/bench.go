package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/bench"
)

func newBench(stdout, stderr io.Writer) *cobra.Command {
	var quick, noNginx, noRclone, keep bool
	var rclone string
	var nginx, dir, sections, machine, largeDB, largeBlobs string
	var clients, users int
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput, memory and metadata rates against nginx (scripts/bench.sh)",
		Long: `Start a clouddrive server (this binary, on a temporary data directory) and an
nginx reference server on loopback, and print a table of figures and ratios:
upload and download of a large file, many small files, peak server memory
during a very large transfer, metadata operations over HTTP and in-process,
and a large account (1,000,000 nodes; 20,000 with --quick): a full changes
sync, incremental polls, pages of a folder of 10,000 children (2,000) and
filter queries.
--db and --blobs run that last section again on PostgreSQL and S3 (in a new
schema and under a new prefix, dropped after), e.g. on the servers of
scripts/ci-services.sh.

--quick uses small sizes (about a minute). nginx comes from the system's
packages (scripts/bench.sh installs it when missing); --no-nginx skips it.
rclone serve webdav is a second reference for the transfer and small-file
rows when an rclone binary is found (scripts/rclone-compat.sh builds v1.65.2
into ~/.cache/clouddrive-ci/bin); --no-rclone skips it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := bench.Full
			if quick {
				cfg = bench.Quick
			}
			bin, err := os.Executable()
			if err != nil {
				return err
			}
			cfg.Bin = bin
			if !noNginx {
				if cfg.Nginx, err = bench.FindNginx(nginx); err != nil {
					return err
				}
			}
			if !noRclone {
				cfg.Rclone, err = bench.FindRclone(rclone)
				if err != nil && (rclone != "" || !bench.IsNoRclone(err)) {
					return err
				}
				if err != nil {
					fmt.Fprintf(stderr, "bench: %v: running without the rclone reference\n", err)
				}
			}
			if dir == "" {
				if dir, err = os.MkdirTemp("", "clouddrive-bench-"); err != nil {
					return err
				}
				if !keep {
					defer os.RemoveAll(dir)
				}
			}
			cfg.Dir = filepath.Join(dir, "run")
			cfg.KeepDir = keep
			if clients > 0 {
				cfg.Clients = clients
			}
			cfg.Users = users
			if sections != "" {
				cfg.Sections = strings.Split(sections, ",")
			}
			cfg.Out, cfg.Progress = stdout, stderr
			cfg.MachineDescription = machine
			cfg.LargeDB, cfg.LargeBlobs = largeDB, largeBlobs
			if cfg.Nginx != "" {
				cfg.MachineDescription = strings.TrimSpace(cfg.MachineDescription + "\nreference: nginx " + bench.NginxVersion(cfg.Nginx))
			}
			if cfg.Rclone != "" {
				cfg.MachineDescription = strings.TrimSpace(cfg.MachineDescription + "\nreference: " + bench.RcloneVersion(cfg.Rclone) + " (serve webdav)")
			}
			_, err = bench.Run(cmd.Context(), cfg)
			if !keep {
				_ = os.RemoveAll(cfg.Dir)
			} else {
				fmt.Fprintln(stderr, "kept", cfg.Dir)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&quick, "quick", false, "small sizes: 64 MiB transfers, 256 MiB memory test, 20k-node changes")
	cmd.Flags().StringVar(&nginx, "nginx", "", "nginx binary (default: nginx on PATH or /usr/sbin/nginx)")
	cmd.Flags().BoolVar(&noNginx, "no-nginx", false, "run without the nginx reference")
	cmd.Flags().StringVar(&rclone, "rclone", "", "rclone binary for the second reference, rclone serve webdav (default: the one scripts/rclone-compat.sh builds, then rclone on PATH; skipped with a message when there is none)")
	cmd.Flags().BoolVar(&noRclone, "no-rclone", false, "run without the rclone reference")
	cmd.Flags().StringVar(&dir, "dir", "", "working directory (default: a new temporary directory); needs about 3x the large file size")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the working directory")
	cmd.Flags().IntVar(&clients, "clients", 0, "concurrent clients for small files and metadata (default 8)")
	cmd.Flags().IntVar(&users, "users", 1, "users the small-file uploads are spread over (one token and root folder each)")
	cmd.Flags().StringVar(&sections, "sections", "", "comma-separated subset of transfer,small,rss,meta,changes")
	cmd.Flags().StringVar(&machine, "machine", "", "a description of the machine to print with the report")
	cmd.Flags().StringVar(&largeDB, "db", "", "also run the changes section on this PostgreSQL database (postgres://...; a schema is created and dropped)")
	cmd.Flags().StringVar(&largeBlobs, "blobs", "", "with --db: the blob store of that run (s3://BUCKET?endpoint=...; the bucket is created if missing, a new prefix is used)")
	return cmd
}
