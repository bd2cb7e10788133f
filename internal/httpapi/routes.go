package httpapi

import (
	"net/http"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// routes registers every route in one table. Metadata routes live under
// /drive/v1/, content routes under /cdproxy/, as on ACD.
func (s *Server) routes(mux *http.ServeMux) {
	a := s.authed
	for _, r := range []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET /drive/v1/account/endpoint", a(s.getEndpoint)},
		{"GET /drive/v1/account/info", a(s.getAccountInfo)},
		{"GET /drive/v1/account/quota", a(s.getQuota)},
		{"GET /drive/v1/account/usage", a(s.getUsage)},

		{"GET /drive/v1/nodes", a(s.listNodes)},
		{"POST /drive/v1/nodes", a(s.createFolder)},
		{"GET /drive/v1/nodes/{id}", a(s.getNode)},
		{"PATCH /drive/v1/nodes/{id}", a(s.patchNode)},
		{"DELETE /drive/v1/nodes/{id}", a(s.purgeNode)},
		{"GET /drive/v1/nodes/{id}/children", a(s.listChildren)},
		{"POST /drive/v1/nodes/{id}/children", a(s.moveNode)},
		{"PUT /drive/v1/nodes/{id}/children/{child}", a(s.addChild)},
		{"DELETE /drive/v1/nodes/{id}/children/{child}", a(s.removeChild)},
		{"GET /drive/v1/nodes/{id}/properties/{owner}", a(s.listProperties)},
		{"GET /drive/v1/nodes/{id}/properties/{owner}/{key}", a(s.getProperty)},
		{"PUT /drive/v1/nodes/{id}/properties/{owner}/{key}", a(s.putProperty)},
		{"DELETE /drive/v1/nodes/{id}/properties/{owner}/{key}", a(s.deleteProperty)},
		{"POST /drive/v1/bulk/nodes/purge", a(s.bulkPurge)},

		{"GET /drive/v1/trash", a(s.listTrash)},
		{"PUT /drive/v1/trash/{id}", a(s.trashNode)},
		{"POST /drive/v1/trash/{id}/restore", a(s.restoreNode)},

		{"POST /drive/v1/changes", a(s.postChanges)},

		{"POST /drive/v1/webhooks", s.hooked(a(s.createWebhook))},
		{"GET /drive/v1/webhooks", s.hooked(a(s.listWebhooks))},
		{"GET /drive/v1/webhooks/{id}", s.hooked(a(s.getWebhook))},
		{"DELETE /drive/v1/webhooks/{id}", s.hooked(a(s.deleteWebhook))},

		{"POST /drive/v1/apps", a(s.createApp)},

		{"POST /drive/v1/nodes/{id}/links", s.shared(a(s.createLink))},
		{"GET /drive/v1/nodes/{id}/links", s.shared(a(s.listNodeLinks))},
		{"GET /drive/v1/links", s.shared(a(s.listLinks))},
		{"DELETE /drive/v1/links/{linkId}", s.shared(a(s.revokeLink))},
		{"GET /s/{token}", s.shared(s.shareRoot)},
		{"HEAD /s/{token}", s.shared(s.shareRoot)},
		{"POST /s/{token}", s.shared(s.sharePassword)},
		{"GET /s/{token}/nodes/{nodeId}", s.shared(s.shareNode)},
		{"HEAD /s/{token}/nodes/{nodeId}", s.shared(s.shareNode)},

		{"POST /cdproxy/nodes", a(s.upload)},
		{"PUT /cdproxy/nodes/{id}/content", a(s.overwrite)},
		{"GET /cdproxy/nodes/{id}/content", a(s.download)},
		{"HEAD /cdproxy/nodes/{id}/content", a(s.download)},
		{"GET /cdproxy/nodes/{id}/archive", a(s.archive)},
		{"GET /cdproxy/templink/{token}", s.tempLinkDownload},
		{"HEAD /cdproxy/templink/{token}", s.tempLinkDownload},
		{"/cdproxy/uploads/", s.resumable},
		{"/cdproxy/uploads", s.resumable}, // POST without the slash, as some tus clients send it

		{"GET /healthz", s.healthz},
		{"GET /readyz", s.readyz},
	} {
		mux.HandleFunc(r.pattern, r.h)
	}
	if h := s.metricsRoute(); h != nil {
		mux.Handle("GET /metrics", h)
	}
	mux.HandleFunc("/", s.unknownOperation)
}

// unknownOperation is the API's 404 for a path or method it does not serve.
func (s *Server) unknownOperation(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, drive.E("httpapi", drive.NotFound, "unknown operation "+r.Method+" "+r.URL.Path))
}

// ifConfigured serves h when the optional service it needs is configured
// (ok reports so), else the unknown-operation 404: a server built without
// share links or webhooks (some tests) behaves as if they did not exist.
func (s *Server) ifConfigured(ok func() bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !ok() {
			s.unknownOperation(w, r)
			return
		}
		h(w, r)
	}
}
