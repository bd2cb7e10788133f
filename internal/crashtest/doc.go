// Package crashtest is the crash and load driver of the reliability suite.
// It runs the real clouddrive binary (built by the test with go build) as a
// child process on a loopback port, drives it with several HTTP clients
// doing random uploads, overwrites, moves, renames, trashes, restores,
// purges and property changes, and kills it with SIGKILL at random moments.
//
// # The ledger
//
// Each client owns two folders and works only on nodes it created, one
// request at a time, so its expected state is a simple model: the state
// after its last acknowledged write (a write that got a 2xx response). The
// one request a client had in flight when the server died has an unknown
// outcome: after the restart the node it touched must be either exactly as
// before or exactly as after that request, and the model adopts whichever
// it finds. Anything else is a violation.
//
// # What is checked after each restart
//
//   - Every acknowledged write is present: each modelled node has the
//     expected name, parent, status, content MD5 and size, and properties;
//     purged nodes are gone; the client's folders hold no node the model
//     does not know.
//   - Every file is complete: its bytes, downloaded through the API, have
//     the MD5 the node reports.
//   - Read-only, straight from meta.db (SQLite) and the blob directory: no
//     node points at a missing blob; every blob's bytes hash to its key and
//     the MD5 and size of each node match its blob; no temporary upload
//     file is left; every node's change number has its change-log record
//     and no two nodes share one.
//   - The changes feed replays to exactly the node table: a client-side
//     replica kept up to date with checkpoints across restarts (with
//     includePurged), and a fresh full sync, both equal the rows of meta.db.
//
// At the end, with the server idle and garbage collection running every
// second with a one-second grace period, the blob directory must shrink to
// exactly the blobs that nodes reference.
//
// Every loop is bounded in count and in time, and all traffic goes to
// 127.0.0.1.
package crashtest
