// Package testbytes makes the file contents tests upload and compare:
// deterministic pseudo-random bytes and their MD5, as ACD reports it. It is
// for tests only (the packages' _test.go files and conformance suites).
package testbytes

import (
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
)

// Random returns n pseudo-random bytes, the same for the same seed.
func Random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	i := 0
	for ; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for ; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// MD5 is the lower-case hex MD5 of b, the form of contentProperties.md5.
func MD5(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}
