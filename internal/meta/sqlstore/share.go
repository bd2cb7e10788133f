package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// ---- share links (meta.ShareTx) ----

const shareCols = `id, user_id, node_id, token, password, expires_at, created_at`

func scanShareLink(row interface{ Scan(...any) error }) (*meta.ShareLink, error) {
	var l meta.ShareLink
	var expires, created int64
	if err := row.Scan(&l.ID, &l.UserID, &l.NodeID, &l.Token, &l.PasswordHash, &expires, &created); err != nil {
		return nil, err
	}
	l.ExpiresAt, l.CreatedAt = fromMS(expires), fromMS(created)
	return &l, nil
}

func (t *tx) InsertShareLink(ctx context.Context, l *meta.ShareLink) error {
	const op = "meta.InsertShareLink"
	_, err := t.exec(ctx, `INSERT INTO share_links (`+shareCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.UserID, l.NodeID, l.Token, l.PasswordHash, ms(l.ExpiresAt), ms(l.CreatedAt))
	if err != nil {
		if t.d.IsUniqueViolation(err) {
			return drive.E(op, drive.Conflict, "share link already exists")
		}
		return drive.Wrap(op, err)
	}
	return nil
}

func (t *tx) ShareLinkByToken(ctx context.Context, token string) (*meta.ShareLink, error) {
	const op = "meta.ShareLinkByToken"
	l, err := scanShareLink(t.queryRow(ctx, `SELECT `+shareCols+` FROM share_links WHERE token = ?`, token))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, drive.E(op, drive.NotFound, "share link not found")
	}
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	return l, nil
}

func (t *tx) ShareLinks(ctx context.Context, userID, nodeID string) ([]*meta.ShareLink, error) {
	const op = "meta.ShareLinks"
	q, args := `SELECT `+shareCols+` FROM share_links WHERE user_id = ?`, []any{userID}
	if nodeID != "" {
		q += ` AND node_id = ?`
		args = append(args, nodeID)
	}
	rows, err := t.query(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, drive.Wrap(op, err)
	}
	defer rows.Close()
	out := []*meta.ShareLink{}
	for rows.Next() {
		l, err := scanShareLink(rows)
		if err != nil {
			return nil, drive.Wrap(op, err)
		}
		out = append(out, l)
	}
	return out, drive.Wrap(op, rows.Err())
}

func (t *tx) DeleteShareLink(ctx context.Context, userID, id string) error {
	const op = "meta.DeleteShareLink"
	res, err := t.exec(ctx, `DELETE FROM share_links WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return drive.Wrap(op, err)
	}
	return mustAffect(op, res, "share link not found")
}
