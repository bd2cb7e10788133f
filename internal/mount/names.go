package mount

import (
	"strings"
	"unicode/utf8"
)

// Characters of the name escaping scheme (see the package doc).
const (
	slashSub = '\u2215' // ∕ DIVISION SLASH stands for '/'
	nulSub   = '\u2400' // ␀ SYMBOL FOR NULL stands for NUL
	dotSub   = '\uFF0E' // ． FULLWIDTH FULL STOP stands for '.' in the names "." and ".."
	quote    = '\u201B' // ‛ marks the next character as itself
)

// isSub reports whether r is one of the substitute characters, which
// appear quoted when a remote name holds them literally.
func isSub(r rune) bool { return r == slashSub || r == nulSub || r == quote }

// LocalName returns the name under which a node called remote appears in
// the mount. It is the identity for every name that is valid on Linux
// and holds none of ∕ ␀ ‛; see the package doc for the rest. It is
// injective: distinct remote names never share a local name.
func LocalName(remote string) string {
	switch remote {
	case ".", "..":
		return strings.Repeat(string(dotSub), len(remote))
	case string(dotSub), string(dotSub) + string(dotSub):
		return string(quote) + remote
	}
	if !strings.ContainsFunc(remote, func(r rune) bool { return r == '/' || r == 0 || isSub(r) }) {
		return remote
	}
	var b strings.Builder
	for i := 0; i < len(remote); {
		// Bytes, not runes: invalid UTF-8 passes through unchanged.
		r, n := utf8.DecodeRuneInString(remote[i:])
		switch {
		case r == '/':
			b.WriteRune(slashSub)
		case r == 0:
			b.WriteRune(nulSub)
		case isSub(r):
			b.WriteRune(quote)
			b.WriteString(remote[i : i+n])
		default:
			b.WriteString(remote[i : i+n])
		}
		i += n
	}
	return b.String()
}

// RemoteName returns the remote name of a local name: the inverse of
// LocalName. ok is false for a local name that LocalName never produces
// (a ‛ not followed by ∕, ␀, ‛, or a "．"/"．．" name part) and for names
// Linux does not allow (empty, ".", "..", with '/' or NUL); creating
// such a name fails with EINVAL.
func RemoteName(local string) (remote string, ok bool) {
	if local == "" || local == "." || local == ".." || strings.ContainsAny(local, "/\x00") {
		return "", false
	}
	switch local {
	case string(dotSub):
		return ".", true
	case string(dotSub) + string(dotSub):
		return "..", true
	case string(quote) + string(dotSub), string(quote) + string(dotSub) + string(dotSub):
		return local[len(string(quote)):], true
	}
	if !strings.ContainsFunc(local, isSub) {
		return local, true
	}
	var b strings.Builder
	quoted := false
	for i := 0; i < len(local); {
		r, n := utf8.DecodeRuneInString(local[i:])
		switch {
		case quoted:
			if !isSub(r) {
				return "", false
			}
			b.WriteString(local[i : i+n])
			quoted = false
		case r == quote:
			quoted = true
		case r == slashSub:
			b.WriteByte('/')
		case r == nulSub:
			b.WriteByte(0)
		default:
			b.WriteString(local[i : i+n])
		}
		i += n
	}
	if quoted {
		return "", false
	}
	return b.String(), true
}

// maxNameLength is the longest name a clouddrive server accepts, in
// bytes.
const maxNameLength = 1024

// serverAccepts reports whether a clouddrive server accepts remote as a
// node name: not empty, "." or "..", at most 1024 bytes of UTF-8 without
// '/' or NUL. The mount checks names before any call, since a new file
// reaches the server only at its first close.
func serverAccepts(remote string) bool {
	return remote != "" && remote != "." && remote != ".." && len(remote) <= maxNameLength &&
		utf8.ValidString(remote) && !strings.ContainsAny(remote, "/\x00")
}
