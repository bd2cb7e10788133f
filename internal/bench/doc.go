// Package bench measures clouddrive the way the README reports it, with
// nginx as the reference: `clouddrive bench` (scripts/bench.sh) starts its
// own `clouddrive serve` child process on a temporary data directory and,
// in the same run on the same machine over loopback, an nginx from the
// system's packages (static GET with sendfile, WebDAV PUT), and prints a
// table of figures and ratios:
//
//   - transfer: upload of one large file (clouddrive multipart upload, MD5
//     and SHA-256 computed, fsynced) against nginx PUT of the same file;
//     download of that file, whole and in ranges, against nginx GET;
//   - small: many 64 KiB files from concurrent clients, both servers;
//   - rss: the server's peak resident memory during a very large upload and
//     download (it must not grow with the file);
//   - meta: folder creations, empty-file uploads, pages of a listing of a
//     folder with many children and filter queries per second, with p50 and
//     p99 latency, from N concurrent clients, over HTTP and straight
//     through the node service in-process (the "raw store"), so the HTTP
//     layer's cost shows as a ratio;
//   - changes: one large account (a folder of ListChildren children, the
//     rest in folders of 1,000): nodes per second of a full first sync
//     through POST /changes against the feed read in-process, incremental
//     polls of 100 changes, pages of the large folder and filter queries
//     from one client and from many, against the node service in-process;
//     with Config.LargeDB the same again on PostgreSQL (and S3), on a copy
//     of the account (large.go).
//
// When an rclone binary is found (scripts/rclone-compat.sh builds v1.65.2),
// `rclone serve webdav` of a local directory is a second reference for the
// transfer and small rows: a Go HTTP file server on the same machine,
// which like nginx neither hashes nor fsyncs.
//
// All servers write to the same file system. Differences that matter
// when reading the ratios: clouddrive fsyncs every blob before answering
// (nginx does not), hashes every byte twice (MD5 and SHA-256) and parses a
// multipart body; nginx stores the raw body.
//
// The package also holds what the reliability suite (internal/crashtest)
// shares with the benchmark: the child-process Server and latency
// percentiles.
package bench
