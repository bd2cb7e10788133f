package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/bytesize"
)

func newUsage(env *Env) *cobra.Command {
	var o common
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show storage used, per category",
		Long:  `Show the bytes and files stored, per category (documents, photos, videos, other) and in total.`,
		Args:  cobra.NoArgs,
		RunE: env.withSession(&o, func(ctx context.Context, s *session, _ []string) error {
			u, err := s.c.Usage(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, u)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "\tfiles\tbytes\t\t")
			var files, bytes int64
			for _, c := range []struct {
				name string
				u    int64
				n    int64
			}{{"documents", u.Doc.Total.Bytes, u.Doc.Total.Count}, {"photos", u.Photo.Total.Bytes, u.Photo.Total.Count},
				{"videos", u.Video.Total.Bytes, u.Video.Total.Count}, {"other", u.Other.Total.Bytes, u.Other.Total.Count}} {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t\n", c.name, c.n, c.u, bytesize.Format(c.u))
				files += c.n
				bytes += c.u
			}
			fmt.Fprintf(tw, "total\t%d\t%d\t%s\t\n", files, bytes, bytesize.Format(bytes))
			return tw.Flush()
		}),
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API reply as JSON")
	return cmd
}

// unlimitedQuota is the quota clouddrive reports for an account without
// one (1 PiB); quota shows it as "unlimited".
const unlimitedQuota = int64(1) << 50

func newQuota(env *Env) *cobra.Command {
	var o common
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "quota",
		Short: "Show the storage quota and what is left",
		Args:  cobra.NoArgs,
		Long: `Show the account's storage quota, the bytes used and the bytes still available.
An account without a quota shows "unlimited" (the API reports it as 1 PiB,
which is what --json prints).`,
		RunE: env.withSession(&o, func(ctx context.Context, s *session, _ []string) error {
			q, err := s.c.Quota(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, q)
			}
			used := q.Quota - q.Available
			if q.Quota >= unlimitedQuota {
				fmt.Fprintf(env.Stdout, "quota:     unlimited\nused:      %d (%s)\navailable: unlimited\n", used, bytesize.Format(used))
				return nil
			}
			pct := 0.0
			if q.Quota > 0 {
				pct = 100 * float64(used) / float64(q.Quota)
			}
			fmt.Fprintf(env.Stdout, "quota:     %d (%s)\nused:      %d (%s, %.1f%%)\navailable: %d (%s)\n",
				q.Quota, bytesize.Format(q.Quota), used, bytesize.Format(used), pct, q.Available, bytesize.Format(q.Available))
			return nil
		}),
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API reply as JSON")
	return cmd
}

// owner returns the app id that owns this token's properties: from the
// flag, the credentials, or else learned by creating and purging a probe
// folder (acd_cli's method: a node's createdBy is its app's id).
func (s *session) owner(ctx context.Context, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if s.creds.Owner != "" {
		return s.creds.Owner, nil
	}
	root, err := s.rootNode(ctx)
	if err != nil {
		return "", err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	probe, err := s.c.CreateFolder(ctx, root.ID, ".clouddrive-owner-probe-"+hex.EncodeToString(b[:]), nil)
	if err != nil {
		return "", fmt.Errorf("learning the app id for properties: %w", err)
	}
	if _, err := s.c.Purge(ctx, probe.ID); err != nil {
		s.log.WarnContext(ctx, "probe folder not purged", "node_id", probe.ID, "err", err)
	}
	s.created(ctx, probe)
	s.forget(ctx, probe.ID)
	return probe.CreatedBy, nil
}

func newProps(env *Env) *cobra.Command {
	var o common
	var owner string
	props := &cobra.Command{
		Use:   "props",
		Short: "Get, set and remove a node's properties",
		Long: `Properties are app-private key/value pairs on a node (at most 10 keys per app,
values up to 500 characters). They belong to the app of the token (its
"owner" id, learned automatically); --owner reads another app's, which the
server shows as empty.`,
	}
	get := &cobra.Command{
		Use:   "get PATH [KEY]",
		Short: "Print all properties (KEY=VALUE lines) or one value",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withProps(cmd.Context(), env, &o, owner, args[0], func(ctx context.Context, s *session, id, own string) error {
				if len(args) == 2 {
					v, err := s.c.Property(ctx, id, own, args[1])
					if errors.Is(err, client.ErrNotFound) {
						return withHint(fmt.Errorf("property %s: %w", args[1], err), "the node has no such property: list them with clouddrive props get PATH")
					}
					if err != nil {
						return fmt.Errorf("property %s: %w", args[1], err)
					}
					fmt.Fprintln(env.Stdout, v)
					return nil
				}
				m, err := s.c.Properties(ctx, id, own)
				if err != nil {
					return err
				}
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					fmt.Fprintf(env.Stdout, "%s=%s\n", k, m[k])
				}
				return nil
			})
		},
	}
	set := &cobra.Command{
		Use:   "set PATH KEY VALUE",
		Short: "Set a property",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withProps(cmd.Context(), env, &o, owner, args[0], func(ctx context.Context, s *session, id, own string) error {
				return s.c.SetProperty(ctx, id, own, args[1], args[2])
			})
		},
	}
	rm := &cobra.Command{
		Use:   "rm PATH KEY...",
		Short: "Remove properties",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withProps(cmd.Context(), env, &o, owner, args[0], func(ctx context.Context, s *session, id, own string) error {
				for _, k := range args[1:] {
					if err := s.c.DeleteProperty(ctx, id, own, k); err != nil {
						return fmt.Errorf("property %s: %w", k, err)
					}
				}
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{get, set, rm} {
		c.Long = c.Short + ".\n\n" + pathHelp
		o.register(c)
		c.Flags().StringVar(&owner, "owner", "", "app id owning the properties (default: this token's app)")
		props.AddCommand(c)
	}
	props.Long += "\n\n" + exitCodesHelp
	return props
}

func withProps(ctx context.Context, env *Env, o *common, ownerFlag, p string, fn func(ctx context.Context, s *session, id, owner string) error) error {
	s, err := env.open(ctx, o)
	if err != nil {
		return err
	}
	defer s.close()
	r, err := s.resolve(ctx, p)
	if err != nil {
		return err
	}
	own, err := s.owner(ctx, ownerFlag)
	if err != nil {
		return err
	}
	return fn(ctx, s, r.node.ID, own)
}

func newLink(env *Env) *cobra.Command {
	var o common
	cmd := &cobra.Command{
		Use:   "link PATH",
		Short: "Print a temporary download link for a file",
		Long: `Print a temporary link that downloads the file at PATH without logging in
(for curl, a browser, or a share); it expires after a while (an hour by
default on clouddrive) and supports Range requests.

` + pathHelp,
		Args: cobra.ExactArgs(1),
		RunE: env.withSession(&o, func(ctx context.Context, s *session, args []string) error {
			r, err := s.resolve(ctx, args[0])
			if err != nil {
				return err
			}
			if r.node.Kind != client.KindFile {
				return usageErrorf("%s is a folder: only files have links", r.path)
			}
			link, err := s.c.TempLink(ctx, r.node.ID)
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, link)
			return nil
		}),
	}
	o.register(cmd)
	return cmd
}

func newCat(env *Env) *cobra.Command {
	var o common
	cmd := &cobra.Command{
		Use:   "cat PATH...",
		Short: "Write files' contents to standard output",
		Long: `Write the contents of each file to standard output, in order. A broken
connection is resumed where it stopped.

` + pathHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: env.withSession(&o, func(ctx context.Context, s *session, args []string) error {
			for _, p := range args {
				r, err := s.resolve(ctx, p)
				if err != nil {
					return err
				}
				if r.node.Kind != client.KindFile {
					return usageErrorf("%s is a folder", r.path)
				}
				rc, err := s.c.Open(ctx, r.node.ID, 0, -1)
				if err != nil {
					return fmt.Errorf("%s: %w", r.path, err)
				}
				_, err = io.Copy(env.Stdout, rc)
				rc.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", r.path, err)
				}
			}
			return nil
		}),
	}
	o.register(cmd)
	return cmd
}
