package cli

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/cases"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/bytesize"
)

// transferOpts are the flags shared by upload and download.
type transferOpts struct {
	common
	jobs      int
	overwrite bool
	checksum  bool
	excludes  []string
	progress  bool
}

func (o *transferOpts) register(c *cobra.Command) {
	o.common.register(c)
	c.Flags().IntVarP(&o.jobs, "jobs", "j", 4, "transfer N files in parallel")
	c.Flags().BoolVar(&o.overwrite, "overwrite", false, "replace destination files whose content differs")
	c.Flags().BoolVarP(&o.checksum, "checksum", "c", false, "compare the MD5 of files whose size and modification time match too (the strict check)")
	c.Flags().StringArrayVar(&o.excludes, "exclude", nil, "skip files and folders matching GLOB (name or relative path; repeatable)")
	c.Flags().BoolVarP(&o.progress, "progress", "P", false, "show progress bars: bytes, rate and ETA per file and in total")
}

func (o *transferOpts) check() error {
	if o.jobs < 1 {
		return usageErrorf("-j must be at least 1")
	}
	for _, g := range o.excludes {
		if _, err := path.Match(g, ""); err != nil {
			return usageErrorf("--exclude %q: %v", g, err)
		}
	}
	return nil
}

// excluded reports whether a node called name at relative path rel (slash
// separated, from the transferred folder's name) matches an --exclude.
func (o *transferOpts) excluded(name, rel string) bool {
	for _, g := range o.excludes {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
		if ok, _ := path.Match(g, rel); ok {
			return true
		}
	}
	return false
}

// job is one file to transfer.
type job struct {
	name string // shown in progress and errors
	size int64
	// run transfers the file, reporting progress to t; skipped means it
	// was already there.
	run func(ctx context.Context, t tracker) (skipped bool, err error)
}

// batch is the outcome of a set of jobs.
type batch struct {
	done, skipped, failed, stopped int
	bytes                          int64
	errs                           []error
}

// runJobs runs jobs on n workers. On cancellation no new job starts.
// transfer runs the planned jobs with a progress meter, counts the
// planning failures with the job failures, prints the summary and returns
// every failure joined.
func transfer(ctx context.Context, env *Env, s *session, o *transferOpts, verb string, start time.Time, jobs []job, planErrs []error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var total int64
	for _, j := range jobs {
		total += j.size
	}
	m := newMeter(env, o.progress, o.quiet, total)
	b := runJobs(ctx, jobs, o.jobs, m, func(f string, a ...any) { s.log.Debug(fmt.Sprintf(f, a...)) })
	m.close()
	b.errs = append(planErrs, b.errs...)
	b.failed += len(planErrs)
	summary(&o.common, env, verb, b, env.now().Sub(start))
	return errors.Join(b.errs...)
}

func runJobs(ctx context.Context, jobs []job, n int, m meter, log func(string, ...any)) batch {
	var mu sync.Mutex
	var b batch
	ch := make(chan job)
	var wg sync.WaitGroup
	for range min(n, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				t := m.start(j.name, j.size)
				skipped, err := j.run(ctx, t)
				if skipped {
					t.skip()
				} else {
					t.finish(err)
				}
				mu.Lock()
				switch {
				case err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled):
					b.stopped++ // reported once, below
				case err != nil:
					b.failed++
					b.errs = append(b.errs, err)
				case skipped:
					b.skipped++
					log("skipped %s: unchanged", j.name)
				default:
					b.done++
					b.bytes += j.size
					log("done %s", j.name)
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		select {
		case ch <- j:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		b.errs = append(b.errs, fmt.Errorf("interrupted: %w", err))
	}
	return b
}

// fileMD5 hashes a local file.
func fileMD5(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// remoteDir is a destination folder and its existing children, listed
// once from the API when first needed.
type remoteDir struct {
	node  *acd.Node
	fresh bool // created by this run: no children
	once  sync.Once
	kids  map[string]*acd.Node
	err   error
}

func (d *remoteDir) child(ctx context.Context, s *session, name string) (*acd.Node, error) {
	d.once.Do(func() {
		d.kids = map[string]*acd.Node{}
		if d.fresh {
			return
		}
		ns, err := client.Collect(s.c.Children(ctx, d.node.ID, nil))
		if err != nil {
			d.err = err
			return
		}
		s.remember(ctx, ns...)
		for _, n := range ns {
			d.kids[cases.Fold().String(n.Name)] = n
		}
	})
	if d.err != nil {
		return nil, d.err
	}
	return d.kids[cases.Fold().String(name)], nil
}

func summary(o *common, env *Env, verb string, b batch, took time.Duration) {
	stopped := ""
	if b.stopped > 0 {
		stopped = fmt.Sprintf("; %d interrupted", b.stopped)
	}
	o.infof(env, "%s %s (%s) in %s, %s; skipped %d unchanged; %d failed%s",
		verb, plural(b.done, "file"), bytesize.Format(b.bytes), took.Round(time.Millisecond), rate(b.bytes, took), b.skipped, b.failed, stopped)
}

func newUpload(env *Env) *cobra.Command {
	var o transferOpts
	var ro resumeFlags
	cmd := &cobra.Command{
		Use:   "upload SRC... DEST",
		Short: "Upload local files and folders (recursive, parallel, resumable)",
		Long: `Upload each local SRC into the remote folder DEST (created with its parents
if missing). A folder SRC is uploaded recursively as DEST/<its name>.

A single file may also be uploaded under another name, as cp does: when
DEST is an existing file, or does not exist and its last name looks like a
file's (it has an extension, as in /x/b.txt, or is SRC's own name), the
file is uploaded as that name into DEST's folder (created if missing).
DEST ending in "/", or an existing folder, is always a folder. A single
file to a new DEST without an extension (/Backup) could mean either: it is
refused (exit code 2) with the two ways to say which.

Each file is sent with its modification time. A file whose remote copy
has the same size and modification time (to the millisecond) is skipped
without being read, so running the same upload again after an
interruption or a failure carries on where it stopped; when the times
differ or the server has none, the MD5 decides, and a file with the same
content is skipped too (its remote time is set to the local one).
--checksum compares the MD5 always. A remote file with other content is a
conflict (exit code 4) unless --overwrite replaces it. --exclude GLOB
skips files and folders by name or by path relative to SRC's parent
(e.g. '*.tmp', 'src/.git').

-j N transfers N files at a time. -P shows progress bars on stderr (bytes,
rate and ETA per file and in total) when stderr is a terminal, or one
line per file when it is not; -q prints nothing but errors.

Failed requests are retried with back-off; an upload that fails after its
bytes were sent is looked up before it is sent again, so it never
duplicates a file.

Files of 64 MiB or more (--resumable-min) are sent as resumable uploads
when the server offers them, in requests of --chunk-size bytes: a failure
mid-file carries on from the server's copy instead of the start, and an
upload that was interrupted (Ctrl-C, a kill, a crash, a network down for
longer than the retries) resumes when the same unchanged file is uploaded
to the same place again. Until it completes, its URL is kept in a small
file in the cache directory (uploads-*/); the server forgets unfinished
uploads after a day by default.

` + pathHelp,
		Example: `  clouddrive upload ~/Pictures/2024 /Photos
  clouddrive upload -P -j 8 --exclude '*.tmp' report.pdf data/ /Work
  clouddrive upload report.pdf /Work/2024-report.pdf   # renamed on the way
  clouddrive upload notes /Backup/                     # into a new folder /Backup`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := o.check(); err != nil {
				return err
			}
			if err := ro.apply(&o.common); err != nil {
				return err
			}
			s, err := env.open(ctx, &o.common)
			if err != nil {
				return err
			}
			defer s.close()
			s.prunePending()
			start := env.now()
			srcs, dst := args[:len(args)-1], args[len(args)-1]
			dest, destPath, asName, err := s.uploadDest(ctx, srcs, dst)
			if err != nil {
				return err
			}
			jobs, planErrs := planUpload(ctx, s, &o, srcs, &remoteDir{node: dest}, destPath, asName)
			return transfer(ctx, env, s, &o, "uploaded", start, jobs, planErrs)
		},
	}
	o.register(cmd)
	ro.register(cmd)
	return cmd
}

// uploadDest decides what the DEST of an upload names: the folder the
// sources go into, created if missing, and for a single file the name it
// gets there ("" keeps each source's own name).
func (s *session) uploadDest(ctx context.Context, srcs []string, dst string) (dir *acd.Node, dirPath, asName string, err error) {
	single := false
	if len(srcs) == 1 {
		st, err := os.Stat(srcs[0])
		single = err == nil && st.Mode().IsRegular()
	}
	asFolder := strings.HasSuffix(strings.TrimSpace(dst), "/")
	r, err := s.resolve(ctx, dst)
	switch {
	case err == nil && r.node.Kind == client.KindFolder:
		return r.node, r.path, "", nil
	case err == nil && (!single || asFolder):
		return nil, "", "", withHint(fmt.Errorf("%s: %w (a file, not a folder)", r.path, errExists),
			"several files or a folder go into a folder: give a folder as DEST")
	case err == nil:
		// One file onto an existing file: that file is the target
		// (skipped if equal, else replaced with --overwrite).
		from, err := fromParent(r)
		if err != nil {
			return nil, "", "", err
		}
		parent, err := s.c.Node(ctx, from, nil)
		if err != nil {
			return nil, "", "", err
		}
		return parent, path.Dir(r.path), r.node.Name, nil
	case !errors.Is(err, errNoSuchPath):
		return nil, "", "", err
	}
	// DEST does not exist.
	p := cleanPath(dst)
	if !single || asFolder || p == "/" {
		n, err := s.mkdirAll(ctx, p, nil)
		return n, p, "", err
	}
	parentPath, name := path.Split(p)
	if !fileLike(name, filepath.Base(srcs[0])) {
		base := filepath.Base(srcs[0])
		return nil, "", "", withHint(usageErrorf("%s does not exist: upload %s as the file %s, or into a new folder %s/?", p, base, p, p),
			fmt.Sprintf("end DEST with / for a folder (clouddrive upload %s %s/), or give the file's name (clouddrive upload %s %s)",
				base, p, base, path.Join(p, base)))
	}
	parentPath = cleanPath(parentPath)
	n, err := s.mkdirAll(ctx, parentPath, nil)
	return n, parentPath, name, err
}

// fileLike reports whether a new remote name for the local file src looks
// like a file's name rather than a folder's: it has an extension (b.txt,
// not .hidden or Backup), or it is src's own name.
func fileLike(name, src string) bool {
	if ext := path.Ext(name); ext != "" && ext != name && len(ext) > 1 {
		return true
	}
	return cases.Fold().String(name) == cases.Fold().String(src)
}

// planUpload creates the remote folders and lists the files to upload;
// asName, if set, is the remote name of the (single, file) source.
func planUpload(ctx context.Context, s *session, o *transferOpts, srcs []string, dest *remoteDir, destPath, asName string) ([]job, []error) {
	var jobs []job
	var errs []error
	for _, src := range srcs {
		if ctx.Err() != nil {
			break
		}
		st, err := os.Stat(src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		base := filepath.Base(filepath.Clean(src))
		if o.excluded(base, base) {
			continue
		}
		if !st.IsDir() {
			if !st.Mode().IsRegular() {
				errs = append(errs, fmt.Errorf("%s: not a regular file", src))
				continue
			}
			name := base
			if asName != "" {
				name = asName
			}
			jobs = append(jobs, uploadJob(s, o, src, name, st.Size(), dest, path.Join(destPath, name)))
			continue
		}
		dirs := map[string]*remoteDir{}
		err = filepath.WalkDir(src, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, err)
				if de != nil && de.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rel, _ := filepath.Rel(src, p)
			relSlash := path.Join(base, filepath.ToSlash(rel))
			if rel != "." && o.excluded(de.Name(), relSlash) {
				if de.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			parent := dest
			if rel != "." {
				parent = dirs[filepath.Dir(p)]
			}
			if parent == nil {
				return nil // inside a folder that could not be created
			}
			info, err := os.Stat(p) // follows symlinks
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			switch {
			case info.IsDir():
				if de.Type()&fs.ModeSymlink != 0 {
					s.log.Warn("skipping symlinked folder", "path", p)
					return nil
				}
				rd, err := ensureFolder(ctx, s, parent, filepath.Base(p))
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", path.Join(destPath, relSlash), err))
					return fs.SkipDir
				}
				dirs[p] = rd
			case info.Mode().IsRegular():
				jobs = append(jobs, uploadJob(s, o, p, filepath.Base(p), info.Size(), parent, path.Join(destPath, relSlash)))
			default:
				s.log.Warn("skipping special file", "path", p)
			}
			return nil
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	return jobs, errs
}

// ensureFolder returns the folder name in parent, creating it if missing.
func ensureFolder(ctx context.Context, s *session, parent *remoteDir, name string) (*remoteDir, error) {
	n, err := parent.child(ctx, s, name)
	if err != nil {
		return nil, err
	}
	if n != nil {
		if n.Kind != client.KindFolder {
			return nil, fmt.Errorf("%w: a file is in the way", errExists)
		}
		return &remoteDir{node: n}, nil
	}
	n, err = s.c.CreateFolder(ctx, parent.node.ID, name, &client.FolderOptions{OnConflict: client.ConflictReturnExisting})
	if err != nil {
		return nil, err
	}
	s.created(ctx, n)
	return &remoteDir{node: n, fresh: true}, nil
}

// uploadJob uploads the file local as name into dir (remote is its path,
// for messages).
func uploadJob(s *session, o *transferOpts, local, name string, localSize int64, dir *remoteDir, remote string) job {
	return job{name: remote, size: localSize, run: func(ctx context.Context, t tracker) (bool, error) {
		fail := func(err error) (bool, error) { return false, fmt.Errorf("%s: %w", remote, err) }
		existing, err := dir.child(ctx, s, name)
		if err != nil {
			return fail(err)
		}
		lst, err := os.Stat(local)
		if err != nil {
			return false, err
		}
		uo := &client.UploadOptions{Size: localSize, ModTime: lst.ModTime(), Progress: func(sent, _ int64) { t.set(sent) }}
		finish := s.resumeOptions(local, localSize, lst.ModTime(), dir.node.ID, name, uo)
		var n *acd.Node
		if existing != nil {
			if existing.Kind != client.KindFile {
				return fail(fmt.Errorf("%w: a folder is in the way", errExists))
			}
			if skip, err := s.uploadQuickCheck(ctx, o, local, lst, existing); err != nil || skip {
				return skip, err
			}
			if !o.overwrite {
				return fail(withHint(fmt.Errorf("%w with other content", errExists), "pass --overwrite to replace it"))
			}
			f, err := os.Open(local)
			if err != nil {
				return false, err
			}
			n, err = s.c.Overwrite(ctx, existing.ID, f, uo)
			f.Close()
			finish(ctx, err)
			if err != nil {
				return fail(err)
			}
		} else {
			if o.overwrite {
				uo.OnConflict = client.ConflictOverwrite
			}
			n, err = s.c.UploadFile(ctx, dir.node.ID, name, local, uo)
			finish(ctx, err)
			if err != nil {
				return fail(err)
			}
		}
		s.created(ctx, n)
		return false, nil
	}}
}

// safeName rejects remote names that cannot be local file names.
func safeName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || (filepath.Separator != '/' && strings.ContainsRune(name, filepath.Separator)) {
		return fmt.Errorf("remote name %q cannot be a local file name", name)
	}
	return nil
}

func newDownload(env *Env) *cobra.Command {
	var o transferOpts
	cmd := &cobra.Command{
		Use:   "download SRC... DEST",
		Short: "Download files and folders (recursive, parallel, resumable)",
		Long: `Download each remote SRC into the local directory DEST (created if missing).
A folder SRC is downloaded recursively as DEST/<its name>.

Each file is fetched in ranged chunks into NAME.__incomplete, then checked
against the server's MD5 and renamed, with the modification time the file
was uploaded with (else the server's modifiedDate); folders get their
modifiedDate once their files are written. An interrupted
download keeps the partial file, and the next download of it continues
from where it stopped. A local file with the same size and modification
time (to the millisecond) is skipped without being read; when the times
differ or the server has none, the MD5 decides, and a file with the same
content is skipped too (its local time is set to the server's).
--checksum compares the MD5 always. A local file with other content is a
conflict (exit code 4) unless --overwrite replaces it. --exclude GLOB
skips files and folders by name or by path relative to SRC's parent.

-j N transfers N files at a time. -P shows progress bars on stderr (bytes,
rate and ETA per file and in total) when stderr is a terminal, or one line
per file when it is not; -q prints nothing but errors.

` + pathHelp,
		Example: `  clouddrive download /Photos/2024 ~/Pictures
  clouddrive download -P -j 8 /big.iso /tmp`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := o.check(); err != nil {
				return err
			}
			srcs, dst := args[:len(args)-1], args[len(args)-1]
			if st, err := os.Stat(dst); err == nil && !st.IsDir() {
				return fmt.Errorf("%s: %w (a file; DEST must be a directory)", dst, errExists)
			}
			s, err := env.open(ctx, &o.common)
			if err != nil {
				return err
			}
			defer s.close()
			start := env.now()
			if err := os.MkdirAll(dst, 0o777); err != nil {
				return err
			}
			jobs, dirs, planErrs := planDownload(ctx, s, &o, srcs, dst)
			err = transfer(ctx, env, s, &o, "downloaded", start, jobs, planErrs)
			restoreDirTimes(s, dirs) // after their contents, which change them
			return err
		},
	}
	o.register(cmd)
	return cmd
}

// planDownload creates the local folders and lists the files to download
// and the folders whose times to set when they are done.
func planDownload(ctx context.Context, s *session, o *transferOpts, srcs []string, dst string) ([]job, []dirTime, []error) {
	var jobs []job
	var dirs []dirTime
	var errs []error
	seen := map[string]bool{}
	var walkDir func(n *acd.Node, local, rel, remote string)
	walkDir = func(n *acd.Node, local, rel, remote string) {
		if seen[n.ID] || ctx.Err() != nil {
			return
		}
		seen[n.ID] = true
		if err := os.MkdirAll(local, 0o777); err != nil {
			errs = append(errs, err)
			return
		}
		if d, ok := folderTime(local, n); ok {
			dirs = append(dirs, d)
		}
		kids, err := client.Collect(s.c.Children(ctx, n.ID, &client.ListOptions{Sort: `["name ASC"]`}))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", remote, err))
			return
		}
		s.remember(ctx, kids...)
		for _, k := range kids {
			krel, kremote := path.Join(rel, k.Name), path.Join(remote, k.Name)
			if o.excluded(k.Name, krel) {
				continue
			}
			if err := safeName(k.Name); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", kremote, err))
				continue
			}
			klocal := filepath.Join(local, k.Name)
			switch k.Kind {
			case client.KindFolder:
				walkDir(k, klocal, krel, kremote)
			case client.KindFile:
				jobs = append(jobs, downloadJob(s, o, k, klocal, kremote))
			}
		}
	}
	for _, src := range srcs {
		r, err := s.resolve(ctx, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		name := r.node.Name
		if r.node.IsRoot {
			name = "."
		} else if err := safeName(name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.path, err))
			continue
		}
		if o.excluded(name, name) {
			continue
		}
		local := filepath.Join(dst, name)
		if r.node.Kind == client.KindFolder {
			walkDir(r.node, local, name, r.path)
		} else {
			jobs = append(jobs, downloadJob(s, o, r.node, local, r.path))
		}
	}
	return jobs, dirs, errs
}

func downloadJob(s *session, o *transferOpts, n *acd.Node, local, remote string) job {
	return job{name: remote, size: size(n), run: func(ctx context.Context, t tracker) (bool, error) {
		fail := func(err error) (bool, error) { return false, fmt.Errorf("%s: %w", remote, err) }
		if st, err := os.Stat(local); err == nil {
			if st.IsDir() {
				return fail(fmt.Errorf("%s: %w: a directory is in the way", local, errExists))
			}
			if skip, err := o.downloadQuickCheck(local, st, n); err != nil || skip {
				return skip, err
			}
			if !o.overwrite {
				return fail(withHint(fmt.Errorf("%s: %w with other content", local, errExists), "pass --overwrite to replace it"))
			}
		}
		err := s.c.DownloadFile(ctx, n, local, &client.DownloadOptions{Progress: func(done, _ int64) { t.set(done) }})
		if err != nil {
			return fail(err)
		}
		return false, nil
	}}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
