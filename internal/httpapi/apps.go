package httpapi

import (
	"net/http"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
)

// POST /drive/v1/apps (a clouddrive extension): a user registers an OAuth
// app for one of the legacy ACD clients, rclone or acd_cli, for
// themselves; package oauth (CreateForUser) fixes what such an app may
// be. The reply carries the client secret, once.

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) {
	const op = "httpapi.createApp"
	ctx := r.Context()
	p, ok := drive.FromContext(ctx)
	if !ok || p.UserID == "" {
		s.writeError(w, r, drive.E(op, drive.Unauthorized, "not authenticated"))
		return
	}
	if !p.CanWrite() {
		s.writeError(w, r, drive.E(op, drive.Forbidden, "registering an app needs a token with the clouddrive:write scope"))
		return
	}
	var in acd.NewApp
	if err := readJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Apps == nil {
		s.unknownOperation(w, r)
		return
	}
	user, err := s.Nodes.User(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	app, secret, err := s.Apps.CreateForUser(ctx, in.Client, user.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.InfoContext(ctx, "app registered by its user", "client_id", app.ClientID, "name", app.Name, "user", user.ID)
	writeJSON(w, http.StatusCreated, acd.App{ClientID: app.ClientID, ClientSecret: secret, Name: app.Name,
		RedirectURIs: app.RedirectURIs, CreatedDate: app.CreatedAt.UTC().Format(acd.TimeFormat)})
}
