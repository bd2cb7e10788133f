package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/meta"
)

func TestMatchRedirect(t *testing.T) {
	public := &meta.App{Public: true, RedirectURIs: []string{"http://127.0.0.1/callback", "http://localhost/callback",
		"http://[::1]/cb", "https://app.example/cb", "/ui/callback"}}
	confidential := &meta.App{RedirectURIs: []string{"http://127.0.0.1:53682/", "https://app.example/cb?x=1"}}
	const base = "https://drive.example"
	for _, tc := range []struct {
		name string
		app  *meta.App
		uri  string
		want bool
	}{
		{"Exact", public, "http://127.0.0.1/callback", true},
		{"LoopbackAnyPort", public, "http://127.0.0.1:49152/callback", true},
		{"LocalhostAnyPort", public, "http://localhost:8080/callback", true},
		{"IPv6AnyPort", public, "http://[::1]:8080/cb", true},
		{"LoopbackOtherHost", public, "http://localhost:8080/cb", false},
		{"LoopbackIPForLocalhost", public, "http://127.0.0.1:8080/cb", false},
		{"LoopbackOtherPath", public, "http://127.0.0.1:8080/callback/x", false},
		{"LoopbackQuery", public, "http://127.0.0.1:8080/callback?x=1", false},
		{"LoopbackFragment", public, "http://127.0.0.1:8080/callback#x", false},
		{"LoopbackUserinfo", public, "http://evil@127.0.0.1:8080/callback", false},
		{"LoopbackHTTPS", public, "https://127.0.0.1:8080/callback", false},
		{"LoopbackBadPort", public, "http://127.0.0.1:99999/callback", false},
		{"LoopbackPortZero", public, "http://127.0.0.1:0/callback", false},
		{"NonLoopbackNeedsExactPort", public, "https://app.example:444/cb", false},
		{"SameOrigin", public, base + "/ui/callback", true},
		{"SameOriginOtherHost", public, "https://evil.example/ui/callback", false},
		{"RelativeItself", public, "/ui/callback", false},
		{"Empty", public, "", false},
		{"ConfidentialExact", confidential, "http://127.0.0.1:53682/", true},
		{"ConfidentialNoPortException", confidential, "http://127.0.0.1:53683/", false},
		{"ConfidentialQueryExact", confidential, "https://app.example/cb?x=1", true},
		{"ConfidentialQueryDiffers", confidential, "https://app.example/cb?x=2", false},
		{"CaseMatters", confidential, "HTTPS://app.example/cb?x=1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := matchRedirect(tc.app, tc.uri, base); got != tc.want {
				t.Errorf("matchRedirect(%q) = %t, want %t", tc.uri, got, tc.want)
			}
		})
	}
}

func TestValidateRedirectURI(t *testing.T) {
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/cb", true},
		{"http://127.0.0.1:53682/", true},
		{"com.example.app:/oauth2redirect", true},
		{"/relative", false},
		{"app.example/cb", false},
		{"https://app.example/cb#frag", false},
		{"https://user@app.example/cb", false},
		{"javascript:alert(1)", false},
		{"data:text/html,x", false},
		{"https:///nohost", false},
		{"", false},
	} {
		err := ValidateRedirectURI(tc.uri)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateRedirectURI(%q) = %v, want ok %t", tc.uri, err, tc.ok)
		}
	}
}

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "clouddrive:read_all", true},
		{"clouddrive:read_all clouddrive:write", "clouddrive:read_all clouddrive:write", true},
		{"clouddrive:write clouddrive:read", "clouddrive:read_all clouddrive:write", true},
		{"clouddrive:read", "clouddrive:read_all", true},
		{"clouddrive:write", "clouddrive:write", true},
		{"  clouddrive:read_all   clouddrive:read_all ", "clouddrive:read_all", true},
		{"clouddrive:read_all profile", "", false},
		{"CLOUDDRIVE:WRITE", "", false},
	} {
		got, ok := parseScope(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseScope(%q) = %q, %t, want %q, %t", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if !subset("clouddrive:read_all", "clouddrive:read_all clouddrive:write") || subset("clouddrive:write", "clouddrive:read_all") {
		t.Errorf("subset is wrong")
	}
}

func TestUserCode(t *testing.T) {
	shape := regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)
	seen := map[string]bool{}
	for range 1000 {
		c := newUserCode()
		if !shape.MatchString(c) {
			t.Fatalf("newUserCode() = %q, want XXXX-XXXX from %s", c, userCodeAlphabet)
		}
		if normalizeUserCode(c) != c {
			t.Fatalf("normalizeUserCode(%q) = %q, want it unchanged", c, normalizeUserCode(c))
		}
		seen[c] = true
	}
	if len(seen) < 990 {
		t.Errorf("1000 user codes had only %d distinct values", len(seen))
	}
	for _, tc := range []struct{ in, want string }{
		{"bcdf-ghjk", "BCDF-GHJK"},
		{"BCDFGHJK", "BCDF-GHJK"},
		{" bc df gh jk ", "BCDF-GHJK"},
		{"BCDF--GHJK", "BCDF-GHJK"},
		{"BCDF-GHJ", ""},
		{"BCDF-GHJKL", ""},
		{"BCDF-GH0K", ""}, // 0 is not in the alphabet
		{"ABCD-EFGH", ""}, // vowels are not either
		{"", ""},
	} {
		if got := normalizeUserCode(tc.in); got != tc.want {
			t.Errorf("normalizeUserCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckVerifier(t *testing.T) {
	verifier := strings.Repeat("a1-._~", 8) // 48 characters
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	for _, tc := range []struct {
		name, challenge, verifier string
		ok                        bool
	}{
		{"Match", challenge, verifier, true},
		{"NoPKCE", "", "", true},
		{"Missing", challenge, "", false},
		{"Wrong", challenge, verifier[1:] + "b", false},
		{"TooShort", challenge, "abc", false},
		{"TooLong", challenge, strings.Repeat("a", 129), false},
		{"BadCharacters", challenge, strings.Repeat("a", 42) + "+", false},
		{"VerifierWithoutChallenge", "", verifier, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := checkVerifier(tc.challenge, tc.verifier)
			if (e == nil) != tc.ok {
				t.Errorf("checkVerifier(%q, %q) = %v, want ok %t", tc.challenge, tc.verifier, e, tc.ok)
			}
			if e != nil && e.Code != "invalid_grant" {
				t.Errorf("checkVerifier error code = %q, want invalid_grant", e.Code)
			}
		})
	}
	if !validChallenge(challenge) || validChallenge(challenge[1:]) || validChallenge(challenge[:42]+"=") {
		t.Errorf("validChallenge is wrong")
	}
}

func TestSessionCookie(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	newServer := func(key string) *Server {
		s := &Server{key: []byte(key), cfg: Config{Now: func() time.Time { return now }}}
		s.cfg.defaults()
		return s
	}
	s := newServer("0123456789abcdef0123456789abcdef")
	rec := httptest.NewRecorder()
	want := s.newSession("user-1")
	s.writeSession(rec, httptest.NewRequest("GET", "/", nil), want)
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].Secure ||
		cookies[0].MaxAge != int((12*time.Hour).Seconds()) {
		t.Fatalf("session cookie = %+v, want one HttpOnly, SameSite=Lax, non-Secure cookie living 12h", cookies)
	}
	read := func(s *Server, value string) *session {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
		return s.readSession(r)
	}
	value := cookies[0].Value
	if got := read(s, value); got == nil || *got != *want {
		t.Errorf("readSession(own cookie) = %+v, want %+v", got, want)
	}
	payload, sig, _ := strings.Cut(value, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"c":"x","u":"admin","e":9999999999}`))
	for name, v := range map[string]string{
		"OtherPayload": forged + "." + sig,
		"NoSignature":  payload,
		"EmptySig":     payload + ".",
		"Garbage":      "%%%.%%%",
	} {
		if got := read(s, v); got != nil {
			t.Errorf("readSession(%s) = %+v, want nil", name, got)
		}
	}
	if got := read(newServer("another key, another server......"), value); got != nil {
		t.Errorf("readSession(cookie of another key) = %+v, want nil", got)
	}
	now = now.Add(12*time.Hour + time.Second)
	if got := read(s, value); got != nil {
		t.Errorf("readSession(expired) = %+v, want nil", got)
	}
}
