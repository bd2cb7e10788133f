// Package mount serves a clouddrive account as a local file system with
// FUSE (github.com/hanwen/go-fuse/v2; Linux only, other systems get
// ErrUnsupported). `clouddrive mount` (internal/cli) is its command.
//
// # Tree
//
// At start the whole tree is read from the changes feed into memory; a
// goroutine then long-polls the feed (POST changes with "wait", see
// client.ChangesOptions.Wait) and applies each change set, telling the
// kernel which directory entries (NotifyEntry) and which inodes'
// attributes and pages (NotifyContent) changed, so changes made elsewhere
// show within about a second. The mount's own changes update the tree
// from the API's replies at once; a node is never replaced by an older
// version of itself.
//
// Files are 0644, folders 0755 (0444/0555 read-only), owned by the
// mounting user; all three times are the node's modifiedDate. A file with
// several parents is one inode with one link per parent. A folder with
// several parents is a separate inode in each (Linux allows no hard links
// to directories).
//
// # Names
//
// Remote names map to local names with LocalName and back with
// RemoteName. Every name valid on Linux that holds none of the characters
// ∕ (U+2215), ␀ (U+2400) and ‛ (U+201B) is itself. Otherwise:
//
//	'/'                       ↔ '∕' (U+2215 DIVISION SLASH)
//	NUL                       ↔ '␀' (U+2400 SYMBOL FOR NULL)
//	the names "." and ".."    ↔ "．" and "．．" (U+FF0E FULLWIDTH FULL STOP)
//	a literal ∕, ␀ or ‛       ↔ the same preceded by '‛' (U+201B)
//	the names "．" and "．．" ↔ the same preceded by '‛'
//
// The mapping is injective, so no two remote names share a local name, and
// RemoteName(LocalName(r)) == r for every name r. A local name that
// LocalName never produces (a ‛ not followed by ∕, ␀ or ‛) cannot be
// created: EINVAL. clouddrive servers refuse '/', NUL, "." and ".." (and
// names over 1024 bytes or not UTF-8), and the mount refuses them too,
// so the only visible effects are the quoting of names holding ∕ ␀ ‛,
// and that a local ∕ (meaning '/') fails with EINVAL.
//
// # Reads
//
// A read fetches the 1 MiB chunks it covers with ranged downloads, through
// a cache of chunk files on disk (<cache dir>/chunks, bounded in bytes,
// least recently used evicted). Chunks are named by node id, content MD5
// and index, so a cached chunk is never stale. A reader that reads
// sequentially gets the next chunks downloaded ahead in the background.
//
// # Writes
//
// A file opened for writing gets a spool: an unnamed local file under
// <cache dir>/spool holding its bytes (downloaded on first use unless the
// file was truncated or is new), shared by every writer of the file.
// The close (flush) of a writer by the process that opened it, once
// something was written through it, and fsync upload the spool if it
// changed; an upload failure is the error of close(2). Closes that come
// before any write (a shell's `> file` closes a dup of the descriptor
// first) or from another process (a child that inherited the descriptor
// through fork) upload nothing; the release of the last writer uploads
// what no close did (a file created or truncated and never written), and
// only logs a failure.
//
// No partial file is ever visible on the server. A file created in the
// mount is pending: it has a local id and exists only in the mount (its
// spool, its entry in the tree, attributes from the spool) until its
// first upload creates it (POST) with its bytes, so other clients, the
// changes feed and webhooks see it once, complete. Until then it shows in
// the mount's listings and lookups; rename moves the entry locally and
// unlink just drops it. If the upload fails (EEXIST, ENOSPC, EIO, ...)
// close reports it and the file stays pending, so a later write and
// close retries and unlink removes it; a pending file left at unmount is
// lost (logged). A pending file takes its name over any server node of
// the same name that the feed brings meanwhile; once uploaded, its local
// id is an alias of the server id, so the feed's copy of the upload
// reconciles with it (the same inode, one entry). Create asks the server
// for the name first (the feed may lag): taken, it is EEXIST with O_EXCL
// or for a name that differs only in case, and otherwise opens the
// existing file, as open(2) does.
//
// An existing file is overwritten (PUT) at close. open(O_TRUNC) arrives
// as an open and a truncate without a handle (go-fuse does not negotiate
// atomic O_TRUNC); a truncate of a file open for writing (or pending)
// only truncates its spool, so `cp` or `>` onto a file uploads once.
// Truncating a file nobody writes uploads at once. rename is a PATCH of
// the name and/or a move between parents, and replaces an existing
// target as rename(2) does (a server target is trashed at the rename,
// even when the renamed file is pending). unlink and rmdir (of an empty
// folder) move the node to the trash, or purge it with PurgeOnDelete; a
// node with other parents only loses this parent. mkdir creates the
// folder at once. Names a clouddrive server refuses (see below) fail
// with EINVAL before any call. Modes, owners and times cannot be stored:
// chmod, chown and utimes succeed and change nothing. There are no
// symlinks, hard links or extended attributes.
//
// API errors map to errno with Errno: 409 EEXIST, quota ENOSPC, 404
// ENOENT, 401/403 EACCES, anything else EIO.
//
// # Code
//
// fs_linux.go holds the state a mount shares and its inodes;
// dir_linux.go and attr_linux.go the node operations (on folders; on
// attributes, and statfs); read_linux.go open files and the read path
// over the chunk cache of readcache.go; write_linux.go the writers'
// handles and their spools; pending_linux.go the pending files, whose
// entries tree.go keeps with the rest of the tree; feed_linux.go the
// load and the following of the changes feed; mount_linux.go Start,
// Unmount and Mount; names.go the name mapping; errno.go Errno.
package mount
