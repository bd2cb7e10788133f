package httpapi

import (
	"archive/zip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// archive is GET {content}/nodes/{id}/archive, a clouddrive extension (ACD
// had no such call): a zip stream of a folder's AVAILABLE subtree, or of
// one file. The web UI uses it for "download folder".
//
// The zip is written while the tree is walked, one listing page and one
// file at a time, so nothing is buffered whole. Entry names are the paths
// below the folder, each name made safe for Windows extractors first
// (zipEntryName: no '\', ':', reserved characters or device names); an
// entry whose name collides with an earlier one
// (compared case-insensitively, as on case-insensitive disks) gets " (2)",
// " (3)", ... before its extension. A folder reached again through a
// cycle of parents is skipped. Empty folders are written as directory
// entries. Media and archives are stored, everything else deflated.
//
// Errors found before the first byte are ordinary error replies (404 for
// an unknown node, 400 for a node that is neither file nor folder). A
// failure later cannot change the status any more: the connection is cut
// so the client sees a broken download, never a short but valid zip.
func (s *Server) archive(w http.ResponseWriter, r *http.Request) {
	const op = "httpapi.archive"
	ctx := r.Context()
	n, err := s.Nodes.Node(ctx, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if n.Status != drive.StatusAvailable {
		s.writeError(w, r, drive.E(op, drive.NotFound, "node is not available"))
		return
	}
	name := n.Name
	if n.IsRoot || name == "" {
		name = "root"
	}
	switch n.Kind {
	case drive.KindFolder, drive.KindFile:
	default:
		s.writeError(w, r, &drive.Error{Op: op, Kind: drive.Invalid, Param: "id", Message: "only files and folders can be archived"})
		return
	}
	h := w.Header()
	sandboxUserBytes(h)
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", disposition("attachment", name+".zip"))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	a := &archiver{s: s, zw: zip.NewWriter(w), names: map[string]bool{}}
	if n.Kind == drive.KindFile {
		err = a.File(ctx, n)
	} else {
		err = s.Nodes.Walk(ctx, n, a)
	}
	if err == nil {
		err = a.zw.Close()
	}
	if err != nil {
		s.Logger.LogAttrs(ctx, slog.LevelWarn, "archive interrupted", slog.String("request_id", requestID(ctx)),
			slog.String("node_id", n.ID), slog.Any("err", err))
		panic(http.ErrAbortHandler)
	}
}

// archiver writes one zip stream.
type archiver struct {
	s     *Server
	zw    *zip.Writer
	names map[string]bool // folded entry names written so far
	dirs  []string        // the folders being written, innermost last
}

// unique returns p, or p with a " (k)" suffix before its extension, such
// that no earlier entry has the same case-folded name.
func (a *archiver) unique(p string, dir bool) string {
	ext := path.Ext(p)
	if dir || ext == p[strings.LastIndexByte(p, '/')+1:] {
		ext = ""
	}
	base := strings.TrimSuffix(p, ext)
	for k := 1; ; k++ {
		c := p
		if k > 1 {
			c = base + " (" + strconv.Itoa(k) + ")" + ext
		}
		key := drive.NameKey(c)
		if !a.names[key] {
			a.names[key] = true
			return c
		}
	}
}

// Folder starts the entries of folder f: its path below the archived
// folder, made unique, becomes the directory of what follows until Leave.
func (a *archiver) Folder(_ context.Context, f *drive.Node) error {
	a.dirs = append(a.dirs, a.unique(a.dir()+zipEntryName(f.Name), true)+"/")
	return nil
}

// Leave ends folder f, writing it as a directory entry when it was empty.
func (a *archiver) Leave(_ context.Context, f *drive.Node, empty bool) error {
	dir := a.dir()
	a.dirs = a.dirs[:len(a.dirs)-1]
	if !empty {
		return nil
	}
	_, err := a.zw.CreateHeader(&zip.FileHeader{Name: dir, Modified: f.ModifiedAt, Method: zip.Store})
	return err
}

// dir is the directory of the entries being written: "" or "a/b/".
func (a *archiver) dir() string {
	if len(a.dirs) == 0 {
		return ""
	}
	return a.dirs[len(a.dirs)-1]
}

// File writes one file entry in the current directory.
func (a *archiver) File(ctx context.Context, n *drive.Node) error {
	if n.Content == nil {
		return nil
	}
	dir := a.dir()
	hdr := &zip.FileHeader{Name: a.unique(dir+zipEntryName(n.Name), false), Modified: n.ModifiedAt, Method: zip.Deflate}
	if incompressible(n.Content.ContentType, n.Name) {
		hdr.Method = zip.Store
	}
	hdr.UncompressedSize64 = uint64(n.Content.Size)
	ew, err := a.zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	_, rc, err := a.s.Nodes.Open(ctx, n.ID, 0, -1)
	if err != nil {
		return err
	}
	defer rc.Close()
	written, err := io.Copy(ew, rc)
	if err != nil {
		return err
	}
	if a.s.Metrics != nil {
		a.s.Metrics.Downloaded(written)
	}
	if written != n.Content.Size {
		return drive.Errorf("httpapi.archive", drive.Internal, "content of %s is %d bytes, want %d", n.ID, written, n.Content.Size)
	}
	return nil
}

// incompressible reports whether content is already compressed, so
// deflating it would only cost CPU.
func incompressible(contentType, name string) bool {
	ct := strings.ToLower(contentType)
	if strings.HasPrefix(ct, "image/") && ct != "image/svg+xml" && ct != "image/bmp" ||
		strings.HasPrefix(ct, "video/") || strings.HasPrefix(ct, "audio/") {
		return true
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".jpg", ".jpeg", ".png", ".gif", ".webp",
		".mp4", ".mkv", ".mov", ".mp3", ".ogg", ".flac", ".heic", ".avif", ".docx", ".xlsx", ".pptx", ".odt", ".pdf":
		return true
	}
	return false
}
