package s3

// SetCopyLimits lowers the CopyObject limit and the multipart copy part
// size, so tests reach the multipart copy path with small blobs.
func SetCopyLimits(s *Store, maxCopy, part int64) { s.maxCopy, s.copyPart = maxCopy, part }
