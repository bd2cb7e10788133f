// Package s3 is a blob.Store in a bucket of any S3-compatible object
// store (AWS S3, MinIO, versitygw, Ceph RGW, ...), for deployments with
// several server replicas.
//
// Dependency: github.com/aws/aws-sdk-go-v2 (service/s3, config,
// credentials) is the reference S3 client, maintained by AWS. It signs
// requests, retries transient failures with back-off, streams request and
// response bodies, and reads credentials the standard way (the
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
// variables, ~/.aws/config and ~/.aws/credentials, AWS_PROFILE, web
// identity and instance roles). minio-go would do too; one client is
// enough.
//
// # Layout
//
// Blobs are content-addressed exactly as in package localdir: the key is
// the lowercase hex SHA-256 of the bytes, so a data set moves between the
// two stores without rewriting any metadata. Under the configured prefix,
// the bucket holds
//
//	<prefix>blobs/<key>   one object per blob
//	<prefix>tmp/<id>      large uploads being assembled
//
// Nothing else under the prefix belongs to the store; List ignores names
// that are not keys. Addressing is path-style when an endpoint is given
// (what S3-compatible servers expect), virtual-hosted on AWS.
//
// # Put: streaming with bounded memory
//
// Put reads the body into part buffers (PartSize, 8 MiB by default) and
// hashes them in a hashpipe.Pipe (MD5 on one goroutine, SHA-256 on
// another, while the next part is read), as package localdir does.
//
//   - A body that fits in one buffer is complete before anything is sent:
//     the check runs, then one PutObject writes <prefix>blobs/<key>.
//   - A longer body streams into a multipart upload of <prefix>tmp/<id>,
//     at most Concurrency parts in flight while the next one is read and
//     the one before is hashed, so a Put holds at most (Concurrency+2) ×
//     PartSize bytes however large the file. At the end the check runs;
//     a rejection, a reader error or a cancellation aborts the multipart
//     upload, which never became an object. Otherwise the upload is completed and copied server-side to
//     <prefix>blobs/<key> (CopyObject, or UploadPartCopy beyond 5 GiB), and
//     the temp object is deleted.
//
// An S3 object becomes visible atomically and completely when its
// PutObject, CompleteMultipartUpload or CopyObject succeeds, so a reader
// never sees a partial blob. A process killed mid-Put leaves at most an
// unfinished multipart upload or a temp object, neither of which is a
// blob; SweepUploads (run by clouddrive admin gc and the server's periodic
// collection) removes them once they are older than the grace period.
//
// Storing bytes that already exist overwrites the object with identical
// bytes, which refreshes its LastModified: the garbage collector's grace
// period (package gc) relies on that, as it does on localdir's mtime.
// The largest blob is 10,000 × PartSize (80 GiB by default).
//
// # Reads
//
// Open issues one ranged GetObject and streams the body. Reading at the
// exact end of a blob gives an empty reader; past it, a
// drive.RangeNotSatisfiable error (a HEAD tells the two apart only after
// S3 has refused the range).
//
// # Temp links
//
// The server proxies temp links (package templink signs them; the server
// streams the blob) rather than presigning S3 URLs: the link then behaves
// identically on both blob stores, honours the node's state when it is
// used (a trashed or purged node stops serving), serves ACD's
// Content-Disposition and Range semantics, and needs no public route to
// the bucket, which usually sits on a private network.
package s3
