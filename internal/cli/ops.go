package cli

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
)

// mkdirAll returns the folder at p, creating it and any missing parents;
// made, if not nil, is told the path of each folder created.
func (s *session) mkdirAll(ctx context.Context, p string, made func(path string)) (*acd.Node, error) {
	cur, err := s.rootNode(ctx)
	if err != nil {
		return nil, err
	}
	names := splitPath(p)
	for i, name := range names {
		next, err := s.child(ctx, cur, name, client.StatusAvailable)
		if errors.Is(err, client.ErrNotFound) {
			next, err = s.c.CreateFolder(ctx, cur.ID, name, &client.FolderOptions{OnConflict: client.ConflictReturnExisting})
			if err == nil {
				s.created(ctx, next)
				if made != nil {
					made("/" + strings.Join(names[:i+1], "/"))
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", "/"+strings.Join(names[:i+1], "/"), err)
		}
		if next.Kind != client.KindFolder {
			return nil, fmt.Errorf("%s: %w: a file is in the way", "/"+strings.Join(names[:i+1], "/"), errExists)
		}
		cur = next
	}
	return cur, nil
}

// eachPath resolves every path and runs act on it, going on past failures;
// it returns the failures joined. act names the path in its errors.
func eachPath(ctx context.Context, paths []string, resolve func(context.Context, string) (*resolved, error), act func(r *resolved) error) error {
	var errs []error
	for _, p := range paths {
		r, err := resolve(ctx, p)
		if err == nil {
			err = act(r)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func newMkdir(env *Env) *cobra.Command {
	var o common
	var parents bool
	cmd := &cobra.Command{
		Use:   "mkdir [-p] PATH...",
		Short: "Create folders",
		Long: `Create a folder at each PATH. Without -p the parent must exist and the name
must be free (else exit code 4); with -p missing parents are created and an
existing folder is fine. Each folder created is printed to stderr
("created /a/b/"; with -p, parents included, and nothing for folders that
existed); -q prints nothing.

` + pathHelp,
		Example: `  clouddrive mkdir /Projects
  clouddrive mkdir -p /Photos/2024/05`,
		Args: cobra.MinimumNArgs(1),
		RunE: env.withSession(&o, func(ctx context.Context, s *session, args []string) error {
			for _, p := range args {
				if len(splitPath(p)) == 0 {
					if parents {
						continue
					}
					return fmt.Errorf("/: %w (the root folder)", errExists)
				}
				if parents {
					if _, err := s.mkdirAll(ctx, p, func(p string) { o.infof(env, "created %s/", p) }); err != nil {
						return err
					}
					continue
				}
				dir, name := path.Split(cleanPath(p))
				parent, err := s.resolve(ctx, dir)
				if err != nil {
					return withHint(err, "create missing parents with mkdir -p")
				}
				n, err := s.c.CreateFolder(ctx, parent.node.ID, name, nil)
				if err != nil {
					return fmt.Errorf("%s: %w", cleanPath(p), err)
				}
				s.created(ctx, n)
				o.infof(env, "created %s/", cleanPath(p))
			}
			return nil
		}),
	}
	o.register(cmd)
	cmd.Flags().BoolVarP(&parents, "parents", "p", false, "create missing parents; no error if the folder exists")
	return cmd
}

// fromParent returns the parent a resolved node is to be moved away from.
func fromParent(r *resolved) (string, error) {
	if r.parent != nil {
		return r.parent.ID, nil
	}
	if len(r.node.Parents) == 1 {
		return r.node.Parents[0], nil
	}
	return "", usageErrorf("%s has %d parents: name it by path to say which one to move it from", r.path, len(r.node.Parents))
}

func newMv(env *Env) *cobra.Command {
	var o common
	cmd := &cobra.Command{
		Use:   "mv SRC... DEST",
		Short: "Move (and rename) files and folders",
		Long: `Move each SRC into the folder DEST. With a single SRC and a DEST that does not
exist, SRC is moved into DEST's parent folder and renamed to DEST's name,
in one step. A name taken in the destination is a conflict (exit code 4).
A node with several parents is moved away from the parent its path goes
through; its other parents are kept.

` + pathHelp,
		Example: `  clouddrive mv /inbox/a.pdf /inbox/b.pdf /Documents
  clouddrive mv /Documents/a.pdf /Archive/2024-a.pdf`,
		Args: cobra.MinimumNArgs(2),
		RunE: env.withSession(&o, func(ctx context.Context, s *session, args []string) error {
			srcs, dst := args[:len(args)-1], args[len(args)-1]
			d, err := s.resolve(ctx, dst)
			if err != nil && !errors.Is(err, errNoSuchPath) {
				return err
			}
			if d != nil && d.node.Kind != client.KindFolder {
				return fmt.Errorf("%s: %w (a file; mv does not replace files)", d.path, errExists)
			}
			if d == nil {
				// mv SRC NEWPATH: move and rename at once.
				if len(srcs) > 1 {
					return fmt.Errorf("%s: %w (moving several nodes needs an existing folder)", cleanPath(dst), errNoSuchPath)
				}
				dir, name := path.Split(cleanPath(dst))
				pd, err := s.resolve(ctx, dir)
				if err != nil {
					return err
				}
				if pd.node.Kind != client.KindFolder {
					return fmt.Errorf("%s: %w (not a folder)", pd.path, errNoSuchPath)
				}
				r, err := s.resolve(ctx, srcs[0])
				if err != nil {
					return err
				}
				from, err := fromParent(r)
				if err != nil {
					return err
				}
				parents := slices.Clone(r.node.Parents)
				if from != pd.node.ID {
					parents = slices.DeleteFunc(parents, func(p string) bool { return p == from || p == pd.node.ID })
					parents = append(parents, pd.node.ID)
				}
				n, err := s.c.Update(ctx, r.node.ID, client.Patch{Name: &name, Parents: &parents})
				if err != nil {
					return fmt.Errorf("%s -> %s: %w", r.path, cleanPath(dst), err)
				}
				s.remember(ctx, n)
				o.infof(env, "moved %s to %s", r.path, cleanPath(dst))
				return nil
			}
			return eachPath(ctx, srcs, s.resolve, func(r *resolved) error {
				if r.node.IsRoot {
					return usageErrorf("the root folder cannot be moved")
				}
				from, err := fromParent(r)
				if err != nil || from == d.node.ID {
					return err
				}
				n, err := s.c.Move(ctx, r.node.ID, from, d.node.ID)
				if err != nil {
					return fmt.Errorf("%s -> %s: %w", r.path, d.path, err)
				}
				s.remember(ctx, n)
				o.infof(env, "moved %s to %s", r.path, path.Join(d.path, n.Name))
				return nil
			})
		}),
	}
	o.register(cmd)
	return cmd
}

func newRename(env *Env) *cobra.Command {
	var o common
	cmd := &cobra.Command{
		Use:   "rename PATH NEWNAME",
		Short: "Rename a file or folder in place",
		Long: `Give the node at PATH the name NEWNAME, in the same folder(s). A name taken by
another node is a conflict (exit code 4); changing only the case is fine.

` + pathHelp,
		Example: `  clouddrive rename /Documents/draft.txt final.txt`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name := args[1]
			if name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
				return usageErrorf("NEWNAME %q must be a plain name (no '/'); use mv to move", name)
			}
			s, err := env.open(ctx, &o)
			if err != nil {
				return err
			}
			defer s.close()
			r, err := s.resolve(ctx, args[0])
			if err != nil {
				return err
			}
			if r.node.IsRoot {
				return usageErrorf("the root folder has no name")
			}
			n, err := s.c.Rename(ctx, r.node.ID, name)
			if err != nil {
				return fmt.Errorf("%s: %w", r.path, err)
			}
			s.remember(ctx, n)
			o.infof(env, "renamed %s to %s", r.path, name)
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

func newTrash(env *Env) *cobra.Command {
	var o common
	cmd := &cobra.Command{
		Use:   "trash PATH...",
		Short: "Move files and folders to the trash",
		Long: `Move each PATH to the trash; a folder takes its contents along. Trashed nodes
free their names, show in ls --trash, and come back with restore (or go for
good with purge).

` + pathHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: env.withSession(&o, func(ctx context.Context, s *session, args []string) error {
			return eachPath(ctx, args, s.resolve, func(r *resolved) error {
				n, err := s.c.Trash(ctx, r.node.ID)
				if err != nil {
					return fmt.Errorf("%s: %w", r.path, err)
				}
				s.remember(ctx, n)
				o.infof(env, "trashed %s", r.path)
				return nil
			})
		}),
	}
	o.register(cmd)
	return cmd
}

func newRestore(env *Env) *cobra.Command {
	var o common
	cmd := &cobra.Command{
		Use:   "restore PATH...",
		Short: "Bring files and folders back from the trash",
		Long: `Restore each trashed node, named by the path it had (as ls --trash shows it)
or as id:NODEID, into its folder(s), with the contents trashed along with
it. A name taken meanwhile is a conflict (exit code 4): rename or move the
other node first. A node that is not in the trash is a failure (exit code
1), as for purge; the other paths are still restored.

` + pathHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: env.withSession(&o, func(ctx context.Context, s *session, args []string) error {
			return eachPath(ctx, args, s.resolveTrashed, func(r *resolved) error {
				if r.node.Status != client.StatusTrash {
					return withHint(fmt.Errorf("%s: %w", r.path, errNotTrashed), "nothing to restore: `clouddrive ls --trash` lists what is in the trash")
				}
				n, err := s.c.Restore(ctx, r.node.ID)
				if err != nil {
					return fmt.Errorf("%s: %w", r.path, err)
				}
				s.remember(ctx, n)
				o.infof(env, "restored %s", r.path)
				return nil
			})
		}),
	}
	o.register(cmd)
	return cmd
}

// errNotTrashed is purge of a node outside the trash without --force.
var errNotTrashed = errors.New("not in the trash")

func newPurge(env *Env) *cobra.Command {
	var o common
	var force bool
	cmd := &cobra.Command{
		Use:   "purge PATH...",
		Short: "Delete trashed files and folders for good",
		Long: `Delete each node for good, with the contents only reachable through it. This
cannot be undone. Nodes are named by the path they had (as ls --trash shows
it) or as id:NODEID, and must be in the trash unless --force is given (a
node that is not is a failure, exit code 1, as for restore).

` + pathHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: env.withSession(&o, func(ctx context.Context, s *session, args []string) error {
			return eachPath(ctx, args, s.resolveTrashed, func(r *resolved) error {
				if r.node.Status != client.StatusTrash && !force {
					return withHint(fmt.Errorf("%s: %w", r.path, errNotTrashed), "trash it first (clouddrive trash), or pass --force to delete it at once")
				}
				if _, err := s.c.Purge(ctx, r.node.ID); err != nil {
					return fmt.Errorf("%s: %w", r.path, err)
				}
				s.forget(ctx, r.node.ID)
				o.infof(env, "purged %s", r.path)
				return nil
			})
		}),
	}
	o.register(cmd)
	cmd.Flags().BoolVarP(&force, "force", "f", false, "also purge nodes that are not in the trash")
	return cmd
}
