package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/bytesize"
	"github.com/clouddrive/clouddrive/internal/mount"
)

func newMount(env *Env) *cobra.Command {
	var o common
	var (
		mo        mount.Options
		cacheSize string
		poll      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "mount [--read-only] [--allow-other] [--cache-dir DIR] [--cache-size SIZE] [--purge-on-delete] [--poll DURATION] MOUNTPOINT",
		Short: "Mount the drive as a local file system (FUSE, Linux)",
		Long: `Mount the drive on MOUNTPOINT (an existing directory) with FUSE and serve it
until interrupted (Ctrl-C, SIGTERM), then unmount. Unmounting from outside
(fusermount3 -u MOUNTPOINT) also ends the command.

The whole tree is loaded from the changes feed at start, then kept current by
long-polling the feed: changes made elsewhere appear within seconds.

Files are 0644 and folders 0755 (0444/0555 with --read-only), owned by the
user who mounts; times are the nodes' modifiedDate. A node with several
parents appears in each. Names that Linux cannot show are escaped: '/' as
'∕' (U+2215), NUL as '␀' (U+2400), the names "." and ".." as "．" and "．．"
(U+FF0E), and a literal ∕ ␀ ‛ in a name, or a whole name "．"/"．．", gets a
'‛' (U+201B) in front.

Reads are ranged downloads of 1 MiB chunks, kept in a read cache on disk
(--cache-dir, at most --cache-size, least recently used evicted); sequential
readers get the next chunks fetched ahead. Writes go to a local spool file
and are uploaded once, when the file is closed; a new file exists only in
the mount until that upload creates it with its bytes, so no partial file is
ever seen elsewhere (if the upload fails, close reports it and the file stays
in the mount to retry or remove; it is lost at unmount). unlink and rmdir move nodes to the trash (--purge-on-delete purges
them); a node with other parents only loses this one. rename is a rename
and/or a move. Modes, owners and times cannot be set (chmod, chown, touch
succeed and change nothing); symlinks, hard links and extended attributes
are not supported.

Errors: a taken name is EEXIST, a full account ENOSPC, a missing node ENOENT,
a rejected token EACCES, anything else EIO.

Mounting needs /dev/fuse: as root, or as a user with fusermount3 (Debian
package fuse3) and read-write access to /dev/fuse.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			size, err := bytesize.Parse(cacheSize)
			if err != nil {
				return usageErrorf("--cache-size: %v", err)
			}
			mo.CacheSize = size
			if size == 0 {
				mo.CacheSize = -1
			}
			switch {
			case poll < 0 || poll > mount.MaxPoll:
				return usageErrorf("--poll must be 0 (off) to %s", mount.MaxPoll)
			case poll == 0:
				mo.Poll = -1
			default:
				mo.Poll = poll
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			s, err := env.open(ctx, &o)
			if err != nil {
				return err
			}
			defer s.close()
			if mo.CacheDir == "" {
				sum := sha256.Sum256([]byte(s.creds.Server))
				mo.CacheDir = filepath.Join(s.dirs.cache, "mount-"+hex.EncodeToString(sum[:6]))
			}
			mo.Logger = s.log
			dir := args[0]
			err = mount.Mount(ctx, s.c, dir, mo, func() {
				o.infof(env, "mounted %s on %s; Ctrl-C unmounts", s.creds.Server, dir)
			})
			if err != nil {
				return err
			}
			o.infof(env, "unmounted %s", dir)
			return nil
		},
	}
	o.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&mo.ReadOnly, "read-only", false, "mount read-only: files 0444, folders 0555, every change fails (EROFS)")
	f.BoolVar(&mo.AllowOther, "allow-other", false, "let other users use the mount (non-root: needs user_allow_other in /etc/fuse.conf)")
	f.StringVar(&mo.CacheDir, "cache-dir", "", "directory of the read cache and the write spool (default: mount-<server hash> in the CLI cache directory)")
	f.StringVar(&cacheSize, "cache-size", "1G", "largest size of the read cache, e.g. 512M or 4G; 0 turns it off")
	f.BoolVar(&mo.PurgeOnDelete, "purge-on-delete", false, "purge deleted files and folders instead of moving them to the trash")
	f.DurationVar(&poll, "poll", mount.DefaultPoll, "how long each changes-feed request waits for a change (long poll, at most 60s); 0 stops following changes")
	return cmd
}
