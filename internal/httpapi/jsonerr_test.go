package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestJSONErrorMessages: a body that is not JSON, or JSON of the wrong
// shape, gets 400 with a message in the API's words naming the field,
// never Go's (type names, "json:", "Go struct field").
func TestJSONErrorMessages(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	c := archiveClient{t: t, s: s, token: s.Token("ada")}
	root := c.root()
	send := func(method, url, ctype string, body io.Reader) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, body)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		st, b := c.do(req)
		var e struct{ Message string }
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s %s: body %s is not an error body", method, url, b)
		}
		return st, e.Message
	}
	meta := s.MetadataURL()
	for _, tc := range []struct {
		method, path, body, want string
	}{
		{"POST", "nodes", `{"name":1,"kind":"FOLDER","parents":["` + root + `"]}`, "name: must be a string, not a number"},
		{"POST", "nodes", `{"name":"x","kind":"FOLDER","parents":"` + root + `"}`, "parents: must be an array, not a string"},
		{"POST", "nodes", `{"name":"x","kind":"FOLDER","parents":["` + root + `",7]}`, "parents: must hold only strings, not a number"},
		{"POST", "nodes", `{"name":"x","kind":"FOLDER","labels":{"a":1}}`, "labels:"},
		{"POST", "nodes", `{"name":"x",`, "body: not valid JSON: it ends early (at offset 12)"},
		{"POST", "nodes", `{"name":"x"} trailing`, "body: not valid JSON at offset 14"},
		{"POST", "nodes", `{"name":'x'}`, "body: not valid JSON at offset 9"},
		{"POST", "nodes", `[1,2]`, "body: must be a JSON object, not an array"},
		{"POST", "nodes", `"x"`, "body: must be a JSON object, not a string"},
		{"PATCH", "nodes/" + root, `{"name":true}`, "name: must be a string, not true or false"},
		{"POST", "changes", `{"checkpoint":5}`, "checkpoint: must be a string, not a number"},
		{"POST", "changes", `{"chunkSize":"10"}`, "chunkSize: must be an integer, not a string"},
		{"POST", "changes", `{"chunkSize":1.5}`, "chunkSize: must be a whole number in range"},
		{"POST", "nodes/" + root + "/links", `{"password":["a"]}`, "password: must be a string, not an array"},
		{"POST", "webhooks", `{"url":{}}`, "url: must be a string, not an object"},
	} {
		st, msg := send(tc.method, meta+tc.path, "application/json", strings.NewReader(tc.body))
		if st != http.StatusBadRequest || !strings.HasPrefix(msg, tc.want) {
			t.Errorf("%s %s %s: %d %q, want 400 %q", tc.method, tc.path, tc.body, st, msg, tc.want)
		}
		for _, goWord := range []string{"json:", "Go ", "struct", "unmarshal", "int64", "[]string", "httpapi", "nodes."} {
			if strings.Contains(msg, goWord) {
				t.Errorf("%s %s %s: message %q names Go (%q)", tc.method, tc.path, tc.body, msg, goWord)
			}
		}
	}

	// The metadata part of an upload.
	for meta, want := range map[string]string{
		`{"name":["a"],"kind":"FILE","parents":["` + root + `"]}`: "name: must be a string, not an array",
		`{"name":"a.txt"`: "metadata: not valid JSON: it ends early (at offset 15)",
		`42`:              "metadata: must be a JSON object, not a number",
	} {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("metadata", meta)
		fw, _ := mw.CreateFormFile("content", "a.txt")
		fmt.Fprint(fw, "hello")
		_ = mw.Close()
		st, msg := send("POST", s.ContentURL()+"nodes", mw.FormDataContentType(), &buf)
		if st != http.StatusBadRequest || msg != want {
			t.Errorf("upload with metadata %s: %d %q, want 400 %q", meta, st, msg, want)
		}
	}
}
