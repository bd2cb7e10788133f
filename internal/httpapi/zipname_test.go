package httpapi

import (
	"strings"
	"testing"
)

// Zip entry names are what an extractor writes to disk: no name may
// escape the folder or mean something else on Windows.
func TestZipEntryName(t *testing.T) {
	for in, want := range map[string]string{
		"report.txt":           "report.txt",
		"Straße ü.txt":         "Straße ü.txt",
		`..\..\evil.exe`:       ".._.._evil.exe",
		`a\b`:                  "a_b",
		`C:\Windows\x.dll`:     "C__Windows_x.dll",
		"C:":                   "C_",
		"c:evil":               "c_evil",
		"/etc/passwd":          "_etc_passwd",
		"a/b":                  "a_b",
		"..":                   "__",
		".":                    "_",
		"...":                  "___",
		"name.":                "name_",
		"name ":                "name_",
		"name. .":              "name___",
		".profile":             ".profile",
		`a<b>c:d"e|f?g*h`:      "a_b_c_d_e_f_g_h",
		"tab\there":            "tab_here",
		"nul\x00byte":          "nul_byte",
		"del\x7f":              "del_",
		"CON":                  "CON_",
		"con":                  "con_",
		"Nul.txt":              "Nul_.txt",
		"aux.tar.gz":           "aux_.tar.gz",
		"PRN ":                 "PRN_",
		"COM1":                 "COM1_",
		"lpt9.log":             "lpt9_.log",
		"COM¹":                 "COM¹_",
		"CONIN$":               "CONIN$_",
		"CONOUT$.txt":          "CONOUT$_.txt",
		"COM0.txt":             "COM0_.txt",
		"CONSOLE":              "CONSOLE",
		"nul .txt":             "nul _.txt",
		"":                     "_",
		"\u202eexe.txt":        "\u202eexe.txt",
		strings.Repeat("a", 3): "aaa",
	} {
		if got := zipEntryName(in); got != want {
			t.Errorf("zipEntryName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Names that become equal once made safe still get distinct entries.
func TestZipEntryNamesUnique(t *testing.T) {
	a := &archiver{names: map[string]bool{}}
	seen := map[string]bool{}
	for _, in := range []string{"a:b", "a_b", `a\b`, "A?B", "con", "CON_", "x.", "x_", "X "} {
		got := a.unique(zipEntryName(in), false)
		if seen[strings.ToLower(got)] {
			t.Errorf("%q: entry %q written twice", in, got)
		}
		seen[strings.ToLower(got)] = true
	}
}
