package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestTokenRefreshIsSaved: a token from an OAuth flow is refreshed at the
// token endpoint when it expires, and the new one is written back with
// mode 0600, so the next run starts with it.
func TestTokenRefreshIsSaved(t *testing.T) {
	var form map[string][]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"Atza|new","refresh_token":"Atzr|rotated","token_type":"bearer","expires_in":3600}`))
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "cfg", credentialsFile)
	creds := &Credentials{Server: "http://drive.example", Flow: "browser", ClientID: "clouddrive-cli", TokenURL: srv.URL,
		Token: &oauth2.Token{AccessToken: "Atza|old", RefreshToken: "Atzr|first", Expiry: time.Now().Add(-time.Minute)}}
	if err := saveCredentials(path, creds); err != nil {
		t.Fatal(err)
	}
	ts := tokenSource(t.Context(), path, creds, nil)
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "Atza|new" {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	if form["grant_type"][0] != "refresh_token" || form["refresh_token"][0] != "Atzr|first" || form["client_id"][0] != "clouddrive-cli" {
		t.Errorf("refresh request = %v", form)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, %v", st, err)
	}
	saved, err := loadCredentials(path)
	if err != nil || saved.Token.AccessToken != "Atza|new" || saved.Token.RefreshToken != "Atzr|rotated" || saved.ClientID != "clouddrive-cli" {
		raw, _ := os.ReadFile(path)
		t.Errorf("saved credentials = %s, %v", raw, err)
	}
	// A fresh token is not refreshed again.
	form = nil
	if tok, err := ts.Token(); err != nil || tok.AccessToken != "Atza|new" || form != nil {
		t.Errorf("second Token = %v, %v (refreshed again: %v)", tok, err, form != nil)
	}
	// A pasted token is used as is.
	pasted := &Credentials{Server: "x", Flow: "token", Token: &oauth2.Token{AccessToken: "t"}}
	if tok, err := tokenSource(t.Context(), path, pasted, nil).Token(); err != nil || tok.AccessToken != "t" {
		t.Errorf("pasted token = %v, %v", tok, err)
	}
	var m map[string]any
	raw, _ := os.ReadFile(path)
	if json.Unmarshal(raw, &m) != nil || m["server"] != "http://drive.example" {
		t.Errorf("file = %s", raw)
	}
}
