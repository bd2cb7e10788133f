package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// buildBinary compiles cmd/clouddrive once into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "clouddrive")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/clouddrive/clouddrive/cmd/clouddrive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestGracefulShutdown: SIGTERM in the middle of an upload lets it finish
// within the deadline, refuses new connections, and exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	bin, data, tok := binaryTest(t, "shutdown")
	p := startServe(t, bin, "--data", data, "--shutdown-timeout", "20s")
	srv := p.cmd
	base := "http://" + p.addr

	// A slow upload: 40 chunks of 64 KiB, 50 ms apart (about 2 s).
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	content := randomBytes(40<<16, 3)
	go func() {
		mw.WriteField("metadata", `{"name":"slow.bin","kind":"FILE"}`)
		fw, _ := mw.CreateFormFile("content", "slow.bin")
		for i := 0; i < 40; i++ {
			fw.Write(content[i<<16 : (i+1)<<16])
			time.Sleep(50 * time.Millisecond)
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest("POST", base+"/cdproxy/nodes", pr)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	type result struct {
		code int
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- result{code: resp.StatusCode, body: b}
	}()
	time.Sleep(400 * time.Millisecond)
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	// New connections are refused once shutdown began.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	nreq, _ := http.NewRequestWithContext(ctx, "GET", base+"/healthz", nil)
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := fresh.Do(nreq); err == nil {
		resp.Body.Close()
		t.Errorf("a new request after SIGTERM got %d, want a refused connection", resp.StatusCode)
	}
	r := <-done
	if r.err != nil || r.code != http.StatusCreated {
		t.Fatalf("in-flight upload = %d %s %v, want 201", r.code, r.body, r.err)
	}
	var n acd.Node
	if err := json.Unmarshal(r.body, &n); err != nil || n.ContentProperties.MD5 != md5hex(content) {
		t.Errorf("uploaded node = %+v, %v", n, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("server exit: %v\n%s", err, p.logText())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit after the upload finished")
	}
}
