package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// run executes the clouddrive command line in-process with stdin and
// returns stdout, stderr and the error.
func run(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot(&out, &errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// mustRun is run that fails the test on error.
func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, stdin, args...)
	if err != nil {
		t.Fatalf("clouddrive %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// inspect opens the data directory's store and runs fn in a View.
func inspect(t *testing.T, data string, fn func(ctx context.Context, tx meta.Tx) error) {
	t.Helper()
	ctx := t.Context()
	m, err := app.OpenMeta(ctx, app.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.View(ctx, func(tx meta.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAdminUser(t *testing.T) {
	data := t.TempDir()
	pw := writeFile(t, t.TempDir(), "pw", "correct horse battery\n")

	out := mustRun(t, "", "admin", "user", "add", "alice", "--data", data, "--password-file", pw)
	if !strings.HasPrefix(out, "created user alice") {
		t.Errorf("user add printed %q", out)
	}
	// From standard input with "-", CRLF tolerated.
	mustRun(t, "bob's password\r\n", "admin", "user", "add", "bob", "--data", data, "--password-file", "-")
	var alice *drive.User
	inspect(t, data, func(ctx context.Context, tx meta.Tx) error {
		var err error
		if alice, err = tx.UserByName(ctx, "alice"); err != nil {
			return err
		}
		for name, want := range map[string]string{"alice": "correct horse battery", "bob": "bob's password"} {
			u, err := tx.UserByName(ctx, name)
			if err != nil {
				return err
			}
			h, err := tx.UserPassword(ctx, u.ID)
			if err != nil {
				return err
			}
			if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
				t.Errorf("stored password of %s = %q, want an argon2id PHC string", name, h)
			}
			if ok, err := auth.VerifyPassword(h, want); !ok || err != nil {
				t.Errorf("VerifyPassword(%s's hash, their password) = %t, %v", name, ok, err)
			}
		}
		return nil
	})
	if _, _, err := run(t, "", "admin", "user", "add", "alice", "--data", data, "--password-file", pw); err == nil ||
		!strings.Contains(err.Error(), "already exists") {
		t.Errorf("adding alice twice = %v, want an 'already exists' error", err)
	}
	short := writeFile(t, t.TempDir(), "short", "short\n")
	if _, _, err := run(t, "", "admin", "user", "add", "carol", "--data", data, "--password-file", short); !drive.Is(drive.Invalid, err) {
		t.Errorf("user add with a 5-character password = %v, want Invalid", err)
	}
	if _, _, err := run(t, "", "admin", "user", "add", "carol", "--data", data); err == nil || !strings.Contains(err.Error(), "--password-file") {
		t.Errorf("user add without a terminal or --password-file = %v, want an error naming --password-file", err)
	}

	list := mustRun(t, "", "admin", "user", "list", "--data", data)
	if !regexp.MustCompile(`(?m)^alice\s+`+alice.ID+`\s+active\s+yes\s+unlimited\s`).MatchString(list) ||
		!regexp.MustCompile(`(?m)^bob\s+\S+\s+active\s+yes`).MatchString(list) || strings.Contains(list, "carol") {
		t.Errorf("user list =\n%s", list)
	}

	mustRun(t, "", "admin", "user", "disable", "alice", "--data", data)
	if list := mustRun(t, "", "admin", "user", "list", "--data", data); !regexp.MustCompile(`(?m)^alice\s+\S+\s+disabled`).MatchString(list) {
		t.Errorf("user list after disable =\n%s", list)
	}
	mustRun(t, "", "admin", "user", "enable", "alice", "--data", data)
	if list := mustRun(t, "", "admin", "user", "list", "--data", data); !regexp.MustCompile(`(?m)^alice\s+\S+\s+active`).MatchString(list) {
		t.Errorf("user list after enable =\n%s", list)
	}
	if _, _, err := run(t, "", "admin", "user", "disable", "nobody", "--data", data); !drive.Is(drive.NotFound, err) {
		t.Errorf("disable nobody = %v, want NotFound", err)
	}

	newPW := writeFile(t, t.TempDir(), "new", "a brand new password")
	mustRun(t, "", "admin", "user", "passwd", "alice", "--data", data, "--password-file", newPW)
	inspect(t, data, func(ctx context.Context, tx meta.Tx) error {
		h, err := tx.UserPassword(ctx, alice.ID)
		if ok, _ := auth.VerifyPassword(h, "a brand new password"); !ok {
			t.Errorf("password after passwd does not verify")
		}
		return err
	})

	// Deleting asks for the name; a wrong answer deletes nothing.
	_, prompt, err := run(t, "alcie\n", "admin", "user", "delete", "alice", "--data", data)
	if err == nil || !strings.Contains(prompt, "Type the user name to confirm") {
		t.Errorf("delete with a wrong confirmation = %v (prompt %q), want an error after the prompt", err, prompt)
	}
	if _, _, err := run(t, "", "admin", "user", "delete", "alice", "--data", data); err == nil {
		t.Errorf("delete with no confirmation at all succeeded")
	}
	inspect(t, data, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.UserByName(ctx, "alice")
		return err
	})
	out = mustRun(t, "alice\n", "admin", "user", "delete", "alice", "--data", data)
	if !strings.Contains(out, "deleted user alice") {
		t.Errorf("delete printed %q", out)
	}
	mustRun(t, "", "admin", "user", "delete", "bob", "--data", data, "--yes")
	inspect(t, data, func(ctx context.Context, tx meta.Tx) error {
		for _, name := range []string{"alice", "bob"} {
			if _, err := tx.UserByName(ctx, name); !drive.Is(drive.NotFound, err) {
				t.Errorf("UserByName(%s) after delete = %v, want NotFound", name, err)
			}
		}
		if _, err := tx.Node(ctx, alice.ID, alice.RootID); !drive.Is(drive.NotFound, err) {
			t.Errorf("alice's root after delete = %v, want NotFound", err)
		}
		return nil
	})
	if _, _, err := run(t, "", "admin", "user", "delete", "alice", "--data", data, "--yes"); !drive.Is(drive.NotFound, err) {
		t.Errorf("deleting a missing user = %v, want NotFound", err)
	}
}

func TestAdminApp(t *testing.T) {
	data := t.TempDir()
	out, errOut, err := run(t, "", "admin", "app", "add", "rclone", "--data", data,
		"--redirect-uri", "http://127.0.0.1:53682/", "--redirect-uri", "https://rclone.example/cb")
	if err != nil {
		t.Fatalf("app add: %v", err)
	}
	m := regexp.MustCompile(`^client_id: (app-[0-9a-f]{24})\nclient_secret: (cds-[A-Za-z0-9_-]{43})\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("app add printed %q, want client_id and client_secret lines", out)
	}
	if !strings.Contains(errOut, "shown only once") {
		t.Errorf("app add did not warn that the secret is shown once: %q", errOut)
	}
	clientID, secret := m[1], m[2]
	inspect(t, data, func(ctx context.Context, tx meta.Tx) error {
		a, err := tx.App(ctx, clientID)
		if err != nil {
			return err
		}
		if a.SecretHash != auth.Hash(secret) || strings.Contains(a.SecretHash, secret) || a.Public || a.Name != "rclone" ||
			len(a.RedirectURIs) != 2 {
			t.Errorf("stored app = %+v", a)
		}
		return nil
	})

	out = mustRun(t, "", "admin", "app", "add", "tv", "--public", "--redirect-uri", "http://127.0.0.1/cb", "--data", data)
	if !regexp.MustCompile(`^client_id: app-[0-9a-f]{24}\n$`).MatchString(out) {
		t.Errorf("app add --public printed %q, want only a client_id", out)
	}
	for _, args := range [][]string{
		{"admin", "app", "add", "bad", "--redirect-uri", "javascript:alert(1)"},
		{"admin", "app", "add", "bad", "--redirect-uri", "/relative"},
		{"admin", "app", "add", "bad"},
		{"admin", "app", "add", "rclone", "--redirect-uri", "https://dup.example/cb"},
	} {
		if _, _, err := run(t, "", append(args, "--data", data)...); err == nil {
			t.Errorf("clouddrive %s succeeded, want an error", strings.Join(args, " "))
		}
	}

	list := mustRun(t, "", "admin", "app", "list", "--data", data)
	for _, re := range []string{
		`(?m)^clouddrive-cli\s+clouddrive-cli\s+public, first-party\s+http://127.0.0.1/callback http://localhost/callback$`,
		`(?m)^clouddrive-web\s+clouddrive-web\s+public, first-party\s+/ui/callback$`,
		`(?m)^rclone\s+` + clientID + `\s+confidential\s+http://127.0.0.1:53682/ https://rclone.example/cb$`,
		`(?m)^tv\s+app-\S+\s+public\s+http://127.0.0.1/cb$`,
	} {
		if !regexp.MustCompile(re).MatchString(list) {
			t.Errorf("app list lacks %s:\n%s", re, list)
		}
	}

	if _, _, err := run(t, "", "admin", "app", "delete", "clouddrive-cli", "--data", data); !drive.Is(drive.Forbidden, err) {
		t.Errorf("deleting a first-party app = %v, want Forbidden", err)
	}
	mustRun(t, "", "admin", "app", "delete", "rclone", "--data", data)
	mustRun(t, "", "admin", "app", "delete", "tv", "--data", data)
	if _, _, err := run(t, "", "admin", "app", "delete", clientID, "--data", data); !drive.Is(drive.NotFound, err) {
		t.Errorf("deleting a deleted app = %v, want NotFound", err)
	}
	if list := mustRun(t, "", "admin", "app", "list", "--data", data); strings.Contains(list, "rclone") || strings.Contains(list, "tv ") {
		t.Errorf("app list after delete:\n%s", list)
	}
}

// TestAdminTokenUnchanged checks that `admin token` still mints a token
// for the first-party admin app, beside the new commands.
func TestAdminTokenUnchanged(t *testing.T) {
	data := t.TempDir()
	out := mustRun(t, "", "admin", "token", "alice", "--data", data)
	tok := strings.TrimSpace(out)
	if !strings.HasPrefix(tok, "Atza|") || strings.Count(out, "\n") != 1 {
		t.Fatalf("admin token printed %q, want one Atza| line", out)
	}
	ctx := t.Context()
	m, err := app.OpenMeta(ctx, app.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := (&auth.Tokens{Meta: m, Now: time.Now}).Authenticate(ctx, tok)
	if err != nil {
		t.Fatalf("Authenticate(admin token): %v", err)
	}
	if p.App != auth.AdminClientID || !p.CanWrite() {
		t.Errorf("admin token principal = %+v, want app %s with the write scope", p, auth.AdminClientID)
	}
}
