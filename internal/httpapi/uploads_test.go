package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// TestResumableUploadsOnContentOrigin: with a separate content origin,
// the UI's origin may run tus against it (preflight for PATCH and the tus
// headers, exposed replies), and Location points at the content origin.
func TestResumableUploadsOnContentOrigin(t *testing.T) {
	u := newUCServer(t, true)
	pre := u.do("OPTIONS", u.content+"/cdproxy/uploads/x", nil, http.Header{"Origin": {u.main},
		"Access-Control-Request-Method": {"PATCH"}, "Access-Control-Request-Headers": {"authorization,tus-resumable,upload-offset,content-type"}}, false)
	if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != u.main ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), "PATCH") ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Upload-Offset") {
		t.Fatalf("preflight = %d %v", pre.status, pre.header)
	}
	hdr := http.Header{"Origin": {u.main}, "Tus-Resumable": {"1.0.0"}, "Upload-Length": {"5"},
		"Upload-Metadata": {"name " + base64.StdEncoding.EncodeToString([]byte("x.txt"))}}
	r := u.do("POST", u.content+"/cdproxy/uploads/", nil, hdr, true)
	loc := r.header.Get("Location")
	if r.status != http.StatusCreated || !strings.HasPrefix(loc, u.content+"/cdproxy/uploads/") ||
		!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "Location") {
		t.Fatalf("create = %d %v %s", r.status, r.header, r.body)
	}
	r = u.do("PATCH", loc, bytes.NewReader([]byte("hello")), http.Header{"Origin": {u.main}, "Tus-Resumable": {"1.0.0"},
		"Upload-Offset": {"0"}, "Content-Type": {"application/offset+octet-stream"}}, true)
	if r.status != http.StatusNoContent || r.header.Get("Clouddrive-Node-Id") == "" ||
		!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "Clouddrive-Node-Id") {
		t.Fatalf("PATCH = %d %v %s", r.status, r.header, r.body)
	}
	// The public host serves the route too.
	if r := u.do("OPTIONS", u.main+"/cdproxy/uploads/", nil, nil, false); r.status != http.StatusNoContent ||
		r.header.Get("Tus-Version") != "1.0.0" {
		t.Fatalf("OPTIONS on the public host = %d %v", r.status, r.header)
	}
}
