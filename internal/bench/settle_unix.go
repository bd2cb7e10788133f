//go:build unix

package bench

import "syscall"

// settle writes every dirty page of the system back (sync(2)) before a
// timed run, so that one run does not pay for the writeback of the files
// written before it (the test file, or another server's uploads left in
// the page cache): clouddrive fsyncs what it stores, and its fsync would
// otherwise wait for those too.
func settle() { syscall.Sync() }
