package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

func newAdminMedia(stdout io.Writer) *cobra.Command {
	media := &cobra.Command{Use: "media", Short: "Photo and video metadata of stored files"}
	var data, user string
	var keepGPS bool
	backfill := &cobra.Command{
		Use:   "backfill",
		Short: "Read the photo and video metadata of files stored before the server read it (safe while servers run)",
		Long: `Read the photo and video metadata (contentProperties.image, video and
contentDate) of the files that have none yet, as an upload does today: files
stored by a server from before media extraction. Only files whose content
type is image/* or video/*, or whose name has a photo or video extension, are
read, each blob once; the results are written 100 nodes a transaction.

Every file that gets metadata gets a new node version and a change in the
changes feed (and a node.metadata_updated webhook), so synced clients, which
cache contentProperties, see it. A file changed meanwhile is left alone.
Running it again writes nothing: it prints "updated 0". Safe while servers run.
GPS positions are dropped unless --keep-gps is given (as serve --keep-gps).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg := storeConfig(cmd, data)
			cfg.KeepGPS = keepGPS
			m, err := app.OpenMeta(ctx, cfg)
			if err != nil {
				return err
			}
			defer m.Close()
			b, err := app.OpenBlobs(ctx, cfg)
			if err != nil {
				return err
			}
			var users []*drive.User
			err = m.View(ctx, func(tx meta.Tx) error {
				if user != "" {
					u, err := tx.UserByName(ctx, user)
					users = []*drive.User{u}
					return err
				}
				users, err = tx.Users(ctx)
				return err
			})
			if drive.Is(drive.NotFound, err) {
				return fmt.Errorf("no user %q", user)
			}
			if err != nil {
				return err
			}
			svc := app.NewNodes(cfg, m, b)
			scanned, updated := 0, 0
			for _, u := range users {
				st, err := svc.BackfillMedia(ctx, u.ID)
				scanned, updated = scanned+st.Scanned, updated+st.Updated
				if err != nil {
					return fmt.Errorf("user %s: %w", u.Name, err)
				}
				if st.Updated > 0 {
					fmt.Fprintf(stdout, "user %s: read %d files, updated %d\n", u.Name, st.Scanned, st.Updated)
				}
			}
			fmt.Fprintf(stdout, "read %d files of %d users, updated %d\n", scanned, len(users), updated)
			return nil
		},
	}
	dataFlag(backfill, &data)
	backfill.Flags().StringVar(&user, "user", "", "only this user's files (default: all users)")
	backfill.Flags().BoolVar(&keepGPS, "keep-gps", false, "keep the GPS position of photos, as serve --keep-gps")
	media.AddCommand(backfill)
	return media
}
