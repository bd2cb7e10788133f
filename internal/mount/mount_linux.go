//go:build linux

package mount

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/clouddrive/clouddrive/client"
)

// This file holds a mount's life: Start (the tree loaded, the file system
// mounted, the feed followed), Unmount, Mount, and the checks and advice
// for a system that cannot mount.

// Mounted is a mounted drive. Unmount it when done.
type Mounted struct {
	// Dir is the mount point.
	Dir string

	srv    *fuse.Server
	m      *mountFS
	cancel context.CancelFunc
	gone   chan struct{} // closed when the file system is unmounted
	polled sync.WaitGroup
	once   sync.Once
	err    error
}

// Start mounts the drive of c on dir and returns once the mount serves
// requests. It loads the whole tree through the changes feed first, then
// follows the feed in the background (see Options.Poll). ctx bounds the
// initial load only; the mount lives until Unmount, or until it is
// unmounted from outside (fusermount3 -u).
func Start(ctx context.Context, c *client.Client, dir string, o Options) (*Mounted, error) {
	o = o.withDefaults()
	if o.CacheDir == "" {
		return nil, errors.New("mount: no cache directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("mount point: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("mount point %s is not a directory", abs)
	}
	if err := CheckFUSE(); err != nil {
		return nil, err
	}
	cache, err := openChunkCache(filepath.Join(o.CacheDir, "chunks"), o.CacheSize)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(spoolDirOf(o.CacheDir), 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	m := &mountFS{c: c, o: o, log: o.Logger, tree: newTree(), cache: cache, spoolDir: spoolDirOf(o.CacheDir),
		uid: uint32(os.Getuid()), gid: uint32(os.Getgid()), bg: bg, prefetch: make(chan struct{}, 4),
		inos: map[string]uint64{}, nextIno: 1, live: map[string]map[*fs.Inode]bool{}, spools: map[string]*spool{}}

	cp, err := m.load(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("mount: loading the tree: %w", err)
	}
	root := m.tree.root()
	if root == "" {
		cancel()
		return nil, errors.New("mount: the changes feed sent no root folder")
	}

	second := time.Second
	opts := &fs.Options{
		EntryTimeout: &second,
		AttrTimeout:  &second,
		UID:          m.uid,
		GID:          m.gid,
		MountOptions: fuse.MountOptions{
			AllowOther:   o.AllowOther,
			FsName:       "clouddrive",
			Name:         "clouddrive",
			MaxReadAhead: 1 << 20,
			MaxWrite:     1 << 20,
			DirectMount:  os.Geteuid() == 0, // mount(2) as root, fusermount3 otherwise
			Options:      []string{"default_permissions"},
			Debug:        o.Debug,
			Logger:       log.New(&slogWriter{o.Logger}, "", 0),
		},
	}
	if o.ReadOnly {
		opts.MountOptions.Options = append(opts.MountOptions.Options, "ro")
	}
	srv, err := fs.Mount(abs, &node{m: m, id: root}, opts)
	if err != nil {
		cancel()
		return nil, mountError(err)
	}
	mt := &Mounted{Dir: abs, srv: srv, m: m, cancel: cancel, gone: make(chan struct{})}
	go func() {
		srv.Wait()
		close(mt.gone)
	}()
	if o.Poll > 0 {
		mt.polled.Add(1)
		go func() {
			defer mt.polled.Done()
			m.follow(bg, cp)
		}()
	}
	return mt, nil
}

// Unmount stops following the feed, uploads nothing more (files still
// open lose unflushed writes) and unmounts. A busy mount point (a shell
// inside it, an open file) is detached lazily when root, which the
// kernel completes once it is no longer busy.
func (mt *Mounted) Unmount() error {
	mt.once.Do(func() {
		mt.cancel()
		mt.polled.Wait()
		select {
		case <-mt.gone:
			mt.m.discardPending()
			return // unmounted from outside
		default:
		}
		err := mt.srv.Unmount()
		if err != nil {
			// Unmounted from outside at the same moment (fusermount3 -u
			// then Ctrl-C): fusermount3 finds nothing mounted, and the
			// server's loop is about to end on its own.
			select {
			case <-mt.gone:
				err = nil
			case <-time.After(2 * time.Second):
			}
		}
		if err != nil && os.Geteuid() == 0 {
			if derr := syscall.Unmount(mt.Dir, syscall.MNT_DETACH); derr == nil {
				err = nil
				<-mt.gone
			}
		}
		if err != nil {
			mt.err = fmt.Errorf("unmount %s: %w (close what uses it, then run fusermount3 -u %s)", mt.Dir, err, mt.Dir)
			return
		}
		mt.m.discardPending()
	})
	return mt.err
}

// Mount mounts the drive on dir, calls ready (if not nil) once it
// serves, and blocks until ctx ends (then unmounts) or the mount is
// unmounted from outside.
func Mount(ctx context.Context, c *client.Client, dir string, o Options, ready func()) error {
	mt, err := Start(ctx, c, dir, o)
	if err != nil {
		return err
	}
	if ready != nil {
		ready()
	}
	select {
	case <-ctx.Done():
	case <-mt.gone:
	}
	return mt.Unmount()
}

// CheckFUSE reports, as an error that says what to do, why a FUSE mount
// cannot work here: no /dev/fuse, no permission to open it, or (for a
// non-root user) no fusermount3.
func CheckFUSE() error {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("cannot open /dev/fuse: no such device — the kernel has no FUSE (modprobe fuse; in a container, pass --device /dev/fuse)")
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("cannot open /dev/fuse: permission denied — mounting needs root or a fuse group; install fuse3")
	case err != nil:
		return fmt.Errorf("cannot open /dev/fuse: %w", err)
	}
	f.Close()
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("fusermount3"); err != nil {
			if _, err2 := exec.LookPath("fusermount"); err2 != nil {
				return fmt.Errorf("fusermount3 not found — install fuse3 (apt-get install fuse3)")
			}
		}
	}
	return nil
}

// mountError adds advice to a failed mount.
func mountError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "permission denied") || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES):
		return fmt.Errorf("mount: %w — mounting needs root or a fuse group (and user_allow_other in /etc/fuse.conf for --allow-other); install fuse3", err)
	case strings.Contains(msg, "executable file not found"):
		return fmt.Errorf("mount: %w — install fuse3 (fusermount3)", err)
	}
	return fmt.Errorf("mount: %w", err)
}

// slogWriter passes go-fuse's log lines to a slog.Logger.
type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	w.l.Debug("fuse: " + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
