package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// setting returns the value and source --print-config shows for name.
func setting(t *testing.T, printed, name string) (value, source string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+= (.*?)\s+# (\w+)$`).FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("no %s in --print-config:\n%s", name, printed)
	}
	return m[1], m[2]
}

// TestConfigPrecedence: default < file < env < flag, per setting, and the
// printed settings name their sources and mask secrets.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "clouddrive.toml", `
# every layer sets some of these
addr = "127.0.0.1:1111"
public-url = "https://file.example"
log-level = "debug"
rate-per-user = 7.5
gc-grace = "2h"
db = "postgres://drive:hunter2@db.example/drive"
`)
	t.Setenv("CLOUDDRIVE_PUBLIC_URL", "https://env.example")
	t.Setenv("CLOUDDRIVE_LOG_LEVEL", "warn")
	t.Setenv("CLOUDDRIVE_DEFAULT_QUOTA", "5GiB")
	out := mustRun(t, "", "serve", "--config", cfg, "--log-level", "error", "--print-config")

	for _, c := range []struct{ name, value, source string }{
		{"access-token-ttl", `"1h0m0s"`, "default"},
		{"addr", `"127.0.0.1:1111"`, "file"},
		{"gc-grace", `"2h0m0s"`, "file"},
		{"rate-per-user", `7.5`, "file"},
		{"public-url", `"https://env.example"`, "env"},
		{"default-quota", `"5GiB"`, "env"},
		{"log-level", `"error"`, "flag"},
		{"db", `"postgres://drive:*****@db.example/drive"`, "file"},
	} {
		v, s := setting(t, out, c.name)
		if v != c.value || s != c.source {
			t.Errorf("%s = %s (%s), want %s (%s)", c.name, v, s, c.value, c.source)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("--print-config shows the database password:\n%s", out)
	}

	// The file can also come from CLOUDDRIVE_CONFIG.
	t.Setenv("CLOUDDRIVE_CONFIG", cfg)
	if v, s := setting(t, mustRun(t, "", "serve", "--print-config"), "addr"); v != `"127.0.0.1:1111"` || s != "file" {
		t.Errorf("addr via CLOUDDRIVE_CONFIG = %s (%s)", v, s)
	}
}

// TestConfigErrors: a bad setting stops start-up with a message that names
// the setting and where it came from.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, file string
		env        [2]string
		args       []string
		want       string
	}{
		{name: "unknown key", file: "adr = \"x\"\n", want: `unknown setting "adr"`},
		{name: "bad type in file", file: "rate-per-user = \"fast\"\n", want: "setting rate-per-user (from config file"},
		{name: "bad duration in file", file: "gc-grace = \"soon\"\n", want: "setting gc-grace (from config file"},
		{name: "table in file", file: "[server]\naddr = \"x\"\n", want: `unknown setting "server"`},
		{name: "syntax", file: "addr = \n", want: "clouddrive.toml:1"},
		{name: "bad env", env: [2]string{"CLOUDDRIVE_SHUTDOWN_TIMEOUT", "forever"}, want: "setting shutdown-timeout (from CLOUDDRIVE_SHUTDOWN_TIMEOUT="},
		{name: "bad public url", args: []string{"--public-url", "drive.example"}, want: "setting public-url: must start with http"},
		{name: "negative rate", args: []string{"--rate-per-token", "-1"}, want: "setting rate-per-token: must not be negative"},
		{name: "short token ttl", args: []string{"--access-token-ttl", "1s"}, want: "setting access-token-ttl: must be at least 1m0s"},
		{name: "tls half", args: []string{"--tls-cert", "c.pem"}, want: "setting tls-cert and tls-key: give both or neither"},
		{name: "tls missing files", args: []string{"--tls-cert", "nope.pem", "--tls-key", "nope.key"}, want: "setting tls-cert/tls-key:"},
		{name: "quota", args: []string{"--default-quota", "lots"}, want: "setting default-quota:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, c.name)}
			if c.file != "" {
				args = append(args, "--config", writeFile(t, dir, "clouddrive.toml", c.file))
			}
			if c.env[0] != "" {
				t.Setenv(c.env[0], c.env[1])
			}
			args = append(args, c.args...)
			_, _, err := run(t, "", args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestAdminReadsConfig: admin commands take --data from the same file.
func TestAdminReadsConfig(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := writeFile(t, dir, "clouddrive.toml", "data = "+`"`+data+`"`+"\n")
	mustRun(t, "correct horse battery\n", "admin", "user", "add", "--config", cfg, "--password-file", "-", "carol")
	if out := mustRun(t, "", "admin", "user", "list", "--data", data); !strings.Contains(out, "carol") {
		t.Errorf("user made with --config not in %s:\n%s", data, out)
	}
}

// TestExampleConfig: the example file in docs/ is valid.
func TestExampleConfig(t *testing.T) {
	out := mustRun(t, "", "serve", "--config", "../../docs/clouddrive.example.toml", "--print-config")
	if v, s := setting(t, out, "public-url"); v != `"https://drive.example.com"` || s != "file" {
		t.Errorf("public-url = %s (%s)\n%s", v, s, out)
	}
}
