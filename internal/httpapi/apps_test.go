package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// TestRegisterApp: POST /drive/v1/apps lets a user register a
// confidential app for rclone or acd_cli, with fixed loopback redirect
// URIs, a name that says whose it is, and a bound per user.
func TestRegisterApp(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	alice := s.Token("alice")
	bob := s.Token("bob")
	register := func(t *testing.T, token string, body any) (int, acd.App, acd.Error) {
		t.Helper()
		st, b := hookCall(t, s, token, "POST", "apps", body)
		var app acd.App
		var e acd.Error
		if st == http.StatusCreated {
			if err := json.Unmarshal(b, &app); err != nil {
				t.Fatalf("reply %s: %v", b, err)
			}
		} else if err := json.Unmarshal(b, &e); err != nil || e.Logref == "" || e.Message == "" || st == http.StatusNotFound {
			t.Errorf("error reply %d %s is not in the API's error format", st, b)
		}
		return st, app, e
	}

	st, first, _ := register(t, alice, acd.NewApp{Client: acd.AppClientRclone})
	if st != http.StatusCreated || !strings.HasPrefix(first.ClientID, "app-") || !strings.HasPrefix(first.ClientSecret, "cds-") ||
		first.Name != "rclone for alice" || !slices.Equal(first.RedirectURIs, []string{"http://127.0.0.1:53682/"}) || first.CreatedDate == "" {
		t.Fatalf("POST apps = %d %+v", st, first)
	}

	// The app is confidential: its secret is needed at the token and
	// device endpoints, and works there.
	device := func(id, secret string) int {
		form := url.Values{"client_id": {id}, "scope": {"clouddrive:read_all clouddrive:write"}}
		if secret != "" {
			form.Set("client_secret", secret)
		}
		resp, err := http.PostForm(s.URL+"/auth/o2/device", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := device(first.ClientID, first.ClientSecret); got != http.StatusOK {
		t.Errorf("device authorization with the app's secret = %d, want 200", got)
	}
	for _, bad := range []string{"", "cds-wrong"} {
		if got := device(first.ClientID, bad); got != http.StatusUnauthorized {
			t.Errorf("device authorization with secret %q = %d, want 401", bad, got)
		}
	}

	// Each call makes another app; names stay unique and per user.
	st, second, _ := register(t, alice, acd.NewApp{Client: acd.AppClientRclone})
	if st != http.StatusCreated || second.Name != "rclone for alice (2)" || second.ClientID == first.ClientID || second.ClientSecret == first.ClientSecret {
		t.Errorf("second POST apps = %d %+v", st, second)
	}
	st, acdcli, _ := register(t, alice, acd.NewApp{Client: acd.AppClientACDCLI})
	if st != http.StatusCreated || acdcli.Name != "acd_cli for alice" ||
		!slices.Equal(acdcli.RedirectURIs, []string{"http://localhost", "http://127.0.0.1:53682/"}) {
		t.Errorf("POST apps for acd_cli = %d %+v", st, acdcli)
	}
	st, bobs, _ := register(t, bob, acd.NewApp{Client: acd.AppClientRclone})
	if st != http.StatusCreated || bobs.Name != "rclone for bob" {
		t.Errorf("bob's POST apps = %d %+v", st, bobs)
	}

	// The redirect URIs are fixed: extra fields are not honoured.
	st, b := hookCall(t, s, alice, "POST", "apps", map[string]any{"client": "rclone", "redirectUris": []string{"https://evil.example/"}, "name": "Official"})
	var sneaky acd.App
	_ = json.Unmarshal(b, &sneaky)
	if st != http.StatusCreated || !slices.Equal(sneaky.RedirectURIs, []string{"http://127.0.0.1:53682/"}) || !strings.HasPrefix(sneaky.Name, "rclone for alice") {
		t.Errorf("POST apps with its own redirect URI and name = %d %s", st, b)
	}

	// At most ten per user and client.
	for i := 4; i <= 10; i++ {
		if st, app, _ := register(t, alice, acd.NewApp{Client: acd.AppClientRclone}); st != http.StatusCreated || app.Name != fmt.Sprintf("rclone for alice (%d)", i) {
			t.Fatalf("POST apps #%d = %d %+v", i, st, app)
		}
	}
	if st, _, e := register(t, alice, acd.NewApp{Client: acd.AppClientRclone}); st != http.StatusConflict || !strings.Contains(e.Message, "admin app delete") {
		t.Errorf("11th POST apps = %d %+v, want 409 saying how to remove old ones", st, e)
	}

	t.Run("BadRequests", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			body any
			msg  string
		}{
			{"unknown client", acd.NewApp{Client: "tv-app"}, "client must be one of acd_cli, rclone"},
			{"no client", map[string]string{}, "client must be one of"},
			{"not an object", "rclone", ""},
		} {
			if st, _, e := register(t, alice, tc.body); st != http.StatusBadRequest || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("%s: POST apps = %d %+v, want 400 with %q", tc.name, st, e, tc.msg)
			}
		}
	})
	t.Run("Auth", func(t *testing.T) {
		if st, _, _ := register(t, "not-a-token", acd.NewApp{Client: acd.AppClientRclone}); st != http.StatusUnauthorized {
			t.Errorf("POST apps with a bad token = %d, want 401", st)
		}
		readOnly := appToken(t, s, "carol", "app-c", "clouddrive:read_all")
		if st, _, e := register(t, readOnly, acd.NewApp{Client: acd.AppClientRclone}); st != http.StatusForbidden || !strings.Contains(e.Message, "clouddrive:write") {
			t.Errorf("POST apps with a read-only token = %d %+v, want 403", st, e)
		}
	})
}
