package e2e_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// binaryTest builds the binary for a test that runs it, and returns it
// with a data directory and a bearer token for user on that directory.
func binaryTest(t *testing.T, user string) (bin, data, tok string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	dir := t.TempDir()
	bin, data = buildBinary(t, dir), filepath.Join(dir, "data")
	out, err := exec.Command(bin, "admin", "token", "--data", data, user).Output()
	if err != nil {
		t.Fatalf("admin token: %v", err)
	}
	return bin, data, strings.TrimSpace(string(out))
}

// proc is a running clouddrive binary and its log.
type proc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	log  bytes.Buffer
}

// startServe runs `clouddrive serve` with args on a random port and waits
// until it listens. The process is killed when the test ends.
func startServe(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	addrs := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`"?addr"?[=:]"?(127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addrs <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case p.addr = <-addrs:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start:\n%s", p.logText())
	}
	return p
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// waitLog waits until the log has a line matching re.
func (p *proc) waitLog(t *testing.T, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := rx.FindString(p.logText()); m != "" {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line matching %q:\n%s", re, p.logText())
	return ""
}

// writeCert writes a fresh self-signed certificate for 127.0.0.1 with the
// given common name to certFile and keyFile, and returns it.
func writeCert(t *testing.T, certFile, keyFile, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Write both through temp files and renames, as a certificate renewal
	// tool does, so the server never reads half a file.
	for _, f := range []struct {
		path string
		blk  *pem.Block
	}{{certFile, &pem.Block{Type: "CERTIFICATE", Bytes: der}}, {keyFile, &pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}}} {
		if err := os.WriteFile(f.path+".tmp", pem.EncodeToMemory(f.blk), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f.path+".tmp", f.path); err != nil {
			t.Fatal(err)
		}
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTLSReloadOnSIGHUP: with --tls-cert/--tls-key the binary speaks
// HTTPS, account/endpoint names https URLs, SIGHUP swaps in a renewed
// certificate without a restart, and a broken renewal keeps the old one.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	bin, data, tok := binaryTest(t, "tls")
	certFile, keyFile := filepath.Join(t.TempDir(), "cert.pem"), filepath.Join(t.TempDir(), "key.pem")
	first := writeCert(t, certFile, keyFile, "first")
	p := startServe(t, bin, "--data", data, "--tls-cert", certFile, "--tls-key", keyFile)

	// get fetches account/endpoint over a fresh TLS connection that trusts
	// exactly want, and returns the endpoint.
	get := func(want *x509.Certificate) (*acd.Endpoint, error) {
		pool := x509.NewCertPool()
		pool.AddCert(want)
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
		req, _ := http.NewRequest("GET", "https://"+p.addr+"/drive/v1/account/endpoint", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("account/endpoint = %d %s", resp.StatusCode, b)
		}
		var ep acd.Endpoint
		return &ep, json.NewDecoder(resp.Body).Decode(&ep)
	}
	ep, err := get(first)
	if err != nil {
		t.Fatalf("HTTPS with the first certificate: %v", err)
	}
	if want := "https://" + p.addr + "/"; !strings.HasPrefix(ep.MetadataURL, want) || !strings.HasPrefix(ep.ContentURL, want) {
		t.Errorf("endpoint = %+v, want URLs under %s", ep, want)
	}
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get("http://" + p.addr + "/healthz"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP on the TLS port = 200")
		}
		resp.Body.Close()
	}

	second := writeCert(t, certFile, keyFile, "second")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, `TLS certificate reloaded`)
	if _, err := get(second); err != nil {
		t.Fatalf("HTTPS with the renewed certificate after SIGHUP: %v", err)
	}
	if _, err := get(first); err == nil {
		t.Errorf("the old certificate is still served after SIGHUP")
	}

	// A broken renewal: the server logs it and keeps serving the second.
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, `TLS certificate not reloaded`)
	if _, err := get(second); err != nil {
		t.Fatalf("after a failed reload: %v", err)
	}
}

// TestLogrefInServerLog: the logref of an error body is the request id on
// the server's log lines of that request, so a user's error report can be
// found in the log; and a bearer token never reaches the log.
func TestLogrefInServerLog(t *testing.T) {
	bin, data, tok := binaryTest(t, "logref")
	p := startServe(t, bin, "--data", data, "--log-format", "json")
	for _, c := range []struct {
		method, path, body string
		code               int
	}{
		{"GET", "/drive/v1/nodes/doesnotexist", "", http.StatusNotFound},
		{"POST", "/drive/v1/nodes", `{"name":"x","kind":"FOLDER","parents":["nope"]}`, http.StatusNotFound},
		{"POST", "/drive/v1/nodes", `{"name":`, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(c.method, "http://"+p.addr+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Logref  string `json:"logref"`
			Message string `json:"message"`
		}
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != c.code || e.Logref == "" {
			t.Fatalf("%s %s = %d, logref %q", c.method, c.path, resp.StatusCode, e.Logref)
		}
		// At the default level, the request's access line carries the
		// logref as its request_id, with the method, path and status.
		line := p.waitLog(t, `(?m)^.*"request_id":"`+regexp.QuoteMeta(e.Logref)+`".*$`)
		var rec struct {
			Method, Path string
			Status       int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec.Method != c.method || rec.Path != c.path || rec.Status != c.code {
			t.Errorf("log line of logref %s = %q, want %s %s %d", e.Logref, line, c.method, c.path, c.code)
		}
	}
	// Every request above sent the token; no line may contain it.
	if strings.Contains(p.logText(), tok) {
		t.Errorf("a bearer token reached the log:\n%s", p.logText())
	}
}
