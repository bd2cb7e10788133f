package crashtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// TestCheckStoreDetects makes sure the storage checks catch what they are
// meant to catch: a corrupt blob, a missing blob and a leftover temporary
// file.
func TestCheckStoreDetects(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	tok := s.Token("check")
	p, err := s.App.Tokens.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	ctx := drivetestContext(p)
	n, err := s.App.Nodes.Upload(ctx, nodes.NewNode{Name: "a.txt"}, strings.NewReader("some content"), nodes.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(want string) {
		t.Helper()
		var v violations
		if _, err := checkStore(context.Background(), s.DataDir, &v); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(v, "\n")
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("violations = %q, want %q", got, want)
		}
	}
	check("")
	key := n.Content.BlobKey
	path := filepath.Join(s.DataDir, "blobs", key[:2], key[2:4], key)
	if err := os.WriteFile(path, []byte("some c0ntent"), 0o600); err != nil {
		t.Fatal(err)
	}
	check("corrupt or partial blob")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	check("points at missing blob")
	if err := os.WriteFile(filepath.Join(s.DataDir, "blobs", "tmp", "put-1"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	check("temporary file")
}

func drivetestContext(p drive.Principal) context.Context {
	return drive.NewContext(context.Background(), p)
}
