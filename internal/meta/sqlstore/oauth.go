package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// ---- passwords ----

func (t *tx) UserPassword(ctx context.Context, userID string) (string, error) {
	const op = "meta.UserPassword"
	var h string
	err := t.queryRow(ctx, `SELECT password FROM users WHERE id = ?`, userID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", drive.E(op, drive.NotFound, "user not found")
	}
	return h, drive.Wrap(op, err)
}

func (t *tx) SetUserPassword(ctx context.Context, userID, hash string) error {
	const op = "meta.SetUserPassword"
	res, err := t.exec(ctx, `UPDATE users SET password = ? WHERE id = ?`, hash, userID)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "user not found")
}

// ---- apps ----

const appCols = `client_id, name, secret_hash, redirect_uris, is_public, first_party, created_at`

func scanApp(row interface{ Scan(...any) error }) (*meta.App, error) {
	var a meta.App
	var uris string
	var public, first int
	var created int64
	if err := row.Scan(&a.ClientID, &a.Name, &a.SecretHash, &uris, &public, &first, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(uris), &a.RedirectURIs); err != nil {
		return nil, err
	}
	if a.RedirectURIs == nil {
		a.RedirectURIs = []string{}
	}
	a.Public, a.FirstParty, a.CreatedAt = public != 0, first != 0, fromMS(created)
	return &a, nil
}

func (t *tx) CreateApp(ctx context.Context, a *meta.App) error {
	const op = "meta.CreateApp"
	uris := a.RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	b, err := json.Marshal(uris)
	if err != nil {
		return drive.Wrap(op, err)
	}
	// DO NOTHING rather than catching the violation: on PostgreSQL a
	// failed statement aborts the transaction.
	res, err := t.exec(ctx, `INSERT INTO apps (`+appCols+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		a.ClientID, a.Name, a.SecretHash, string(b), b2i(a.Public), b2i(a.FirstParty), ms(a.CreatedAt))
	if err != nil {
		return drive.Wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return drive.Wrap(op, err)
	} else if n == 0 {
		return drive.Errorf(op, drive.Conflict, "an app with client id %q or name %q already exists", a.ClientID, a.Name)
	}
	return nil
}

func (t *tx) appBy(ctx context.Context, op, col, v string) (*meta.App, error) {
	a, err := scanApp(t.queryRow(ctx, `SELECT `+appCols+` FROM apps WHERE `+col+` = ?`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, drive.E(op, drive.NotFound, "app not found")
	}
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	return a, nil
}

func (t *tx) App(ctx context.Context, clientID string) (*meta.App, error) {
	return t.appBy(ctx, "meta.App", "client_id", clientID)
}

func (t *tx) AppByName(ctx context.Context, name string) (*meta.App, error) {
	return t.appBy(ctx, "meta.AppByName", "name", name)
}

func (t *tx) Apps(ctx context.Context) ([]*meta.App, error) {
	const op = "meta.Apps"
	rows, err := t.query(ctx, `SELECT `+appCols+` FROM apps ORDER BY name`)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	defer rows.Close()
	out := []*meta.App{}
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, drive.Wrap(op, err)
		}
		out = append(out, a)
	}
	return out, drive.Wrap(op, rows.Err())
}

func (t *tx) DeleteApp(ctx context.Context, clientID string) error {
	const op = "meta.DeleteApp"
	for _, q := range []string{
		`DELETE FROM tokens WHERE client_id = ?`,
		`DELETE FROM auth_codes WHERE client_id = ?`,
		`DELETE FROM device_codes WHERE client_id = ?`,
		`DELETE FROM webhook_deliveries WHERE subscription_id IN (SELECT id FROM webhook_subscriptions WHERE app_id = ?)`,
		`DELETE FROM webhook_subscriptions WHERE app_id = ?`,
	} {
		if _, err := t.exec(ctx, q, clientID); err != nil {
			return drive.Wrap(op, err)
		}
	}
	res, err := t.exec(ctx, `DELETE FROM apps WHERE client_id = ?`, clientID)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "app not found")
}

// ---- authorization codes ----

func (t *tx) InsertAuthCode(ctx context.Context, c *meta.AuthCode) error {
	const op = "meta.InsertAuthCode"
	res, err := t.exec(ctx, `INSERT INTO auth_codes (hash, client_id, user_id, redirect_uri, scope, challenge, family, expires_at, used, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.Hash, c.ClientID, c.UserID, c.RedirectURI, c.Scope, c.Challenge, c.Family, ms(c.ExpiresAt), b2i(c.Used), ms(c.CreatedAt))
	if err != nil {
		return drive.Wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return drive.Wrap(op, err)
	} else if n == 0 {
		return drive.E(op, drive.Conflict, "authorization code already exists")
	}
	return nil
}

func (t *tx) UseAuthCode(ctx context.Context, hash string) (*meta.AuthCode, error) {
	const op = "meta.UseAuthCode"
	var c meta.AuthCode
	var exp, created int64
	var used int
	err := t.queryRow(ctx, `SELECT hash, client_id, user_id, redirect_uri, scope, challenge, family, expires_at, used, created_at
		FROM auth_codes WHERE hash = ?`, hash).Scan(&c.Hash, &c.ClientID, &c.UserID, &c.RedirectURI, &c.Scope,
		&c.Challenge, &c.Family, &exp, &used, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, drive.E(op, drive.NotFound, "authorization code not found")
	}
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	c.ExpiresAt, c.CreatedAt = fromMS(exp), fromMS(created)
	// The conditional update is the claim: under concurrency only one
	// transaction changes the row, whatever the SELECT above saw.
	res, err := t.exec(ctx, `UPDATE auth_codes SET used = 1 WHERE hash = ? AND used = 0`, hash)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	c.Used = n == 0
	return &c, nil
}

// ---- device codes ----

const deviceCols = `hash, user_code_hash, client_id, scope, status, user_id, interval_ms, last_poll, expires_at, created_at`

func scanDevice(row interface{ Scan(...any) error }) (*meta.DeviceCode, error) {
	var d meta.DeviceCode
	var userID sql.NullString
	var interval, lastPoll, exp, created int64
	if err := row.Scan(&d.Hash, &d.UserCodeHash, &d.ClientID, &d.Scope, &d.Status, &userID, &interval, &lastPoll, &exp, &created); err != nil {
		return nil, err
	}
	d.UserID = userID.String
	d.Interval = time.Duration(interval) * time.Millisecond
	d.LastPoll, d.ExpiresAt, d.CreatedAt = fromMS(lastPoll), fromMS(exp), fromMS(created)
	return &d, nil
}

func (t *tx) InsertDeviceCode(ctx context.Context, d *meta.DeviceCode) error {
	const op = "meta.InsertDeviceCode"
	res, err := t.exec(ctx, `INSERT INTO device_codes (`+deviceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		d.Hash, d.UserCodeHash, d.ClientID, d.Scope, d.Status, nullStr(d.UserID), d.Interval.Milliseconds(),
		ms(d.LastPoll), ms(d.ExpiresAt), ms(d.CreatedAt))
	if err != nil {
		return drive.Wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return drive.Wrap(op, err)
	} else if n == 0 {
		return drive.E(op, drive.Conflict, "device code or user code already exists")
	}
	return nil
}

func (t *tx) deviceBy(ctx context.Context, op, col, v string) (*meta.DeviceCode, error) {
	d, err := scanDevice(t.queryRow(ctx, `SELECT `+deviceCols+` FROM device_codes WHERE `+col+` = ?`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, drive.E(op, drive.NotFound, "device code not found")
	}
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	return d, nil
}

func (t *tx) DeviceCode(ctx context.Context, hash string) (*meta.DeviceCode, error) {
	return t.deviceBy(ctx, "meta.DeviceCode", "hash", hash)
}

func (t *tx) DeviceCodeByUserCode(ctx context.Context, userCodeHash string) (*meta.DeviceCode, error) {
	return t.deviceBy(ctx, "meta.DeviceCodeByUserCode", "user_code_hash", userCodeHash)
}

func (t *tx) UpdateDeviceCode(ctx context.Context, d *meta.DeviceCode) error {
	const op = "meta.UpdateDeviceCode"
	res, err := t.exec(ctx, `UPDATE device_codes SET status = ?, user_id = ?, interval_ms = ?, last_poll = ? WHERE hash = ?`,
		d.Status, nullStr(d.UserID), d.Interval.Milliseconds(), ms(d.LastPoll), d.Hash)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "device code not found")
}

func (t *tx) DeleteDeviceCode(ctx context.Context, hash string) error {
	const op = "meta.DeleteDeviceCode"
	res, err := t.exec(ctx, `DELETE FROM device_codes WHERE hash = ?`, hash)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "device code not found")
}

// ---- token claims and expiry ----

func (t *tx) ClaimToken(ctx context.Context, hash string) (bool, error) {
	const op = "meta.ClaimToken"
	res, err := t.exec(ctx, `UPDATE tokens SET revoked = 1 WHERE hash = ? AND revoked = 0`, hash)
	if err != nil {
		return false, drive.Wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, drive.Wrap(op, err)
	}
	if n > 0 {
		return true, nil
	}
	id, err := t.oneID(ctx, op, `SELECT hash FROM tokens WHERE hash = ?`, hash)
	if err != nil {
		return false, err
	}
	if id == "" {
		return false, drive.E(op, drive.NotFound, "token not found")
	}
	return false, nil
}

func (t *tx) DeleteExpired(ctx context.Context, before time.Time) (int64, error) {
	const op = "meta.DeleteExpired"
	var total int64
	for _, q := range []string{
		`DELETE FROM auth_codes WHERE expires_at < ?`,
		`DELETE FROM device_codes WHERE expires_at < ?`,
		`DELETE FROM tokens WHERE expires_at > 0 AND expires_at < ?`,
	} {
		res, err := t.exec(ctx, q, ms(before))
		if err != nil {
			return total, drive.Wrap(op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, drive.Wrap(op, err)
		}
		total += n
	}
	return total, nil
}
