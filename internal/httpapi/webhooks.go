package httpapi

import (
	"net/http"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/webhook"
)

// Webhook subscriptions (a clouddrive extension). A subscription made
// through the API belongs to the calling app (the token's client id) and
// user: each sees, reads and deletes only its own. Subscriptions for every
// user who granted an app are made with `clouddrive admin webhook add`.

// hooked answers 404 when the server has no webhook service.
func (s *Server) hooked(h http.HandlerFunc) http.HandlerFunc {
	return s.ifConfigured(func() bool { return s.Webhooks != nil }, h)
}

// webhookOwner returns the calling principal; write requires the write
// scope.
func webhookOwner(r *http.Request, op string, write bool) (drive.Principal, error) {
	p, ok := drive.FromContext(r.Context())
	if !ok || p.UserID == "" {
		return p, drive.E(op, drive.Unauthorized, "not authenticated")
	}
	if p.App == "" {
		return p, drive.E(op, drive.Forbidden, "webhooks belong to an app; this token has none")
	}
	if write && !p.CanWrite() {
		return p, &drive.Error{Op: op, Kind: drive.Forbidden, Message: "Insufficient permissions granted for operation: " + op}
	}
	return p, nil
}

func webhookJSON(h *meta.Webhook, secret bool) *acd.Webhook {
	out := &acd.Webhook{ID: h.ID, URL: h.URL, Events: h.Events, AppID: h.AppID, UserID: h.UserID,
		CreatedDate: h.CreatedAt.UTC().Format(acd.TimeFormat)}
	if out.Events == nil {
		out.Events = []string{}
	}
	if secret {
		out.Secret = h.Secret
	}
	return out
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	const op = "httpapi.createWebhook"
	p, err := webhookOwner(r, op, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in acd.NewWebhook
	if err := readJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	h, err := s.Webhooks.Create(r.Context(), webhook.New{AppID: p.App, UserID: p.UserID, URL: in.URL,
		Secret: in.Secret, Events: in.Events})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, webhookJSON(h, true))
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	p, err := webhookOwner(r, "httpapi.listWebhooks", false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	hs, err := s.Webhooks.List(r.Context(), p.App, p.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := acd.WebhookList{Count: int64(len(hs)), Data: make([]*acd.Webhook, 0, len(hs))}
	for _, h := range hs {
		out.Data = append(out.Data, webhookJSON(h, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	p, err := webhookOwner(r, "httpapi.getWebhook", false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h, err := s.Webhooks.Get(r.Context(), p.App, p.UserID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, webhookJSON(h, false))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	p, err := webhookOwner(r, "httpapi.deleteWebhook", true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Webhooks.Delete(r.Context(), p.App, p.UserID, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
