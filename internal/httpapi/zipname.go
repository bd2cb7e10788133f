package httpapi

import "strings"

// zipEntryName returns a node name as one path component of a zip entry
// that every extractor, Windows' included, writes inside the target
// folder under that same name:
//   - '\\' and '/' (path separators), ':' (drive letters, alternate data
//     streams), the other characters Windows forbids (< > " | ? *) and
//     control characters become '_';
//   - trailing dots and spaces, which Windows drops, become '_' (so "."
//     and ".." are "_" and "__", never a step up);
//   - a reserved device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9, COM¹²³,
//     LPT¹²³, CONIN$, CONOUT$, in any case, with any extension) gets '_'
//     after its stem ("nul.txt" is "nul_.txt");
//   - an empty name is "_".
//
// The entry names stay unique: archiver.unique runs on the result.
func zipEntryName(name string) string {
	b := []rune(name)
	for i, r := range b {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`\/:<>"|?*`, r) {
			b[i] = '_'
		}
	}
	for i := len(b) - 1; i >= 0 && (b[i] == '.' || b[i] == ' '); i-- {
		b[i] = '_'
	}
	out := string(b)
	if out == "" {
		return "_"
	}
	if stem, ext, dot := strings.Cut(out, "."); reservedDevice(strings.TrimRight(stem, " ")) {
		out = stem + "_"
		if dot {
			out += "." + ext
		}
	}
	return out
}

// reservedDevice reports whether s is a Windows device name.
func reservedDevice(s string) bool {
	switch strings.ToUpper(s) {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	u := []rune(strings.ToUpper(s))
	if len(u) != 4 || (string(u[:3]) != "COM" && string(u[:3]) != "LPT") {
		return false
	}
	return u[3] >= '0' && u[3] <= '9' || u[3] == '¹' || u[3] == '²' || u[3] == '³'
}
