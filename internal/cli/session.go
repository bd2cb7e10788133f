package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/cli/cache"
)

// session is one command's connection to the server: the SDK client, the
// node cache and the credentials.
type session struct {
	env   *Env
	opts  *common
	dirs  dirs
	creds *Credentials
	c     *client.Client
	log   *slog.Logger

	cacheOnce sync.Once
	cache     *cache.Cache
	cacheErr  error

	rootMu sync.Mutex
	root   *acd.Node

	ownerMu sync.Mutex
}

// open loads the credentials and builds the client.
func (e *Env) open(ctx context.Context, o *common) (*session, error) {
	d, err := e.dirs()
	if err != nil {
		return nil, err
	}
	creds, err := loadCredentials(d.credentials())
	if err != nil {
		return nil, err
	}
	s := &session{env: e, opts: o, dirs: d, creds: creds, log: o.logger(e.Stderr)}
	s.c, err = e.newClient(ctx, creds.Server, tokenSource(ctx, d.credentials(), creds, e.HTTPClient), s.log, d, o.sdk...)
	if err != nil {
		return nil, err
	}
	if creds.Account == "" {
		// Stored before the account was kept: learn it once.
		root, err := s.c.Root(ctx)
		if err != nil {
			return nil, err
		}
		s.setCreds(ctx, func(c *Credentials) { c.Account = root.ID })
		s.remember(ctx, root)
	}
	return s, nil
}

// setCreds changes the credentials and saves them; a failure to save only
// costs a lookup next time. Copy on write: a refreshing token source may
// read the old value. The file is read again first, so a token refreshed
// meanwhile is kept.
func (s *session) setCreds(ctx context.Context, change func(*Credentials)) {
	c := *s.creds
	change(&c)
	s.creds = &c
	if err := updateCredentials(s.dirs.credentials(), c.Server, change); err != nil {
		s.log.WarnContext(ctx, "credentials not updated", "err", err)
	}
}

// withSession returns the RunE of a command that works on the drive: it
// opens the session (server, token, node cache) with the command's
// common flags, runs fn, and closes the session.
func (e *Env) withSession(o *common, fn func(ctx context.Context, s *session, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		s, err := e.open(ctx, o)
		if err != nil {
			return err
		}
		defer s.close()
		return fn(ctx, s, args)
	}
}

func (e *Env) newClient(_ context.Context, server string, ts oauth2.TokenSource, log *slog.Logger, d dirs, extra ...client.Option) (*client.Client, error) {
	opts := []client.Option{client.WithLogger(log), client.WithUserAgent("clouddrive-cli"),
		client.WithEndpointCache(&client.FileEndpointCache{Path: d.endpoints()})}
	if e.HTTPClient != nil {
		opts = append(opts, client.WithHTTPClient(e.HTTPClient))
	}
	if e.Retry != nil {
		opts = append(opts, client.WithRetry(*e.Retry))
	}
	if e.Now != nil {
		opts = append(opts, client.WithClock(e.Now))
	}
	opts = append(opts, extra...)
	return client.New(server, ts, opts...)
}

// close releases the cache.
func (s *session) close() {
	if s.cache != nil {
		s.cache.Close()
	}
}

// nodes returns the node cache of the logged-in account, opening it on
// first use. The file is the account's own (named by server and account),
// and a file that records another account is emptied before use, so a
// listing never shows another user's nodes.
func (s *session) nodes() (*cache.Cache, error) {
	s.cacheOnce.Do(func() {
		ctx := context.Background()
		if s.creds.Account == "" {
			s.cacheErr = errors.New("the account of the token is not known")
			return
		}
		db, err := cache.Open(ctx, s.dirs.nodeCache(s.creds.Server, s.creds.Account), s.env.Now)
		if err != nil {
			s.cacheErr = err
			return
		}
		if dropped, err := db.Claim(ctx, s.creds.Account); err != nil {
			db.Close()
			s.cacheErr = err
			return
		} else if dropped {
			s.log.WarnContext(ctx, "the node cache held another account's nodes: emptied it")
		}
		s.cache = db
	})
	return s.cache, s.cacheErr
}

// remember stores nodes learned from the API in the cache; a cache
// failure only costs speed, so it is logged, not returned.
func (s *session) remember(ctx context.Context, ns ...*acd.Node) {
	db, err := s.nodes()
	if err == nil {
		err = db.Put(ctx, ns...)
	}
	if err != nil {
		s.log.WarnContext(ctx, "node cache not updated", "err", err)
	}
}

// created records a node this session created: in the cache, and its
// createdBy as the token's property owner if that is not known yet.
func (s *session) created(ctx context.Context, n *acd.Node) {
	s.remember(ctx, n)
	s.ownerMu.Lock()
	defer s.ownerMu.Unlock()
	if s.creds.Owner != "" || n.CreatedBy == "" {
		return
	}
	s.setCreds(ctx, func(c *Credentials) { c.Owner = n.CreatedBy })
}

// forget drops nodes from the cache.
func (s *session) forget(ctx context.Context, ids ...string) {
	db, err := s.nodes()
	if err == nil {
		err = db.Delete(ctx, ids...)
	}
	if err != nil {
		s.log.WarnContext(ctx, "node cache not updated", "err", err)
	}
}

// rootNode returns the root folder, from the cache or the API.
func (s *session) rootNode(ctx context.Context) (*acd.Node, error) {
	s.rootMu.Lock()
	defer s.rootMu.Unlock()
	if s.root != nil {
		return s.root, nil
	}
	if db, err := s.nodes(); err == nil {
		if r, err := db.Root(ctx); err == nil {
			s.root = r
			return r, nil
		}
	}
	r, err := s.c.Root(ctx)
	if err != nil {
		return nil, err
	}
	s.remember(ctx, r)
	s.root = r
	return r, nil
}

// splitPath cleans a remote path into its names. Paths are absolute; a
// missing leading slash is allowed.
func splitPath(p string) []string {
	p = path.Clean("/" + strings.TrimSpace(p))
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// cleanPath returns the canonical absolute form of a remote path.
func cleanPath(p string) string { return path.Clean("/" + strings.TrimSpace(p)) }

// idPrefix marks a node id given in place of a path.
const idPrefix = "id:"

// resolved is a node found from a path, with the parent it was reached
// through (nil for the root and for nodes given by id).
type resolved struct {
	node   *acd.Node
	parent *acd.Node
	path   string
}

// child finds name in parent: in the cache first, then through the API.
// status is AVAILABLE or TRASH.
func (s *session) child(ctx context.Context, parent *acd.Node, name, status string) (*acd.Node, error) {
	if db, err := s.nodes(); err == nil {
		n, err := db.Child(ctx, parent.ID, name, status)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, cache.ErrNotFound) {
			s.log.WarnContext(ctx, "node cache unreadable", "err", err)
		}
	}
	var n *acd.Node
	var err error
	if status == client.StatusTrash {
		n, err = s.c.TrashedChildByName(ctx, parent.ID, name)
	} else {
		n, err = s.c.ChildByName(ctx, parent.ID, name)
	}
	if err != nil {
		return nil, err
	}
	s.remember(ctx, n)
	return n, nil
}

// resolve finds the AVAILABLE node at a remote path, or the node given as
// id:NODEID.
func (s *session) resolve(ctx context.Context, p string) (*resolved, error) {
	return s.resolveStatus(ctx, p, false)
}

// resolveTrashed finds a node in the trash by the path it had: its
// parents resolve as usual (or through trashed folders), the last name
// among TRASH children first.
func (s *session) resolveTrashed(ctx context.Context, p string) (*resolved, error) {
	return s.resolveStatus(ctx, p, true)
}

func (s *session) resolveStatus(ctx context.Context, p string, trashed bool) (*resolved, error) {
	if id, ok := strings.CutPrefix(strings.TrimSpace(p), idPrefix); ok {
		n, err := s.c.Node(ctx, id, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		s.remember(ctx, n)
		return &resolved{node: n, path: p}, nil
	}
	cur, err := s.rootNode(ctx)
	if err != nil {
		return nil, err
	}
	names := splitPath(p)
	r := &resolved{node: cur, path: cleanPath(p)}
	for i, name := range names {
		last := i == len(names)-1
		order := []string{client.StatusAvailable, client.StatusTrash}
		if last && trashed {
			order = []string{client.StatusTrash, client.StatusAvailable}
		} else if last || !trashed {
			order = order[:1]
		}
		var next *acd.Node
		for _, st := range order {
			next, err = s.child(ctx, cur, name, st)
			if err == nil || !errors.Is(err, client.ErrNotFound) {
				break
			}
		}
		if errors.Is(err, client.ErrNotFound) {
			where := "/" + strings.Join(names[:i+1], "/")
			if trashed && last {
				return nil, fmt.Errorf("%s: %w (not in the trash or in %s)", where, errNoSuchPath, "/"+strings.Join(names[:i], "/"))
			}
			return nil, fmt.Errorf("%s: %w", where, errNoSuchPath)
		}
		if err != nil {
			return nil, err
		}
		if !last && next.Kind != client.KindFolder {
			return nil, fmt.Errorf("%s: %w (not a folder)", "/"+strings.Join(names[:i+1], "/"), errNoSuchPath)
		}
		r.parent, cur = cur, next
	}
	r.node = cur
	return r, nil
}

// pathOf returns a path of a node through its first parents, from the
// cache; "" if a parent is unknown.
func (s *session) pathOf(ctx context.Context, n *acd.Node) string {
	db, err := s.nodes()
	if err != nil {
		return ""
	}
	var names []string
	seen := map[string]bool{}
	for cur := n; !cur.IsRoot; {
		if seen[cur.ID] || len(cur.Parents) == 0 {
			return ""
		}
		seen[cur.ID] = true
		names = append(names, cur.Name)
		p, err := db.Node(ctx, cur.Parents[0])
		if err != nil {
			pn, aerr := s.c.Node(ctx, cur.Parents[0], nil)
			if aerr != nil {
				return ""
			}
			s.remember(ctx, pn)
			p = pn
		}
		cur = p
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return "/" + strings.Join(names, "/")
}

// ensureSynced syncs the cache if it never was, so listings have data.
func (s *session) ensureSynced(ctx context.Context) error {
	db, err := s.nodes()
	if err != nil {
		return err
	}
	cp, err := db.Checkpoint(ctx)
	if err != nil {
		return err
	}
	if cp != "" {
		return nil
	}
	s.opts.infof(s.env, "the node cache is empty: syncing it first")
	_, err = s.sync(ctx, false)
	return err
}
