package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rcloneValues = map[string]string{"type": rcloneRemoteType, "client_id": "app-1", "client_secret": "cds-2",
	"token": `{"access_token":"a"}`, "auth_url": "http://s/ap/oa", "token_url": "http://s/auth/o2/token"}

var rcloneKeys = []string{"type", "client_id", "client_secret", "token", "auth_url", "token_url"}

const rcloneSection = `[acd]
type = amazon cloud drive
client_id = app-1
client_secret = cds-2
token = {"access_token":"a"}
auth_url = http://s/ap/oa
token_url = http://s/auth/o2/token
`

func TestSetRcloneRemote(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"new file", "", rcloneSection},
		{"appended after other remotes", "[gd]\ntype = drive\nscope = drive\n\n\n",
			"[gd]\ntype = drive\nscope = drive\n\n" + rcloneSection},
		{"replaced in place, other keys and remotes kept",
			"[a]\ntype = local\n\n[acd]\ntype = amazon cloud drive\nclient_id = old\n# a comment\ntoken = {\"old\":1}\n" +
				"templink_threshold = 1G\n\n[z]\ntype = local\n",
			"[a]\ntype = local\n\n[acd]\ntype = amazon cloud drive\nclient_id = app-1\n# a comment\ntoken = {\"access_token\":\"a\"}\n" +
				"templink_threshold = 1G\nclient_secret = cds-2\nauth_url = http://s/ap/oa\ntoken_url = http://s/auth/o2/token\n\n[z]\ntype = local\n"},
		{"CRLF and a last section without newline", "[x]\r\ntype = local", "[x]\ntype = local\n\n" + rcloneSection},
		{"repeated key kept once", "[acd]\ntoken = 1\ntoken = 2\n", "[acd]\ntoken = {\"access_token\":\"a\"}\n" +
			"type = amazon cloud drive\nclient_id = app-1\nclient_secret = cds-2\nauth_url = http://s/ap/oa\ntoken_url = http://s/auth/o2/token\n"},
	} {
		got, err := setRcloneRemote(tc.in, "acd", rcloneKeys, rcloneValues)
		if err != nil || got != tc.want {
			t.Errorf("%s: setRcloneRemote = %v\n%s\nwant\n%s", tc.name, err, got, tc.want)
		}
	}
	if _, err := setRcloneRemote("[acd]\ntype = drive\n", "acd", rcloneKeys, rcloneValues); err == nil || !strings.Contains(err.Error(), "another name") {
		t.Errorf("remote of another type: %v; want a refusal", err)
	}
	if _, err := setRcloneRemote("# Encrypted rclone configuration File\n\nRCLONE_ENCRYPT_V0:\nabc", "acd", rcloneKeys, rcloneValues); err == nil ||
		!strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted config: %v; want a refusal", err)
	}
}

func TestValidRemoteName(t *testing.T) {
	for _, ok := range []string{"acd", "my-acd_2", "a.b+c@d", "with space", "ünï"} {
		if err := validRemoteName(ok); err != nil {
			t.Errorf("validRemoteName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", " x", "x ", "a:b", "a/b", "[x]", "a=b"} {
		if err := validRemoteName(bad); err == nil {
			t.Errorf("validRemoteName(%q) accepted it", bad)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/home/a/.config/clouddrive/shim/ca.pem": "/home/a/.config/clouddrive/shim/ca.pem",
		"acd:":                                   "acd:",
		"my remote:":                             "'my remote:'",
		"it's":                                   `'it'\''s'`,
		"":                                       "''",
		"$HOME":                                  "'$HOME'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRcloneConfigPath(t *testing.T) {
	home := t.TempDir()
	xdg := t.TempDir()
	env := func(vars map[string]string) *Env { return &Env{Getenv: func(k string) string { return vars[k] }} }
	path := func(vars map[string]string) string {
		t.Helper()
		p, err := env(vars).rcloneConfigPath()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if got := path(map[string]string{"RCLONE_CONFIG": "/x/r.conf", "HOME": home}); got != "/x/r.conf" {
		t.Errorf("with RCLONE_CONFIG: %s", got)
	}
	if got, want := path(map[string]string{"HOME": home}), filepath.Join(home, ".config", "rclone", "rclone.conf"); got != want {
		t.Errorf("new config: %s, want %s", got, want)
	}
	if got, want := path(map[string]string{"HOME": home, "XDG_CONFIG_HOME": xdg}), filepath.Join(xdg, "rclone", "rclone.conf"); got != want {
		t.Errorf("new config with XDG_CONFIG_HOME: %s, want %s", got, want)
	}
	old := filepath.Join(home, ".rclone.conf")
	if err := os.WriteFile(old, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := path(map[string]string{"HOME": home, "XDG_CONFIG_HOME": xdg}); got != old {
		t.Errorf("existing ~/.rclone.conf: %s", got)
	}
	dot := filepath.Join(home, ".config", "rclone", "rclone.conf")
	if err := os.MkdirAll(filepath.Dir(dot), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dot, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := path(map[string]string{"HOME": home, "XDG_CONFIG_HOME": xdg}); got != dot {
		t.Errorf("existing ~/.config/rclone/rclone.conf: %s", got)
	}
	if _, err := env(map[string]string{}).rcloneConfigPath(); err == nil {
		t.Errorf("no HOME: want an error asking for --rclone-config")
	}
}
