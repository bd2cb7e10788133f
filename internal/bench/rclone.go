package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Rclone is the second reference server: `rclone serve webdav` of a local
// directory (rclone's VFS without a cache, so a PUT streams into the
// file), on a loopback port. It is a Go server like clouddrive, so its
// figures show what a Go HTTP file server gets out of this machine; like
// nginx it neither hashes nor fsyncs what it stores.
type Rclone struct {
	Dir string // the served directory
	URL string
	cmd *exec.Cmd
	out *tailBuffer
}

// StartRclone starts bin serving dir/www over WebDAV and waits until it
// answers.
func StartRclone(ctx context.Context, bin, dir string) (*Rclone, error) {
	www := filepath.Join(dir, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	r := &Rclone{Dir: www, URL: "http://" + addr, out: &tailBuffer{max: 4 << 10}}
	// A config file of its own (absent: defaults), so no user's remotes or
	// settings apply.
	r.cmd = exec.Command(bin, "serve", "webdav", www, "--addr", addr,
		"--config", filepath.Join(dir, "rclone.conf"), "--log-level", "ERROR")
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start rclone: %w", err)
	}
	if err := waitListening(ctx, addr, 10*time.Second); err != nil {
		r.Stop()
		return nil, fmt.Errorf("bench: rclone did not come up: %s", r.out.String())
	}
	return r, nil
}

// Stop ends rclone.
func (r *Rclone) Stop() {
	stopProcess(r.cmd)
	r.cmd = nil
}

// RcloneVersion returns the version line of bin ("rclone v1.65.2").
func RcloneVersion(bin string) string {
	out, _ := exec.Command(bin, "version").Output()
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// errNoRclone means no rclone binary was found; the benchmark runs
// without that reference.
var errNoRclone = errors.New("rclone not found")

// FindRclone returns the rclone binary: path if set, else the one
// scripts/rclone-compat.sh builds ($CLOUDDRIVE_CI_BIN/rclone, by default
// ~/.cache/clouddrive-ci/bin/rclone), else rclone on PATH. Without one it
// returns an error wrapping errNoRclone.
func FindRclone(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%w: %v", errNoRclone, err)
		}
		return path, nil
	}
	dir := os.Getenv("CLOUDDRIVE_CI_BIN")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".cache", "clouddrive-ci", "bin")
		}
	}
	if dir != "" {
		if p := filepath.Join(dir, "rclone"); isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("rclone"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w (scripts/rclone-compat.sh builds v1.65.2 into ~/.cache/clouddrive-ci/bin; or pass --rclone)", errNoRclone)
}

// IsNoRclone reports whether err says that no rclone binary was found.
func IsNoRclone(err error) bool { return errors.Is(err, errNoRclone) }

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// rclonePut PUTs content to rclone as name (at the top of its directory:
// WebDAV needs MKCOL for a new folder).
func (r *runner) rclonePut(ctx context.Context, content io.Reader, size int64, name string) error {
	st, raw, err := r.call(ctx, r.rc.URL, "", "PUT", "/"+name, content, size, "")
	if err != nil {
		return err
	}
	if st != 201 && st != 204 {
		return fmt.Errorf("rclone PUT %s: %d %s", name, st, raw)
	}
	return nil
}

// rcloneTransfer measures the transfer rows against rclone: the upload as
// a PUT of the same file, the downloads as GETs of it. It returns copies
// of up, dn and rg with rclone as the reference.
func (r *runner) rcloneTransfer(ctx context.Context, size int64, up, dn, rg Row, ranged func(url, token string) error) ([]Row, error) {
	put := func() error {
		f, err := os.Open(r.big)
		if err != nil {
			return err
		}
		defer f.Close()
		return r.rclonePut(ctx, struct{ io.Reader }{f}, size, "big.bin")
	}
	d, err := median(r.cfg.Reps, put)
	if err != nil {
		return nil, err
	}
	up.Ref, up.RefName = mibps(size, d), "rclone PUT"
	url := r.rc.URL + "/big.bin"
	if d, err = median(r.cfg.Reps, func() error { _, err := r.download(ctx, url, "", 0, 0); return err }); err != nil {
		return nil, err
	}
	dn.Ref, dn.RefName = mibps(size, d), "rclone GET"
	if d, err = median(r.cfg.Reps, func() error { return ranged(url, "") }); err != nil {
		return nil, err
	}
	rg.Ref, rg.RefName = mibps(size, d), "rclone GET"
	_ = os.Remove(filepath.Join(r.rc.Dir, "big.bin"))
	return []Row{up, dn, rg}, nil
}
