package oauth

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// userCodeAlphabet is RFC 8628's suggestion: 20 consonants, no vowels (no
// words), no look-alikes such as 0/O or 1/I. Eight characters give about
// 34.6 bits, ample for a code that lives ten minutes.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// newUserCode returns a random user code, formatted XXXX-XXXX.
func newUserCode() string {
	var b [8]byte
	out := make([]byte, 0, 9)
	for len(out) < 9 {
		if _, err := rand.Read(b[:]); err != nil {
			panic("oauth: crypto/rand failed: " + err.Error())
		}
		for _, c := range b {
			// Rejection sampling keeps the distribution uniform: 240 is
			// the largest multiple of 20 below 256.
			if c >= 240 || len(out) == 9 {
				continue
			}
			if len(out) == 4 {
				out = append(out, '-')
			}
			out = append(out, userCodeAlphabet[int(c)%len(userCodeAlphabet)])
		}
	}
	return string(out)
}

// normalizeUserCode turns what a user typed into the canonical XXXX-XXXX
// form: case, spaces and dashes do not matter. It returns "" when the
// input cannot be a user code.
func normalizeUserCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case strings.ContainsRune(userCodeAlphabet, r):
			if b.Len() == 4 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
		default:
			return ""
		}
	}
	if b.Len() != 9 {
		return ""
	}
	return b.String()
}

// deviceAuthResponse is RFC 8628 section 3.2.
type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// deviceAuthorization serves POST /auth/o2/device (/oauth/device).
func (s *Server) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, ok := s.formClient(w, r)
	if !ok {
		return
	}
	scope, ok := parseScope(r.PostForm.Get("scope"))
	if !ok {
		writeOAuthError(w, badRequest("invalid_scope", "known scopes are clouddrive:read_all and clouddrive:write"))
		return
	}
	now := s.cfg.Now().UTC()
	deviceCode := randomString(32)
	var userCode string
	var err error
	for attempt := 0; ; attempt++ {
		userCode = newUserCode()
		d := &meta.DeviceCode{Hash: auth.Hash(deviceCode), UserCodeHash: auth.Hash(userCode), ClientID: app.ClientID,
			Scope: scope, Status: meta.DevicePending, Interval: s.cfg.DeviceInterval, ExpiresAt: now.Add(s.cfg.DeviceTTL), CreatedAt: now}
		err = update(ctx, s.cfg.Meta, func(tx Tx) error { return tx.InsertDeviceCode(ctx, d) })
		if !drive.Is(drive.Conflict, err) || attempt == 4 { // a user code collision: draw another
			break
		}
	}
	if err != nil {
		s.tokenInternal(w, r, err)
		return
	}
	verify := s.baseURL(r) + PathDevicePage
	writeJSON(w, http.StatusOK, deviceAuthResponse{
		DeviceCode:              deviceCode,
		UserCode:                userCode,
		VerificationURI:         verify,
		VerificationURIComplete: verify + "?" + url.Values{"user_code": {userCode}}.Encode(),
		ExpiresIn:               int64(s.cfg.DeviceTTL.Seconds()),
		Interval:                int64(max(s.cfg.DeviceInterval.Seconds(), 1)),
	})
	s.maybePurge(ctx)
}

// pollDevice answers the device_code grant: authorization_pending until
// the user decides, slow_down when polled faster than the interval (which
// then grows by 5 seconds), access_denied, expired_token, or tokens once.
func (s *Server) pollDevice(ctx context.Context, app *meta.App, v url.Values) (*tokenResponse, *oauthError, error) {
	dc := v.Get("device_code")
	if dc == "" {
		return nil, badRequest("invalid_request", "device_code is required"), nil
	}
	var resp *tokenResponse
	var e *oauthError
	err := update(ctx, s.cfg.Meta, func(tx Tx) error {
		resp, e = nil, nil
		d, err := tx.DeviceCode(ctx, auth.Hash(dc))
		if drive.Is(drive.NotFound, err) {
			e = invalidGrant("unknown device code")
			return nil
		}
		if err != nil {
			return err
		}
		if d.ClientID != app.ClientID {
			e = invalidGrant("device code was issued to another client")
			return nil
		}
		now := s.cfg.Now().UTC()
		if !now.Before(d.ExpiresAt) {
			e = badRequest("expired_token", "the device code expired; start again")
			return tx.DeleteDeviceCode(ctx, d.Hash)
		}
		switch d.Status {
		case meta.DeviceDenied:
			e = badRequest("access_denied", "the user denied the request")
			return tx.DeleteDeviceCode(ctx, d.Hash)
		case meta.DeviceApproved:
			// Deleting is the claim: of two concurrent polls one gets
			// NotFound here, and its transaction issues nothing.
			if err := tx.DeleteDeviceCode(ctx, d.Hash); err != nil {
				return err
			}
			u, err := activeUser(ctx, tx, d.UserID)
			if err != nil {
				return err
			}
			if u == nil {
				e = invalidGrant("the user is disabled or deleted")
				return nil
			}
			resp, err = s.issue(ctx, tx, d.UserID, app.ClientID, d.Scope, d.Scope, auth.NewFamily())
			return err
		}
		tooSoon := !d.LastPoll.IsZero() && now.Sub(d.LastPoll) < d.Interval
		d.LastPoll = now
		if tooSoon {
			d.Interval += 5 * time.Second // RFC 8628 section 3.5
			e = badRequest("slow_down", "poll less often")
		} else {
			e = badRequest("authorization_pending", "the user has not decided yet")
		}
		return tx.UpdateDeviceCode(ctx, d)
	})
	if drive.Is(drive.NotFound, err) {
		return nil, invalidGrant("device code already redeemed"), nil
	}
	if err != nil {
		return nil, nil, err
	}
	return resp, e, nil
}

// devicePage serves /device: sign in, enter (or confirm) the user code,
// approve or deny.
func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var sess *session
	var v url.Values
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		v = r.URL.Query()
		sess = s.ensureSession(w, r)
	case http.MethodPost:
		if err := parseForm(w, r); err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return
		}
		v = r.PostForm
		var ok bool
		if sess, ok = s.checkCSRF(r); !ok {
			s.csrfFailed(w, r)
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		s.errorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed", "Use GET or POST.")
		return
	}
	user, err := s.sessionUser(ctx, sess)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	typed := v.Get("user_code")
	code := normalizeUserCode(typed)
	var hidden []field
	if code != "" {
		hidden = []field{{"user_code", code}}
	}
	loginPage := func(status int, msg, name string) {
		s.render(w, r, status, "login", &pageData{Title: "Sign in", Error: msg, Action: selfRef(r),
			CSRF: sess.CSRF, Hidden: hidden, Login: name})
	}
	entryPage := func(status int, msg string) {
		s.render(w, r, status, "device", &pageData{Title: "Connect a device", Error: msg, Action: selfRef(r),
			UserName: user.Name, UserCode: typed})
	}
	op := ""
	if r.Method == http.MethodPost {
		op = v.Get("op")
	}
	if op == "login" {
		if !s.signIn(w, r, v, loginPage) {
			return
		}
		next := selfRef(r)
		if code != "" {
			next += "?" + url.Values{"user_code": {code}}.Encode()
		}
		seeOther(w, next)
		return
	}
	if user == nil {
		status := http.StatusOK
		if op != "" {
			status = http.StatusUnauthorized
		}
		loginPage(status, "", "")
		return
	}
	if typed == "" && op == "" {
		entryPage(http.StatusOK, "")
		return
	}
	const badCode = "That code is not valid or has expired. Check the code on your device."
	if code == "" {
		entryPage(http.StatusBadRequest, badCode)
		return
	}
	switch op {
	case "":
		d, app, err := s.pendingDevice(ctx, code)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if d == nil {
			entryPage(http.StatusBadRequest, badCode)
			return
		}
		s.render(w, r, http.StatusOK, "consent", &pageData{Title: "Allow access", Action: selfRef(r), CSRF: sess.CSRF,
			Hidden: hidden, AppName: app.Name, UserName: user.Name, UserCode: code, Scopes: describeScopes(d.Scope)})
	case "approve", "deny":
		status := meta.DeviceApproved
		if op == "deny" {
			status = meta.DeviceDenied
		}
		found := false
		err := update(ctx, s.cfg.Meta, func(tx Tx) error {
			d, err := tx.DeviceCodeByUserCode(ctx, auth.Hash(code))
			if drive.Is(drive.NotFound, err) {
				return nil
			}
			if err != nil {
				return err
			}
			if d.Status != meta.DevicePending || !s.cfg.Now().Before(d.ExpiresAt) {
				return nil
			}
			found = true
			d.Status, d.UserID = status, user.ID
			return tx.UpdateDeviceCode(ctx, d)
		})
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if !found {
			entryPage(http.StatusBadRequest, badCode)
			return
		}
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "device authorization decided", slog.String("user_id", user.ID), slog.String("status", status))
		if status == meta.DeviceApproved {
			s.render(w, r, http.StatusOK, "message", &pageData{Title: "Device connected",
				Message: "You can close this page and return to your device."})
		} else {
			s.render(w, r, http.StatusOK, "message", &pageData{Title: "Request denied",
				Message: "The device was not given access. You can close this page."})
		}
	default:
		s.errorPage(w, r, http.StatusBadRequest, "Bad request", "Unknown form action.")
	}
}

// pendingDevice returns the pending, unexpired device authorization with
// the given user code and its app, or nil.
func (s *Server) pendingDevice(ctx context.Context, code string) (*meta.DeviceCode, *meta.App, error) {
	var d *meta.DeviceCode
	var app *meta.App
	err := view(ctx, s.cfg.Meta, func(tx Tx) error {
		var err error
		if d, err = tx.DeviceCodeByUserCode(ctx, auth.Hash(code)); err != nil {
			return err
		}
		app, err = tx.App(ctx, d.ClientID)
		return err
	})
	if drive.Is(drive.NotFound, err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if d.Status != meta.DevicePending || !s.cfg.Now().Before(d.ExpiresAt) {
		return nil, nil, nil
	}
	return d, app, nil
}
