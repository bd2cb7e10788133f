package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// The password form of a share link redirects only to a path inside the
// link: a next value that leaves it, once cleaned, or that a browser
// could read as another host, sends the browser to the link itself.
func TestSharePasswordRedirect(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	alice := newShareOwner(t, s, "alice")
	shared := alice.folder("shared", alice.root())
	sub := alice.folder("sub", shared)
	l := alice.link(shared, map[string]any{"password": "open sesame"})
	linkPath := strings.TrimPrefix(l.URL, s.URL)

	post := func(next string) string {
		t.Helper()
		form := url.Values{"password": {"open sesame"}, "next": {next}}
		req, _ := http.NewRequest(http.MethodPost, l.URL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("next %q: status %d, want 303", next, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	for _, next := range []string{
		linkPath + `/../../\evil.example/x`,
		linkPath + `/../../%5Cevil.example/x`,
		linkPath + `/..//evil.example/x`,
		linkPath + `/../../../evil.example`,
		linkPath + `/nodes/../../other`,
		linkPath + `/\evil.example`,
		linkPath + `//evil.example`,
		linkPath + "/\tevil",
		"//evil.example" + linkPath + "/",
		"https://evil.example" + linkPath + "/",
		`/\evil.example` + linkPath + "/",
		"/s/" + strings.Repeat("A", 43) + "/nodes/x",
		"",
	} {
		if loc := post(next); loc != linkPath {
			t.Errorf("next %q: Location %q, want the link's own path %q", next, loc, linkPath)
		}
	}
	if want := linkPath + "/nodes/" + sub; post(want) != want {
		t.Errorf("next inside the link: Location %q, want %q", post(want), want)
	}

	// The form the 401 page renders carries next only for a plain path
	// inside the link.
	resp, body := visit(t, http.MethodGet, l.URL+"/nodes/"+sub, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `name="next" value="`+linkPath+"/nodes/"+sub+`"`) {
		t.Errorf("password page of a sub-folder: %d, want a next field with its path:\n%s", resp.StatusCode, body)
	}
}

// setDisabled disables or enables a user of s.
func setDisabled(t *testing.T, s *drivetest.Server, name string, disabled bool) {
	t.Helper()
	ctx := context.Background()
	err := s.App.Meta.Update(ctx, func(tx meta.Tx) error {
		u, err := tx.UserByName(ctx, name)
		if err != nil {
			return err
		}
		u.Disabled = disabled
		return tx.UpdateUser(ctx, u)
	})
	if err != nil {
		t.Fatalf("disable %s: %v", name, err)
	}
}

// A disabled user's share links and temp links stop working, with the
// 404 of an unknown link (as the API answers the user's bearer tokens
// with the 401 of an unknown token), and work again once re-enabled.
func TestDisabledUserLinks(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	alice := newShareOwner(t, s, "alice")
	shared := alice.folder("shared", alice.root())
	f := alice.file("a.txt", shared, []byte("alice's"))
	fileLink := alice.link(f, nil)
	folderLink := alice.link(shared, nil)
	pwLink := alice.link(f, map[string]any{"password": "open sesame"})
	var n struct{ TempLink string }
	if code, raw := alice.api.do(http.MethodGet, "/drive/v1/nodes/"+f+"?tempLink=true", nil, &n); code != http.StatusOK || n.TempLink == "" {
		t.Fatalf("tempLink: %d %s", code, raw)
	}
	urls := map[string]string{
		"file link":             fileLink.URL,
		"folder link":           folderLink.URL,
		"file inside a folder":  folderLink.URL + "/nodes/" + f,
		"temp link":             n.TempLink,
		"password link, no pw":  pwLink.URL,
		"password link, header": pwLink.URL,
	}
	hdr := func(name string) map[string]string {
		if strings.HasSuffix(name, "header") {
			return map[string]string{"X-Share-Password": "open sesame"}
		}
		return nil
	}
	wantAll := func(enabled bool) {
		t.Helper()
		for name, u := range urls {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				resp, body := visit(t, method, u, hdr(name))
				switch {
				case !enabled && resp.StatusCode != http.StatusNotFound:
					t.Errorf("%s %s of a disabled user: %d %s, want 404", method, name, resp.StatusCode, body)
				case enabled && name != "password link, no pw" && resp.StatusCode != http.StatusOK:
					t.Errorf("%s %s: %d %s, want 200", method, name, resp.StatusCode, body)
				}
			}
		}
		form := url.Values{"password": {"open sesame"}}
		req, _ := http.NewRequest(http.MethodPost, pwLink.URL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: http.StatusSeeOther, false: http.StatusNotFound}[enabled]; resp.StatusCode != want {
			t.Errorf("password form (enabled %t): %d, want %d", enabled, resp.StatusCode, want)
		}
	}
	wantAll(true)
	setDisabled(t, s, "alice", true)
	wantAll(false)
	setDisabled(t, s, "alice", false)
	wantAll(true)
}
