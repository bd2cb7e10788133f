package oauth

import (
	"context"
	"net/http"
)

// Sign-out. A session cookie is signed but kept by the browser, so ending
// one means refusing it on the server: every signed-in session carries its
// user's session generation, a random value in the settings (key
// sessionGenPrefix + user id, absent until the user first signs out), and
// counts as signed in only while that value is unchanged. Signing out
// replaces it, which ends every session of the user, in every browser, and
// any copy of their cookies; the next sign-in starts from the new value.

// PathSignOut is POST-only: it ends the session of the request's cookie
// and clears the cookie (204, also when nobody was signed in).
const PathSignOut = "/ap/signout"

// sessionGenPrefix prefixes the setting that holds a user's session
// generation.
const sessionGenPrefix = "oauth_session_gen:"

// sessionGen returns the user's current session generation ("" until the
// first sign-out).
func sessionGen(ctx context.Context, tx Tx, userID string) (string, error) {
	return tx.Setting(ctx, sessionGenPrefix+userID)
}

// endSessions replaces the user's session generation if it is still gen:
// a session already ended (a stale generation) cannot end the newer ones.
func (s *Server) endSessions(ctx context.Context, userID, gen string) error {
	return update(ctx, s.cfg.Meta, func(tx Tx) error {
		cur, err := sessionGen(ctx, tx, userID)
		if err != nil || cur != gen {
			return err
		}
		next := randomString(12)
		if cur == "" {
			_, err = tx.PutSettingIfAbsent(ctx, sessionGenPrefix+userID, next)
			return err
		}
		_, err = tx.SwapSetting(ctx, sessionGenPrefix+userID, cur, next)
		return err
	})
}

// signOut is POST /ap/signout. The cookie is SameSite=Lax, so another
// site cannot sign a browser out with a cross-site form.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, Code: "invalid_request", Desc: "use POST"})
		return
	}
	if sess := s.readSession(r); sess != nil && sess.UserID != "" {
		if err := s.endSessions(r.Context(), sess.UserID, sess.Gen); err != nil {
			s.tokenInternal(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
