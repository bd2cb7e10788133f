package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// Limits on subscriptions.
const (
	MaxURL          = 2048
	MinSecret       = 16
	MaxSecret       = 256
	MaxPerAppUser   = 100
	generatedSecret = 32 // random bytes, hex encoded
)

// Service manages subscriptions and replays. It is safe for concurrent
// use.
type Service struct {
	Meta  meta.Store
	Now   drive.Clock
	NewID drive.IDGen
	// Wake, if set, is called after a replay so that a dispatcher in this
	// process sends it at once.
	Wake func()
}

// New describes a subscription to create.
type New struct {
	// AppID is the subscribing app's client id.
	AppID string
	// UserID is the user whose events are sent, or "" for every user who
	// granted the app.
	UserID string
	URL    string
	// Secret keys the signatures; "" generates one.
	Secret string
	// Events filters the event types; empty sends all.
	Events []string
}

// Create validates and stores a subscription and returns it with its
// secret. Invalid input gives Invalid with the offending Param.
func (s *Service) Create(ctx context.Context, in New) (*meta.Webhook, error) {
	const op = "webhook.Create"
	if in.AppID == "" {
		return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "app", Message: "an app is required"}
	}
	if err := CheckURL(op, in.URL); err != nil {
		return nil, err
	}
	events, err := CheckEvents(op, in.Events)
	if err != nil {
		return nil, err
	}
	secret := in.Secret
	if secret == "" {
		secret = NewSecret()
	} else if err := checkSecret(op, secret); err != nil {
		return nil, err
	}
	w := &meta.Webhook{ID: s.NewID(), AppID: in.AppID, UserID: in.UserID, URL: in.URL, Secret: secret,
		Events: events, CreatedAt: s.Now().UTC().Truncate(time.Millisecond)}
	err = s.update(ctx, func(tx ServiceTx) error {
		have, err := tx.Webhooks(ctx, in.AppID, in.UserID)
		if err != nil {
			return err
		}
		if in.UserID == "" {
			have = slices.DeleteFunc(have, func(x *meta.Webhook) bool { return x.UserID != "" })
		}
		if len(have) >= MaxPerAppUser {
			return drive.Errorf(op, drive.Invalid, "at most %d webhooks per app and user", MaxPerAppUser)
		}
		return tx.InsertWebhook(ctx, w)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// List returns the subscriptions of appID for userID ("" for either lists
// them all), oldest first.
func (s *Service) List(ctx context.Context, appID, userID string) ([]*meta.Webhook, error) {
	var out []*meta.Webhook
	err := s.view(ctx, func(tx ServiceTx) error {
		var err error
		out, err = tx.Webhooks(ctx, appID, userID)
		return err
	})
	return out, err
}

// Get returns a subscription. Non-empty appID and userID must own it: a
// subscription of another app or user is NotFound, as a missing one.
func (s *Service) Get(ctx context.Context, appID, userID, id string) (*meta.Webhook, error) {
	var w *meta.Webhook
	err := s.view(ctx, func(tx ServiceTx) error {
		var err error
		w, err = owned(ctx, tx, appID, userID, id)
		return err
	})
	return w, err
}

// Delete removes a subscription and its deliveries, with the ownership
// rule of Get.
func (s *Service) Delete(ctx context.Context, appID, userID, id string) error {
	return s.update(ctx, func(tx ServiceTx) error {
		if _, err := owned(ctx, tx, appID, userID, id); err != nil {
			return err
		}
		return tx.DeleteWebhook(ctx, id)
	})
}

func owned(ctx context.Context, tx ServiceTx, appID, userID, id string) (*meta.Webhook, error) {
	w, err := tx.Webhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if (appID != "" && w.AppID != appID) || (userID != "" && w.UserID != userID) {
		return nil, drive.E("webhook.Get", drive.NotFound, "webhook not found")
	}
	return w, nil
}

// Deliveries lists deliveries newest first.
func (s *Service) Deliveries(ctx context.Context, f meta.DeliveryFilter) ([]*meta.Delivery, error) {
	const op = "webhook.Deliveries"
	switch f.Status {
	case "", meta.DeliveryPending, meta.DeliveryDelivered, meta.DeliveryDead:
	default:
		return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "status", Message: "status must be pending, delivered or dead"}
	}
	var out []*meta.Delivery
	err := s.view(ctx, func(tx ServiceTx) error {
		var err error
		out, err = tx.Deliveries(ctx, f)
		return err
	})
	return out, err
}

// Replay makes a delivery pending again, due now and with a fresh retry
// schedule; the dispatcher resends the same event (same id and body).
func (s *Service) Replay(ctx context.Context, id string) (*meta.Delivery, error) {
	var d *meta.Delivery
	err := s.update(ctx, func(tx ServiceTx) error {
		if err := tx.RequeueDelivery(ctx, id, s.Now()); err != nil {
			return err
		}
		var err error
		d, err = tx.Delivery(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.Wake != nil {
		s.Wake()
	}
	return d, nil
}

// CheckURL validates a subscription URL: absolute http or https with a
// host, no credentials, no fragment, at most MaxURL bytes.
func CheckURL(op, raw string) error {
	bad := func(msg string) error {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "url", Message: msg}
	}
	if raw == "" {
		return bad("a URL is required")
	}
	if len(raw) > MaxURL {
		return bad("the URL is longer than " + strconv.Itoa(MaxURL) + " bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("the URL must start with http:// or https://")
	}
	if u.Host == "" || u.Hostname() == "" {
		return bad("the URL has no host")
	}
	if u.User != nil {
		return bad("the URL must not carry credentials; verify the signature instead")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("the URL must not have a fragment")
	}
	return nil
}

// CheckEvents validates an event filter and returns it deduplicated in the
// order of acd.WebhookEventTypes.
func CheckEvents(op string, events []string) ([]string, error) {
	all := acd.WebhookEventTypes()
	for _, e := range events {
		if !slices.Contains(all, e) {
			return nil, &drive.Error{Op: op, Kind: drive.Invalid, Param: "events",
				Message: "unknown event type " + strconv.Quote(e) + "; known: " + strings.Join(all, ", ")}
		}
	}
	out := []string{}
	for _, e := range all {
		if slices.Contains(events, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func checkSecret(op, secret string) error {
	if len(secret) < MinSecret || len(secret) > MaxSecret {
		return &drive.Error{Op: op, Kind: drive.Invalid, Param: "secret",
			Message: "the secret must be " + strconv.Itoa(MinSecret) + " to " + strconv.Itoa(MaxSecret) + " bytes"}
	}
	for _, r := range secret {
		if r < 0x20 || r == 0x7f {
			return &drive.Error{Op: op, Kind: drive.Invalid, Param: "secret", Message: "the secret must not contain control characters"}
		}
	}
	return nil
}

// NewSecret returns a random secret: 32 bytes, hex encoded.
func NewSecret() string {
	var b [generatedSecret]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("webhook: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// Sign returns the signature header value of body sent at timestamp (Unix
// seconds): "v1=" and the hex HMAC-SHA256 under secret of timestamp, '.',
// body. client.VerifyWebhook checks it.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}
