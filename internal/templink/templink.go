// Package templink signs and verifies temporary download links: the
// tempLink of ACD node JSON, a URL that downloads a file without an
// Authorization header until it expires. A link names the user, the node
// and the expiry, and carries an HMAC-SHA256 over them with a key shared by
// every replica (kept in the metadata store's settings). A link stops
// working when the node is trashed, purged, or not the user's, and while
// the user is disabled.
package templink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// Signer signs links with Key.
type Signer struct {
	Key []byte
}

// Sign returns the opaque link token for a node, valid until exp.
func (s *Signer) Sign(userID, nodeID string, exp time.Time) string {
	payload := userID + "." + nodeID + "." + strconv.FormatInt(exp.Unix(), 10)
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
}

func (s *Signer) mac(p string) []byte {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(p))
	return m.Sum(nil)
}

// Verify checks a link token and returns the user and node it names.
func (s *Signer) Verify(token string, now time.Time) (userID, nodeID string, err error) {
	const op = "templink.Verify"
	bad := drive.E(op, drive.NotFound, "link not found or expired")
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", "", bad
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(p)) {
		return "", "", bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return "", "", bad
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 {
		return "", "", bad
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || now.Unix() >= exp {
		return "", "", bad
	}
	return parts[0], parts[1], nil
}
