package e2e_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drivetest"
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
