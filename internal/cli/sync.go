package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/client"
)

// syncStats summarises one sync.
type syncStats struct {
	sets, nodes, purged int
	reset               bool
}

// sync brings the node cache up to date from the changes feed: from the
// saved checkpoint, or from scratch when full or when there is none. Each
// change set is applied with its checkpoint in one transaction, so an
// interrupted sync carries on where it stopped.
func (s *session) sync(ctx context.Context, full bool) (syncStats, error) {
	var st syncStats
	db, err := s.nodes()
	if err != nil {
		return st, err
	}
	cp := ""
	if !full {
		if cp, err = db.Checkpoint(ctx); err != nil {
			return st, err
		}
	}
	for set, err := range s.c.Changes(ctx, client.ChangesOptions{Checkpoint: cp, IncludePurged: true}) {
		if err != nil {
			return st, err
		}
		if set.Reset {
			st.reset = true
		}
		if err := db.Apply(ctx, set); err != nil {
			return st, err
		}
		st.sets++
		for _, n := range set.Nodes {
			if n.Status == client.StatusPurged {
				st.purged++
			} else {
				st.nodes++
			}
		}
	}
	s.rootMu.Lock()
	s.root = nil
	s.rootMu.Unlock()
	return st, nil
}

func newSync(env *Env) *cobra.Command {
	var o common
	var full bool
	cmd := &cobra.Command{
		Use:   "sync [--full]",
		Short: "Bring the local node cache up to date from the changes feed",
		Long: `Bring the local node cache up to date. The cache (a SQLite database under
<cache dir>/clouddrive/, or $CLOUDDRIVE_CACHE_DIR) holds every node of the
account; ls, tree and find read it, and paths are resolved through it, with
the API asked for anything it does not know.

sync asks the server's changes feed for what changed since the last sync
(incremental), including purged nodes, and applies it. The first sync, or
--full, fetches everything again. An interrupted sync resumes where it
stopped. Changes made by this CLI are in the cache at once; run sync to
see changes made by other clients.`,
		Args: cobra.NoArgs,
		RunE: env.withSession(&o, func(ctx context.Context, s *session, _ []string) error {
			start := env.now()
			st, err := s.sync(ctx, full)
			if err != nil {
				return err
			}
			db, _ := s.nodes()
			counts, err := db.Stats(ctx)
			if err != nil {
				return err
			}
			kind := "incremental"
			if st.reset {
				kind = "full"
			}
			o.infof(env, "synced (%s): %d changed nodes, %d purged, in %s; cache holds %d folders and %d files (%d in the trash)",
				kind, st.nodes, st.purged, env.now().Sub(start).Round(time.Millisecond),
				counts["FOLDER/AVAILABLE"], counts["FILE/AVAILABLE"], counts["FILE/TRASH"]+counts["FOLDER/TRASH"])
			return nil
		}),
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&full, "full", false, "drop the cache and fetch every node again")
	return cmd
}
