package oauth

import (
	"slices"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// knownScopes are the scopes this server grants, in canonical order.
func knownScopes() []string { return []string{drive.ScopeReadAll, drive.ScopeWrite} }

// parseScope normalises a space-separated scope parameter: the old
// clouddrive:read becomes clouddrive:read_all, duplicates go, the order
// becomes canonical, and an empty parameter means clouddrive:read_all. An
// unknown scope is an error (invalid_scope).
func parseScope(raw string) (string, bool) {
	set := map[string]bool{}
	for _, sc := range strings.Fields(raw) {
		if sc == drive.ScopeRead {
			sc = drive.ScopeReadAll
		}
		if !slices.Contains(knownScopes(), sc) {
			return "", false
		}
		set[sc] = true
	}
	if len(set) == 0 {
		return drive.ScopeReadAll, true
	}
	var out []string
	for _, sc := range knownScopes() {
		if set[sc] {
			out = append(out, sc)
		}
	}
	return strings.Join(out, " "), true
}

// subset reports whether every scope of req is in granted.
func subset(req, granted string) bool {
	g := strings.Fields(granted)
	for _, sc := range strings.Fields(req) {
		if !slices.Contains(g, sc) {
			return false
		}
	}
	return true
}

// scopeInfo describes a scope on the consent page.
type scopeInfo struct{ Name, Description string }

func describeScopes(scope string) []scopeInfo {
	var out []scopeInfo
	for _, sc := range strings.Fields(scope) {
		d := sc
		switch sc {
		case drive.ScopeReadAll:
			d = "See and download all your files and folders"
		case drive.ScopeWrite:
			d = "Upload, change, move, trash and delete your files and folders"
		}
		out = append(out, scopeInfo{Name: sc, Description: d})
	}
	return out
}
