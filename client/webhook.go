package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// Errors of VerifyWebhook.
var (
	// ErrWebhookSignature: the signature header is missing or no v1
	// value matches the body and timestamp.
	ErrWebhookSignature = errors.New("webhook: signature mismatch")
	// ErrWebhookTimestamp: the timestamp header is missing, malformed or
	// further than the tolerance from now (a replayed delivery).
	ErrWebhookTimestamp = errors.New("webhook: timestamp missing or outside the tolerance")
)

// SignWebhook returns the signature header value of a delivery of body at
// timestamp (Unix seconds) under secret: "v1=" and the hex HMAC-SHA256 of
// timestamp + "." + body.
func SignWebhook(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a webhook delivery received at now: the timestamp
// header must lie within tolerance of now (which rejects replays of old
// deliveries), and one v1 value of the signature header must be the
// HMAC-SHA256 under secret of the timestamp, '.', and the raw body. It
// returns ErrWebhookTimestamp or ErrWebhookSignature on failure. The
// comparison takes constant time; pass the body exactly as received.
func VerifyWebhook(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	raw := h.Get(acd.WebhookTimestampHeader)
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return ErrWebhookTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrWebhookTimestamp
	}
	want := SignWebhook(secret, ts, body)
	for _, v := range strings.Split(h.Get(acd.WebhookSignatureHeader), ",") {
		if hmac.Equal([]byte(strings.TrimSpace(v)), []byte(want)) {
			return nil
		}
	}
	return ErrWebhookSignature
}
