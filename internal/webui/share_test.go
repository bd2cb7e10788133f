package webui_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/webui"
)

// TestSharePages: the share listing shows sizes and UTC times, escapes
// names, and neither page may run or load anything.
func TestSharePages(t *testing.T) {
	rec := httptest.NewRecorder()
	webui.WriteShareListing(rec, 200, webui.ShareListing{Title: "Holiday <b>", Sub: true, Top: "/s/tok", Entries: []webui.ShareEntry{
		{Name: `<script>alert(1)</script>.txt`, Href: "/s/tok/nodes/a", Download: "/s/tok/nodes/a?download=1", Size: 1536,
			Modified: time.Date(2026, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 3600))},
		{Name: "Sub", Href: "/s/tok/nodes/b", Folder: true},
	}})
	body := rec.Body.String()
	for _, want := range []string{"Holiday &lt;b&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;.txt", "1.5 KiB", "2026-05-06 06:08",
		`href="/s/tok/nodes/b">Sub/</a>`, `href="/s/tok">Back to the shared folder`} {
		if !strings.Contains(body, want) {
			t.Errorf("listing lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Errorf("listing carries a script:\n%s", body)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q", csp)
	}

	rec = httptest.NewRecorder()
	webui.WriteSharePassword(rec, 401, webui.SharePassword{Action: "/s/tok", Message: "wrong password", Next: "/s/tok/nodes/a", Wrong: true})
	body = rec.Body.String()
	if rec.Code != 401 || !strings.Contains(body, `action="/s/tok"`) || !strings.Contains(body, "Wrong password, try again.") ||
		!strings.Contains(body, `name="next" value="/s/tok/nodes/a"`) {
		t.Errorf("password page %d:\n%s", rec.Code, body)
	}
}
