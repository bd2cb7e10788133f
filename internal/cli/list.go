package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/cases"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/bytesize"
)

const pathHelp = `Remote paths are absolute ("/" is the root folder; the leading slash may be
left out) and are matched case-insensitively, as the server does. A node
may also be named by its id as id:NODEID.`

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func size(n *acd.Node) int64 {
	if n.ContentProperties == nil {
		return 0
	}
	return n.ContentProperties.Size
}

func md5of(n *acd.Node) string {
	if n.ContentProperties == nil {
		return ""
	}
	return n.ContentProperties.MD5
}

func displayName(n *acd.Node) string {
	if n.IsRoot {
		return "/"
	}
	if n.Kind == client.KindFolder {
		return n.Name + "/"
	}
	return n.Name
}

func modTime(n *acd.Node) time.Time {
	t, _ := time.Parse(time.RFC3339, n.ModifiedDate)
	return t
}

// longLines formats nodes for ls -l: kind (d folder, - file; t in the
// trash), size in bytes (right-aligned), modified time (UTC), id, name.
func longLines(w io.Writer, nodes []*acd.Node, name func(*acd.Node) string) {
	width := 1
	for _, n := range nodes {
		width = max(width, len(strconv.FormatInt(size(n), 10)))
	}
	for _, n := range nodes {
		kind, sz := "-", strconv.FormatInt(size(n), 10)
		if n.Kind == client.KindFolder {
			kind, sz = "d", "-"
		}
		if n.Status == client.StatusTrash {
			kind += "t"
		} else {
			kind += " "
		}
		fmt.Fprintf(w, "%s %*s  %s  %-22s  %s\n", kind, width, sz, modTime(n).UTC().Format("2006-01-02 15:04"), n.ID, name(n))
	}
}

func newLs(env *Env) *cobra.Command {
	var o common
	var long, asJSON, trash bool
	cmd := &cobra.Command{
		Use:   "ls [-l] [--json] [PATH]",
		Short: "List a folder (from the node cache)",
		Long: `List the folder at PATH (default /), or show the file at PATH, from the node
cache; the cache is synced first if it never was. Folders end with "/".

-l adds kind (d folder, - file, t in the trash), size in bytes, modified
time (UTC), node id. --json prints the nodes as the API returns them.
--trash lists the trash instead (from the API): the nodes trashed
directly, with the folder they were in.

` + pathHelp,
		Example: `  clouddrive ls /
  clouddrive ls -l /Photos/2024
  clouddrive ls --json /Documents | jq '.[].name'
  clouddrive ls --trash`,
		Args: cobra.MaximumNArgs(1),
		RunE: env.withSession(&o, func(ctx context.Context, s *session, args []string) error {
			out := env.Stdout
			if trash {
				if len(args) > 0 {
					return usageErrorf("ls --trash lists the whole trash; it takes no PATH")
				}
				return lsTrash(ctx, s, out, long, asJSON)
			}
			r, err := s.resolveCached(ctx, args)
			if err != nil {
				return err
			}
			nodes := []*acd.Node{r.node}
			if r.node.Kind == client.KindFolder {
				db, err := s.nodes()
				if err != nil {
					return err
				}
				if nodes, err = db.Children(ctx, r.node.ID, client.StatusAvailable); err != nil {
					return err
				}
			}
			if asJSON {
				if nodes == nil {
					nodes = []*acd.Node{}
				}
				return writeJSON(out, nodes)
			}
			if long {
				longLines(out, nodes, displayName)
				return nil
			}
			for _, n := range nodes {
				fmt.Fprintln(out, displayName(n))
			}
			return nil
		}),
	}
	o.register(cmd)
	cmd.Flags().BoolVarP(&long, "long", "l", false, "long format: kind, size, modified, id, name")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the nodes as JSON")
	cmd.Flags().BoolVar(&trash, "trash", false, "list the trash")
	return cmd
}

func lsTrash(ctx context.Context, s *session, out io.Writer, long, asJSON bool) error {
	nodes, err := client.Collect(s.c.ListTrash(ctx, &client.ListOptions{Sort: `["name ASC"]`}))
	if err != nil {
		return err
	}
	s.remember(ctx, nodes...)
	if asJSON {
		if nodes == nil {
			nodes = []*acd.Node{}
		}
		return writeJSON(out, nodes)
	}
	paths := map[string]string{}
	for _, n := range nodes {
		where := ""
		if len(n.Parents) > 0 {
			if pn, err := s.c.Node(ctx, n.Parents[0], nil); err == nil {
				where = s.pathOf(ctx, pn)
			}
		}
		full := path.Join(where, n.Name)
		if n.Kind == client.KindFolder {
			full += "/"
		}
		paths[n.ID] = full
	}
	if long {
		longLines(out, nodes, func(n *acd.Node) string { return paths[n.ID] })
		return nil
	}
	for _, n := range nodes {
		fmt.Fprintln(out, paths[n.ID])
	}
	return nil
}

// walk visits the AVAILABLE subtree of n in the cache, depth first, by
// name; fn gets each node with its path and depth (n itself has depth 0).
// Folders reachable twice (several parents) are visited once.
func walk(ctx context.Context, s *session, n *acd.Node, p string, maxDepth int, fn func(n *acd.Node, p string, depth int, last []bool) error) error {
	db, err := s.nodes()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var visit func(n *acd.Node, p string, depth int, last []bool) error
	visit = func(n *acd.Node, p string, depth int, last []bool) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(n, p, depth, last); err != nil {
			return err
		}
		if n.Kind != client.KindFolder || seen[n.ID] || (maxDepth >= 0 && depth >= maxDepth) {
			return nil
		}
		seen[n.ID] = true
		kids, err := db.Children(ctx, n.ID, client.StatusAvailable)
		if err != nil {
			return err
		}
		for i, k := range kids {
			if err := visit(k, path.Join(p, k.Name), depth+1, append(last[:len(last):len(last)], i == len(kids)-1)); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(n, p, 0, nil)
}

// resolveCached resolves the optional PATH argument (default /) of a
// command that reads the node cache, syncing the cache first if it never
// was.
func (s *session) resolveCached(ctx context.Context, args []string) (*resolved, error) {
	p := "/"
	if len(args) > 0 {
		p = args[0]
	}
	if err := s.ensureSynced(ctx); err != nil {
		return nil, err
	}
	return s.resolve(ctx, p)
}

func newTree(env *Env) *cobra.Command {
	var o common
	var depth int
	var dirsOnly bool
	cmd := &cobra.Command{
		Use:   "tree [PATH]",
		Short: "Show a folder's subtree (from the node cache)",
		Long: `Show the folders and files under PATH (default /) as a tree, from the node
cache (synced first if it never was), with a count at the end.

` + pathHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: env.withSession(&o, func(ctx context.Context, s *session, args []string) error {
			r, err := s.resolveCached(ctx, args)
			if err != nil {
				return err
			}
			var folders, files int
			err = walk(ctx, s, r.node, r.path, depth, func(n *acd.Node, _ string, d int, last []bool) error {
				if dirsOnly && n.Kind != client.KindFolder {
					return nil
				}
				if d == 0 {
					name := r.path
					if n.Kind == client.KindFolder && name != "/" {
						name += "/"
					}
					fmt.Fprintln(env.Stdout, name)
					return nil
				}
				var b strings.Builder
				for _, l := range last[:len(last)-1] {
					if l {
						b.WriteString("    ")
					} else {
						b.WriteString("│   ")
					}
				}
				if last[len(last)-1] {
					b.WriteString("└── ")
				} else {
					b.WriteString("├── ")
				}
				fmt.Fprintln(env.Stdout, b.String()+displayName(n))
				if n.Kind == client.KindFolder {
					folders++
				} else {
					files++
				}
				return nil
			})
			if err != nil {
				return err
			}
			if !o.quiet {
				fmt.Fprintf(env.Stdout, "\n%s, %s\n", plural(folders, "folder"), plural(files, "file"))
			}
			return nil
		}),
	}
	o.register(cmd)
	cmd.Flags().IntVarP(&depth, "level", "L", -1, "descend at most this many levels")
	cmd.Flags().BoolVarP(&dirsOnly, "dirs-only", "d", false, "show folders only")
	return cmd
}

// sizeFilter is a --size value: [+|-]N with a unit of package bytesize.
type sizeFilter struct {
	op byte // '+' larger, '-' smaller, '=' exactly
	n  int64
}

func parseSize(s string) (sizeFilter, error) {
	f, in := sizeFilter{op: '='}, s
	if s != "" && (s[0] == '+' || s[0] == '-') {
		f.op, s = s[0], s[1:]
	}
	n, err := bytesize.Parse(s)
	if err != nil {
		return f, usageErrorf("--size %q: want [+|-]N with an optional unit (K, M, G, T in powers of 1024; KB, MB, GB, TB in powers of 1000), e.g. +1M (more than 1 MiB), -10k, 0", in)
	}
	f.n = n
	return f, nil
}

func (f sizeFilter) match(n int64) bool {
	switch f.op {
	case '+':
		return n > f.n
	case '-':
		return n < f.n
	}
	return n == f.n
}

// timeFilter is a --modified value, as an interval [from, to).
type timeFilter struct{ from, to time.Time }

func parseDate(s string) (time.Time, time.Duration, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			span := time.Second
			if layout == "2006-01-02" {
				span = 24 * time.Hour
			} else if layout == "2006-01-02T15:04" {
				span = time.Minute
			}
			return t.UTC(), span, nil
		}
	}
	return time.Time{}, 0, fmt.Errorf("bad date %q", s)
}

func parseAge(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	u, ok := unit[s[len(s)-1]]
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s[:len(s)-1], 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return time.Duration(v * float64(u)), true
}

func parseModified(s string, now time.Time) (timeFilter, error) {
	bad := usageErrorf("--modified %q: want -7d (in the last 7 days), +7d (more than 7 days ago), 2024-05-01 (that day) or 2024-01-01..2024-02-01 (either end may be left out); units s m h d w", s)
	if s != "" && (s[0] == '-' || s[0] == '+') {
		d, ok := parseAge(s[1:])
		if !ok {
			return timeFilter{}, bad
		}
		if s[0] == '-' {
			return timeFilter{from: now.Add(-d)}, nil
		}
		return timeFilter{to: now.Add(-d)}, nil
	}
	if a, b, ok := strings.Cut(s, ".."); ok {
		var f timeFilter
		if a != "" {
			t, _, err := parseDate(a)
			if err != nil {
				return f, bad
			}
			f.from = t
		}
		if b != "" {
			t, span, err := parseDate(b)
			if err != nil {
				return f, bad
			}
			f.to = t.Add(span)
		}
		return f, nil
	}
	t, span, err := parseDate(s)
	if err != nil {
		return timeFilter{}, bad
	}
	return timeFilter{from: t, to: t.Add(span)}, nil
}

func (f timeFilter) match(t time.Time) bool {
	return (f.from.IsZero() || !t.Before(f.from)) && (f.to.IsZero() || t.Before(f.to))
}

// globMatch matches a name against a shell pattern case-insensitively.
func globMatch(pattern, name string) bool {
	fold := cases.Fold()
	ok, _ := path.Match(fold.String(pattern), fold.String(name))
	return ok
}

func newFind(env *Env) *cobra.Command {
	var o common
	var names []string
	var md5, sizeSpec, modified, kind string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "find [PATH] [--name GLOB]... [--md5 HEX] [--size SPEC] [--modified SPEC] [--type f|d]",
		Short: "Find nodes by name, content hash, size or date (in the node cache)",
		Long: `Find the nodes under PATH (default /) that match every test given, in the node
cache (synced first if it never was), and print their paths.

  --name GLOB       shell pattern on the name (* ? [...]), case-insensitive;
                    repeat for any of several patterns
  --md5 HEX         files with this content MD5
  --size SPEC       files of size N, +N (more than N) or -N (less than N)
                    bytes; K, M, G, T suffixes are powers of 1024
  --modified SPEC   -7d (in the last 7 days), +7d (more than 7 days ago),
                    2024-05-01 (that UTC day), 2024-01-01..2024-02-01 (from,
                    to inclusive; either end may be left out); units s m h d w
  --type f|d        files or folders only

` + pathHelp,
		Example: `  clouddrive find --name '*.jpg' --modified -30d /Photos
  clouddrive find --size +100M
  clouddrive find --md5 d41d8cd98f00b204e9800998ecf8427e`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var sf *sizeFilter
			if sizeSpec != "" {
				f, err := parseSize(sizeSpec)
				if err != nil {
					return err
				}
				sf = &f
			}
			var tf *timeFilter
			if modified != "" {
				f, err := parseModified(modified, env.now())
				if err != nil {
					return err
				}
				tf = &f
			}
			for _, n := range names {
				if _, err := path.Match(n, ""); err != nil {
					return usageErrorf("--name %q: %v", n, err)
				}
			}
			switch kind {
			case "", "f", "d":
			default:
				return usageErrorf("--type must be f (files) or d (folders)")
			}
			md5 = strings.ToLower(md5)
			s, err := env.open(ctx, &o)
			if err != nil {
				return err
			}
			defer s.close()
			r, err := s.resolveCached(ctx, args)
			if err != nil {
				return err
			}
			var found []*acd.Node
			err = walk(ctx, s, r.node, r.path, -1, func(n *acd.Node, np string, depth int, _ []bool) error {
				if depth == 0 && n.Kind == client.KindFolder {
					return nil
				}
				isFile := n.Kind == client.KindFile
				switch {
				case kind == "f" && !isFile, kind == "d" && n.Kind != client.KindFolder:
					return nil
				case md5 != "" && (!isFile || md5of(n) != md5):
					return nil
				case sf != nil && (!isFile || !sf.match(size(n))):
					return nil
				case tf != nil && !tf.match(modTime(n)):
					return nil
				}
				if len(names) > 0 {
					ok := false
					for _, g := range names {
						ok = ok || globMatch(g, n.Name)
					}
					if !ok {
						return nil
					}
				}
				if asJSON {
					found = append(found, n)
					return nil
				}
				if n.Kind == client.KindFolder {
					np += "/"
				}
				fmt.Fprintln(env.Stdout, np)
				return nil
			})
			if err != nil {
				return err
			}
			if asJSON {
				if found == nil {
					found = []*acd.Node{}
				}
				return writeJSON(env.Stdout, found)
			}
			return nil
		},
	}
	o.register(cmd)
	cmd.Flags().StringArrayVar(&names, "name", nil, "name pattern (repeatable: any of them)")
	cmd.Flags().StringVar(&md5, "md5", "", "content MD5 (hex)")
	cmd.Flags().StringVar(&sizeSpec, "size", "", "size: N, +N or -N bytes, with K/M/G/T (powers of 1024) or KB/MB/GB/TB (powers of 1000) suffixes")
	cmd.Flags().StringVar(&modified, "modified", "", "modified: -7d, +7d, 2024-05-01 or FROM..TO")
	cmd.Flags().StringVar(&kind, "type", "", "f for files, d for folders")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the matching nodes as JSON")
	return cmd
}

func newStat(env *Env) *cobra.Command {
	var o common
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stat PATH...",
		Short: "Show a node's metadata (fresh from the API)",
		Long: `Show the metadata of the nodes at PATH: id, kind, status, size, MD5, content
type, dates, version, parents. The path is resolved through the node cache;
the metadata itself is read from the API, so it is current.

` + pathHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: env.withSession(&o, func(ctx context.Context, s *session, args []string) error {
			var all []*acd.Node
			for _, p := range args {
				r, err := s.resolve(ctx, p)
				if err != nil {
					return err
				}
				n, err := s.c.Node(ctx, r.node.ID, nil)
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				s.remember(ctx, n)
				if names := splitPath(r.path); r.parent != nil && (n.Status != client.StatusAvailable ||
					cases.Fold().String(n.Name) != cases.Fold().String(names[len(names)-1]) || !slices.Contains(n.Parents, r.parent.ID)) {
					o.infof(env, "note: %s has changed on the server (now %q, %s): run clouddrive sync to update the node cache", r.path, n.Name, n.Status)
				}
				if asJSON {
					all = append(all, n)
					continue
				}
				printStat(env.Stdout, r.path, n)
			}
			if asJSON {
				return writeJSON(env.Stdout, all)
			}
			return nil
		}),
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the nodes as JSON")
	return cmd
}

func printStat(w io.Writer, p string, n *acd.Node) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	row("path", p)
	row("id", n.ID)
	row("name", n.Name)
	row("kind", n.Kind)
	row("status", n.Status)
	if cp := n.ContentProperties; cp != nil {
		row("size", strconv.FormatInt(cp.Size, 10)+" ("+bytesize.Format(cp.Size)+")")
		row("md5", cp.MD5)
		row("contentType", cp.ContentType)
		row("contentVersion", strconv.FormatInt(cp.Version, 10))
		row("mtime", cp.ModTime.String()) // none when the file was stored without one
	}
	row("created", n.CreatedDate)
	row("modified", n.ModifiedDate)
	row("createdBy", n.CreatedBy)
	row("version", strconv.FormatInt(n.Version, 10))
	row("parents", strings.Join(n.Parents, " "))
	row("labels", strings.Join(n.Labels, " "))
	row("description", n.Description)
	tw.Flush()
	fmt.Fprintln(w)
}
