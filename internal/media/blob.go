package media

import (
	"context"
	"io"

	"github.com/clouddrive/clouddrive/internal/blob"
)

// BlobReader reads a stored blob at offsets, one ranged Open per read,
// with a small cache of 64 KiB blocks so that the many small reads of a
// box walk cost few requests. It is not safe for concurrent use.
type BlobReader struct {
	Ctx    context.Context
	Blobs  blob.Opener
	Key    string
	Size   int64
	blocks map[int64][]byte
}

const blockSize = 64 << 10

// ReadAt implements io.ReaderAt.
func (b *BlobReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.Size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off+int64(n) < b.Size {
		pos := off + int64(n)
		blk, err := b.block(pos / blockSize)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], blk[pos%blockSize:])
		if c == 0 {
			return n, io.ErrUnexpectedEOF
		}
		n += c
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (b *BlobReader) block(i int64) ([]byte, error) {
	if blk, ok := b.blocks[i]; ok {
		return blk, nil
	}
	if b.blocks == nil || len(b.blocks) >= 64 {
		b.blocks = map[int64][]byte{}
	}
	length := min(blockSize, b.Size-i*blockSize)
	rc, err := b.Blobs.Open(b.Ctx, b.Key, i*blockSize, length)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	blk := make([]byte, length)
	if _, err := io.ReadFull(rc, blk); err != nil {
		return nil, err
	}
	b.blocks[i] = blk
	return blk, nil
}
