// Package localdir is a blob.Store that keeps blobs as files in a local
// directory.
//
// # Layout
//
// Blobs are content-addressed: the key of a blob is the lowercase hex
// SHA-256 of its bytes (64 characters). The blob with key k lives at
//
//	dir/k[0:2]/k[2:4]/k
//
// so that no directory holds more than 256 subdirectories. Uploads in
// progress live in dir/tmp. Nothing else in dir belongs to the store; List
// ignores any file or directory whose name does not fit the layout.
//
// Any string that is not 64 lowercase hex characters is treated as a
// missing key, so a key never names a path outside the shard layout.
//
// # Durability
//
// Put streams the body into a new temp file in dir/tmp, hashing it as it
// goes (MD5, SHA-256, size) through a pooled ring of four 256 KiB chunks,
// so memory use does not depend on the blob size. The hashing is a
// hashpipe.Pipe: MD5 on one goroutine, SHA-256 and the file write on
// another, while the request's goroutine reads the next chunk. Every
// 8 MiB written, Put asks the kernel to start writing them back
// (sync_file_range on Linux; elsewhere nothing), so the final fsync of a
// large blob has little left to wait for. Then it calls the check, fsyncs the
// temp file, renames it to its final path with os.Rename (atomic on POSIX)
// and fsyncs the shard directory, plus the parent of any shard directory it
// had to create. Only then does Put return: a crash at any point before
// leaves either no blob or the complete blob, never a partial one. A failed,
// rejected or cancelled Put removes its temp file.
//
// Identical bytes give the same key. A second Put of existing content
// renames its temp file over the existing blob, which is harmless (the
// bytes are the same) and refreshes the file's modification time, which
// garbage collection can use as a grace period.
//
// Delete does not fsync the directory: a delete lost in a crash leaves an
// unreferenced blob that the next garbage collection removes again.
//
// # Concurrency
//
// A Store is safe for concurrent use by many goroutines, but a directory
// belongs to one process: New removes every file in dir/tmp, assuming they
// are left over from a crash.
package localdir
