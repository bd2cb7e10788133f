package main

import (
	"context"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/internal/meta"
)

func TestAdminUserQuota(t *testing.T) {
	data := t.TempDir()
	mustRun(t, "", "admin", "token", "--data", data, "qa")
	if out := mustRun(t, "", "admin", "user", "quota", "--data", data, "qa"); !strings.Contains(out, "quota unlimited") {
		t.Errorf("quota of a new user = %q, want unlimited", out)
	}
	if out := mustRun(t, "", "admin", "user", "quota", "--data", data, "qa", "1.5KiB"); !strings.Contains(out, "quota 1536 bytes") {
		t.Errorf("set quota = %q", out)
	}
	inspect(t, data, func(ctx context.Context, tx meta.Tx) error {
		u, err := tx.UserByName(ctx, "qa")
		if err == nil && u.Quota != 1536 {
			t.Errorf("stored quota = %d, want 1536", u.Quota)
		}
		return err
	})
	if _, _, err := run(t, "", "admin", "user", "quota", "--data", data, "qa", "lots"); err == nil {
		t.Error("quota lots accepted")
	}
	if _, _, err := run(t, "", "admin", "user", "quota", "--data", data, "nobody", "1GB"); err == nil {
		t.Error("quota of a missing user accepted")
	}
}
