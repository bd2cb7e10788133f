package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/oauth"
)

// This file drives the real rclone binary, release v1.65.2 (the last one
// with the "amazon cloud drive" backend), against a test server. rclone
// is not a dependency of this module: scripts/rclone-compat.sh builds it
// with `go install` into ~/.cache/clouddrive-ci/bin and points
// CLOUDDRIVE_TEST_RCLONE at it. Without that variable the tests skip.
//
// rclone's only hard-coded URL is the bootstrap call
// https://drive.amazonaws.com/drive/v1/account/endpoint; every later call
// follows the metadataUrl and contentUrl the server returns, which are the
// test server's plain http://127.0.0.1:PORT/ URLs. The tests intercept
// that one call with an HTTPS CONNECT proxy (HTTPS_PROXY for the rclone
// process) that terminates TLS for drive.amazonaws.com with a certificate
// from a throwaway CA (passed with rclone's --ca-cert) and forwards the
// request to the test server. Nothing leaves the machine: the proxy
// refuses every other host, and every other path on drive.amazonaws.com.

// envRclone names the variable holding the path of the rclone binary.
const envRclone = "CLOUDDRIVE_TEST_RCLONE"

// envRcloneLogs, if set, names a directory where every rclone command's
// arguments, output and -vv log are saved, one file per command.
const envRcloneLogs = "CLOUDDRIVE_TEST_RCLONE_LOGS"

// acdBootstrapHost is the host go-acd asks for the account endpoints.
const acdBootstrapHost = "drive.amazonaws.com"

// ---------------------------------------------------------------------------
// The CONNECT proxy that intercepts the bootstrap call.

// bootstrapProxy is an HTTP proxy that accepts only CONNECT to
// drive.amazonaws.com:443, terminates TLS there with a certificate signed
// by its own CA, and forwards GET /drive/v1/account/endpoint to target.
type bootstrapProxy struct {
	URL    string // http://127.0.0.1:PORT, for HTTPS_PROXY
	CAFile string // PEM of the throwaway CA, for --ca-cert
	caPool *x509.CertPool

	target *url.URL
	tlsCfg *tls.Config
	fwd    *http.Transport
	srv    *http.Server

	mu        sync.Mutex
	conns     map[net.Conn]bool
	forwarded []string // requests forwarded to target
	refused   []string // everything else that reached the proxy
}

// newBootstrapProxy starts a proxy forwarding the bootstrap call to the
// server at target (http://host:port); it stops when t ends.
func newBootstrapProxy(t *testing.T, target string) *bootstrapProxy {
	t.Helper()
	tu, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "clouddrive e2e throwaway CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: acdBootstrapHost},
		DNSNames:     []string{acdBootstrapHost},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)

	p := &bootstrapProxy{
		CAFile: caFile,
		caPool: pool,
		target: tu,
		// No NextProtos: the client speaks HTTP/1.1 inside the tunnel.
		tlsCfg: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}},
			MinVersion:   tls.VersionTLS12,
		},
		fwd:   &http.Transport{Proxy: nil},
		conns: map[net.Conn]bool{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.URL = "http://" + ln.Addr().String()
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	t.Cleanup(p.close)
	return p
}

func (p *bootstrapProxy) close() {
	_ = p.srv.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.fwd.CloseIdleConnections()
}

func (p *bootstrapProxy) note(list *[]string, s string) {
	p.mu.Lock()
	*list = append(*list, s)
	p.mu.Unlock()
}

// take returns and clears what the proxy forwarded and refused.
func (p *bootstrapProxy) take() (forwarded, refused []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	forwarded, refused = p.forwarded, p.refused
	p.forwarded, p.refused = nil, nil
	return forwarded, refused
}

func (p *bootstrapProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect || r.Host != acdBootstrapHost+":443" {
		p.note(&p.refused, r.Method+" "+r.Host+" "+r.URL.String())
		http.Error(w, "this test proxy only intercepts CONNECT "+acdBootstrapHost+":443", http.StatusForbidden)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	p.mu.Lock()
	p.conns[conn] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, conn)
		p.mu.Unlock()
		_ = conn.Close()
	}()
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	tc := tls.Server(readerConn{conn, rw.Reader}, p.tlsCfg)
	if err := tc.Handshake(); err != nil {
		p.note(&p.refused, "TLS handshake: "+err.Error())
		return
	}
	br := bufio.NewReader(tc)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.Method != http.MethodGet || req.URL.Path != "/drive/v1/account/endpoint" {
			// rclone must follow the server's URLs after the bootstrap.
			p.note(&p.refused, req.Method+" https://"+acdBootstrapHost+req.URL.RequestURI())
			msg := "only the account/endpoint bootstrap is intercepted"
			resp := &http.Response{StatusCode: http.StatusForbidden, ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{"Content-Type": {"text/plain"}}, ContentLength: int64(len(msg)),
				Body: io.NopCloser(strings.NewReader(msg)), Close: true}
			_ = resp.Write(tc)
			return
		}
		p.note(&p.forwarded, req.Method+" "+req.URL.RequestURI())
		req.URL.Scheme, req.URL.Host = p.target.Scheme, p.target.Host
		req.Host = p.target.Host
		req.RequestURI = ""
		resp, err := p.fwd.RoundTrip(req)
		if err != nil {
			p.note(&p.refused, "forwarding: "+err.Error())
			return
		}
		err = resp.Write(tc)
		resp.Body.Close()
		if err != nil || req.Close || resp.Close {
			return
		}
	}
}

// readerConn reads through the buffered reader of a hijacked connection,
// in case bytes arrived behind the CONNECT request.
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c readerConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// ---------------------------------------------------------------------------
// The rclone harness.

// rcloneEnv is one test server, one user, the proxy, and an rclone config
// whose remote "acd:" is that user's drive.
type rcloneEnv struct {
	t      *testing.T
	s      *drivetest.Server
	bin    string
	dir    string // scratch directory: config, HOME, local trees
	config string
	proxy  *bootstrapProxy
	api    api
	root   string // the user's root folder id
	runs   int    // rclone commands run, for log file names
}

// on returns e for use in subtest t: helpers report failures to t.
func (e *rcloneEnv) on(t *testing.T) *rcloneEnv {
	c := *e
	c.t, c.api.t = t, t
	return &c
}

// rcloneBinary returns the rclone binary named by CLOUDDRIVE_TEST_RCLONE,
// or skips the test.
func rcloneBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(envRclone)
	if bin == "" {
		t.Skip(envRclone + " is not set: these tests run the real rclone v1.65.2 binary " +
			"(its amazon cloud drive backend); scripts/rclone-compat.sh builds it and runs them")
	}
	if testing.Short() {
		t.Skip("drives the real rclone binary")
	}
	return bin
}

func newRcloneEnv(t *testing.T) *rcloneEnv {
	t.Helper()
	bin := rcloneBinary(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", bin, err, out)
	}
	t.Logf("%s", bytes.SplitN(out, []byte("\n"), 2)[0])
	if out, err := exec.Command(bin, "help", "backend", "amazon cloud drive").CombinedOutput(); err != nil {
		t.Fatalf("%s has no \"amazon cloud drive\" backend (it was removed after v1.65.2; build v1.65.2 "+
			"with scripts/rclone-compat.sh): %v\n%s", bin, err, out)
	}

	s := drivetest.New(t, drivetest.Options{})
	tok := s.Token("rclone")
	e := &rcloneEnv{t: t, s: s, bin: bin, dir: t.TempDir(), api: api{t, s.URL, tok}}
	e.proxy = newBootstrapProxy(t, s.URL)
	e.checkProxy(tok)

	var list acd.NodeList
	if code, raw := e.api.do("GET", "/drive/v1/nodes?filters=isRoot:true", nil, &list); code != http.StatusOK || len(list.Data) != 1 {
		t.Fatalf("root lookup = %d %s", code, raw)
	}
	e.root = list.Data[0].ID

	// The token rclone starts with never expires in its eyes, so it never
	// refreshes; token_url points at the server in case it does anyway.
	e.config = filepath.Join(e.dir, "rclone.conf")
	e.writeConfig("rclone-e2e", "rclone-e2e-secret", rcloneToken{AccessToken: tok, TokenType: "Bearer",
		RefreshToken: "rclone-e2e-unused-refresh-token", Expiry: time.Now().Add(100 * 365 * 24 * time.Hour).UTC()})
	for _, d := range []string{"home", "cache", "xdgconfig"} {
		if err := os.Mkdir(filepath.Join(e.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// rcloneToken is the JSON of the token in rclone's config (x/oauth2's
// Token).
type rcloneToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry"`
}

// writeConfig writes rclone's config file: one remote "acd" whose OAuth
// endpoints are the test server's.
func (e *rcloneEnv) writeConfig(clientID, clientSecret string, tok rcloneToken) {
	e.t.Helper()
	j, _ := json.Marshal(tok)
	conf := fmt.Sprintf("[acd]\ntype = amazon cloud drive\nclient_id = %s\nclient_secret = %s\n"+
		"auth_url = %s/ap/oa\ntoken_url = %s/auth/o2/token\ntoken = %s\n", clientID, clientSecret, e.s.URL, e.s.URL, j)
	if err := os.WriteFile(e.config, []byte(conf), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// configToken reads the token back from rclone's config file.
func (e *rcloneEnv) configToken() rcloneToken {
	e.t.Helper()
	b, err := os.ReadFile(e.config)
	if err != nil {
		e.t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "token = "); ok {
			var tok rcloneToken
			if err := json.Unmarshal([]byte(v), &tok); err != nil {
				e.t.Fatalf("token in rclone's config: %v: %q", err, v)
			}
			return tok
		}
	}
	e.t.Fatalf("rclone's config has no token:\n%s", b)
	return rcloneToken{}
}

// checkProxy makes the bootstrap call through the proxy with Go's own
// client, so that a broken proxy is not mistaken for an rclone failure.
func (e *rcloneEnv) checkProxy(tok string) {
	e.t.Helper()
	pu, _ := url.Parse(e.proxy.URL)
	tr := &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: e.proxy.caPool}}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", "https://"+acdBootstrapHost+"/drive/v1/account/endpoint", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatalf("bootstrap through the proxy: %v", err)
	}
	defer resp.Body.Close()
	var ep acd.Endpoint
	if err := json.NewDecoder(resp.Body).Decode(&ep); err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("bootstrap through the proxy = %d, %v", resp.StatusCode, err)
	}
	if ep.MetadataURL != e.s.MetadataURL() || ep.ContentURL != e.s.ContentURL() {
		e.t.Fatalf("bootstrap through the proxy returned %+v; want the test server's own URLs", ep)
	}
	e.proxy.take()
}

// environ is the rclone process's environment: ours without proxy or
// RCLONE_ settings, plus the proxy for the bootstrap only.
func (e *rcloneEnv) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch uk := strings.ToUpper(k); {
		case strings.HasPrefix(uk, "RCLONE_"), uk == "HTTP_PROXY", uk == "HTTPS_PROXY", uk == "NO_PROXY",
			uk == "ALL_PROXY", uk == "HOME", uk == "XDG_CACHE_HOME", uk == "XDG_CONFIG_HOME":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HTTPS_PROXY="+e.proxy.URL, "https_proxy="+e.proxy.URL,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"HOME="+filepath.Join(e.dir, "home"),
		"XDG_CACHE_HOME="+filepath.Join(e.dir, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(e.dir, "xdgconfig"),
	)
}

// rcloneRun is the outcome of one rclone command.
type rcloneRun struct {
	args   []string
	stdout string
	log    string // stderr: the -vv log
	err    error
}

func (r rcloneRun) String() string {
	return fmt.Sprintf("rclone %q: %v\n--- stdout ---\n%s\n--- -vv log ---\n%s", r.args, r.err, r.stdout, r.log)
}

// exec runs rclone with args plus the harness's global flags. A server
// error fails fast: one try of the whole command and three low-level
// tries, instead of rclone's ten with exponential back-off.
func (e *rcloneEnv) exec(args ...string) rcloneRun {
	e.t.Helper()
	full := append(slices.Clone(args), "--config", e.config, "--ca-cert", e.proxy.CAFile,
		"-vv", "--retries", "1", "--low-level-retries", "3", "--stats", "0")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, full...)
	cmd.Env = e.environ()
	cmd.Dir = e.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := rcloneRun{args: args, stdout: stdout.String(), log: stderr.String(), err: err}
	if dir := os.Getenv(envRcloneLogs); dir != "" {
		e.runs++
		name := fmt.Sprintf("%s-%03d-%s.log", strings.ReplaceAll(e.t.Name(), "/", "_"), e.runs, args[0])
		if werr := os.WriteFile(filepath.Join(dir, name), []byte(r.String()), 0o644); werr != nil {
			e.t.Errorf("saving the rclone log: %v", werr)
		}
	}

	// Every rclone command here opens the acd remote, so each makes the
	// bootstrap call through the proxy, and nothing else goes there.
	fwd, refused := e.proxy.take()
	if len(refused) > 0 {
		e.t.Errorf("rclone %q sent the proxy something besides the bootstrap call: %q\n%s", args, refused, r)
	}
	if len(fwd) == 0 {
		e.t.Errorf("rclone %q never made the bootstrap call through the proxy\n%s", args, r)
	}
	return r
}

// run runs rclone and fails the test if it fails, or if it succeeded only
// after retrying: a retry means the server answered a retryable error
// (400, 401, 408, 429, 5xx) that a compatible server never sends here.
func (e *rcloneEnv) run(args ...string) rcloneRun {
	e.t.Helper()
	r := e.exec(args...)
	if r.err != nil {
		e.t.Fatalf("%s", r)
	}
	for _, bad := range []string{" ERROR : ", "low level retry"} {
		if strings.Contains(r.log, bad) {
			e.t.Errorf("rclone %q succeeded, but its log has %q:\n%s", args, bad, r)
			break
		}
	}
	return r
}

// ---------------------------------------------------------------------------
// Trees: local directories and the server's view of a folder.

// rcEntry is a file or folder in a tree, keyed by slash-separated path.
type rcEntry struct {
	Dir  bool
	Size int64
	MD5  string
	ID   string // server trees only
}

// rcLocalTree walks dir.
func rcLocalTree(t *testing.T, dir string) map[string]rcEntry {
	t.Helper()
	m := map[string]rcEntry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			m[rel] = rcEntry{Dir: true}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m[rel] = rcEntry{Size: int64(len(b)), MD5: md5hex(b)}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rcCountFiles counts the files (not folders) of a tree.
func rcCountFiles(m map[string]rcEntry) int {
	n := 0
	for _, en := range m {
		if !en.Dir {
			n++
		}
	}
	return n
}

// rcWriteTree writes files (path → content) under dir, and makes dirs.
func rcWriteTree(t *testing.T, dir string, files map[string][]byte, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// children lists every AVAILABLE child of folder id, page by page.
func (e *rcloneEnv) children(id string) []*acd.Node {
	e.t.Helper()
	var all []*acd.Node
	next := ""
	for range 1000 {
		q := url.Values{"limit": {"50"}}
		if next != "" {
			q.Set("startToken", next)
		}
		var list acd.NodeList
		code, raw := e.api.do("GET", "/drive/v1/nodes/"+id+"/children?"+q.Encode(), nil, &list)
		if code != http.StatusOK {
			e.t.Fatalf("GET nodes/%s/children = %d %s", id, code, raw)
		}
		for _, n := range list.Data {
			if n.Status == "AVAILABLE" {
				all = append(all, n)
			}
		}
		if list.NextToken == "" {
			return all
		}
		next = list.NextToken
	}
	e.t.Fatalf("listing %s did not end after 1000 pages", id)
	return nil
}

// serverTree is the server's view of the subtree under folder id.
func (e *rcloneEnv) serverTree(id string) map[string]rcEntry {
	e.t.Helper()
	m := map[string]rcEntry{}
	var walk func(id, prefix string)
	walk = func(id, prefix string) {
		for _, n := range e.children(id) {
			p := path.Join(prefix, n.Name)
			if _, dup := m[p]; dup {
				e.t.Errorf("server lists two AVAILABLE nodes named %q", p)
			}
			switch n.Kind {
			case "FOLDER":
				m[p] = rcEntry{Dir: true, ID: n.ID}
				walk(n.ID, p)
			case "FILE":
				en := rcEntry{ID: n.ID}
				if n.ContentProperties != nil {
					en.Size, en.MD5 = n.ContentProperties.Size, n.ContentProperties.MD5
				}
				m[p] = en
			}
		}
	}
	walk(id, "")
	return m
}

// lookup resolves a slash-separated path from the root, matching names
// exactly; it returns nil when a component is missing.
func (e *rcloneEnv) lookup(p string) *acd.Node {
	e.t.Helper()
	id := e.root
	var found *acd.Node
	for _, name := range strings.Split(p, "/") {
		found = nil
		for _, n := range e.children(id) {
			if n.Name == name {
				found = n
				break
			}
		}
		if found == nil {
			return nil
		}
		id = found.ID
	}
	return found
}

// mustLookup resolves a path that must exist.
func (e *rcloneEnv) mustLookup(p string) *acd.Node {
	e.t.Helper()
	n := e.lookup(p)
	if n == nil {
		e.t.Fatalf("server has no AVAILABLE node at %q", p)
	}
	return n
}

// node fetches one node by id.
func (e *rcloneEnv) node(id string) acd.Node {
	e.t.Helper()
	var n acd.Node
	if code, raw := e.api.do("GET", "/drive/v1/nodes/"+id, nil, &n); code != http.StatusOK {
		e.t.Fatalf("GET nodes/%s = %d %s", id, code, raw)
	}
	return n
}

// trash lists the ids in GET trash, page by page.
func (e *rcloneEnv) trash() map[string]*acd.Node {
	e.t.Helper()
	m := map[string]*acd.Node{}
	next := ""
	for range 1000 {
		q := url.Values{"limit": {"50"}}
		if next != "" {
			q.Set("startToken", next)
		}
		var list acd.NodeList
		code, raw := e.api.do("GET", "/drive/v1/trash?"+q.Encode(), nil, &list)
		if code != http.StatusOK {
			e.t.Fatalf("GET trash = %d %s", code, raw)
		}
		for _, n := range list.Data {
			m[n.ID] = n
		}
		if list.NextToken == "" {
			return m
		}
		next = list.NextToken
	}
	e.t.Fatal("trash listing did not end after 1000 pages")
	return nil
}

// rcDiffTrees reports how got differs from want, ignoring ids.
func rcDiffTrees(want, got map[string]rcEntry) []string {
	var d []string
	for p, w := range want {
		g, ok := got[p]
		w.ID, g.ID = "", ""
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("missing %q %+v", p, w))
		case g != w:
			d = append(d, fmt.Sprintf("%q: got %+v, want %+v", p, g, w))
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			g.ID = ""
			d = append(d, fmt.Sprintf("unexpected %q %+v", p, g))
		}
	}
	sort.Strings(d)
	return d
}

func (e *rcloneEnv) wantTree(what string, want, got map[string]rcEntry) {
	e.t.Helper()
	if d := rcDiffTrees(want, got); len(d) > 0 {
		e.t.Errorf("%s differs in %d entries:\n  %s", what, len(d), strings.Join(d, "\n  "))
	}
}

// rcSameBytes compares two local trees byte for byte.
func rcSameBytes(t *testing.T, want, got string) {
	t.Helper()
	wt, gt := rcLocalTree(t, want), rcLocalTree(t, got)
	if d := rcDiffTrees(wt, gt); len(d) > 0 {
		t.Errorf("%s differs from %s in %d entries:\n  %s", got, want, len(d), strings.Join(d, "\n  "))
		return
	}
	for p, en := range wt {
		if en.Dir {
			continue
		}
		a, err1 := os.ReadFile(filepath.Join(want, filepath.FromSlash(p)))
		b, err2 := os.ReadFile(filepath.Join(got, filepath.FromSlash(p)))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%q: downloaded bytes differ (%v, %v)", p, err1, err2)
		}
	}
}

// rcFromStandard undoes rclone's internal "standard" encoding of control
// characters (U+0001-U+001F as U+2401-U+241F, DEL as U+2421), which rclone
// prints in listings; the names on disk and on the server hold the raw
// characters.
func rcFromStandard(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0x2401 && r <= 0x241f:
			return r - 0x2400
		case r == 0x2421:
			return 0x7f
		}
		return r
	}, s)
}

// lsjsonItem is one entry of `rclone lsjson`.
type lsjsonItem struct {
	Path     string
	Name     string
	Size     int64
	MimeType string
	IsDir    bool
	ID       string
	Hashes   map[string]string
}

func (e *rcloneEnv) lsjson(args ...string) []lsjsonItem {
	e.t.Helper()
	r := e.run(append([]string{"lsjson"}, args...)...)
	var items []lsjsonItem
	if err := json.Unmarshal([]byte(r.stdout), &items); err != nil {
		e.t.Fatalf("lsjson output does not parse: %v\n%s", err, r)
	}
	return items
}

// ---------------------------------------------------------------------------
// The local tree uploaded in TestRclone.

// rcloneOddNames are file names (relative paths) that stress name handling:
// spaces, quotes, leading '-', the filter language's special characters,
// unicode in both normal forms, control characters, a long name.
var rcloneOddNames = []string{
	"plain.txt",
	"with space.txt",
	" leading space.txt",
	"trailing space .txt",
	"-leading-dash.txt",
	"--two-dashes",
	"'single quoted'.txt",
	`"double quoted".txt`,
	`it's a "mix".md`,
	`back\slash.txt`,
	"ünïcödé.txt",
	"日本語のファイル.txt",
	"emoji 😀🎉.bin",
	"nfd-e\u0301-cafe\u0301.txt",
	"percent 100% #1 ?.txt",
	"lucene +-&|!(){}[]^~*?:.txt",
	"semi;colon,comma=eq@at$dollar.txt",
	"tab\there.txt",
	"AND OR NOT.txt",
	"name:colon.txt",
	"parents:x AND kind:FILE",
	"no_extension",
	".hidden",
	"...three dots",
	"UPPER.TXT",
	"long-" + strings.Repeat("x", 200) + ".dat",
	"dup one.bin",
	"dup two.bin",
	"dir one/a.txt",
	"dir one/b.txt",
	"dir one/sub dir/c.txt",
	"dir one/sub dir/ünï.txt",
	"-dash dir/-x.txt",
	"-dash dir/y z.txt",
	"ünïcödé dir/deep/deeper/deepest.txt",
	"ünïcödé dir/deep/d2.txt",
	`quote's "dir"/q.txt`,
	"Mixed Case Dir/File.TXT",
}

// rcloneOddTree returns the files of the upload test: rcloneOddNames with varied
// sizes, 15 more in one folder, a 0-byte file in two places, two files
// with the same bytes (the server must not deduplicate them away) and a
// file of a little over 5 MiB.
func rcloneOddTree() map[string][]byte {
	files := map[string][]byte{}
	for i, n := range rcloneOddNames {
		files[n] = randomBytes(1+(i*397)%4000, uint64(1000+i))
	}
	for i := range 15 {
		files[fmt.Sprintf("many/f%02d.txt", i)] = []byte(fmt.Sprintf("file number %d\n", i))
	}
	files["dup two.bin"] = files["dup one.bin"]
	files["empty.txt"] = nil
	files["dir one/sub dir/empty0"] = nil
	files["big.bin"] = randomBytes(5<<20+123, 5)
	return files
}

// ---------------------------------------------------------------------------
// The tests.

// TestRclone walks rclone through a drive's life: list an empty drive,
// mkdir, upload a tree with odd names, check, download (directly and via
// tempLink), ranged reads, delete, rmdirs, purge, sync after local
// changes, size. After each step it reads the server's state over the API.
func TestRclone(t *testing.T) {
	e := newRcloneEnv(t)
	src := filepath.Join(e.dir, "src")
	rcWriteTree(t, src, rcloneOddTree(), "empty dir", "many/empty sub")
	srcTree := rcLocalTree(t, src)
	if n := len(srcTree); n < 50 {
		t.Fatalf("local tree has only %d entries", n)
	}

	t.Run("EmptyDrive", func(t *testing.T) {
		e := e.on(t)
		if items := e.lsjson("acd:", "-R"); len(items) != 0 {
			t.Errorf("lsjson of an empty drive = %+v", items)
		}
		for _, cmd := range []string{"ls", "lsd", "lsf"} {
			if r := e.run(cmd, "acd:"); r.stdout != "" {
				t.Errorf("%s of an empty drive printed %q", cmd, r.stdout)
			}
		}
		if got := e.serverTree(e.root); len(got) != 0 {
			t.Errorf("server root has %v", got)
		}
	})

	t.Run("Mkdir", func(t *testing.T) {
		e := e.on(t)
		e.run("mkdir", "acd:made/deeper")
		e.run("mkdir", "acd:made/deeper") // again: nothing to do
		e.run("mkdir", "acd:MADE/other")  // case-insensitive: reuses "made"
		e.wantTree("server tree after mkdir", map[string]rcEntry{
			"made": {Dir: true}, "made/deeper": {Dir: true}, "made/other": {Dir: true},
		}, e.serverTree(e.root))
		if r := e.run("lsf", "-R", "acd:"); r.stdout != "made/\nmade/deeper/\nmade/other/\n" {
			t.Errorf("lsf -R after mkdir = %q", r.stdout)
		}
		e.run("rmdir", "acd:made/other")
		e.wantTree("server tree after rmdir", map[string]rcEntry{
			"made": {Dir: true}, "made/deeper": {Dir: true},
		}, e.serverTree(e.root))
	})

	var up *acd.Node // the uploaded tree's folder
	t.Run("CopyUp", func(t *testing.T) {
		e := e.on(t)
		e.run("copy", src, "acd:up", "--create-empty-src-dirs")
		up = e.mustLookup("up")
		e.wantTree("server tree after copy", srcTree, e.serverTree(up.ID))
		// Copying again transfers nothing.
		r := e.run("copy", src, "acd:up", "--create-empty-src-dirs")
		if strings.Contains(r.log, ": Copied (") {
			t.Errorf("second copy transferred files again:\n%s", r.log)
		}
	})
	if up == nil {
		t.FailNow()
	}

	t.Run("Lsjson", func(t *testing.T) {
		e := e.on(t)
		server := e.serverTree(up.ID)
		got := map[string]rcEntry{}
		for _, it := range e.lsjson("acd:up", "-R", "--hash") {
			it.Path = rcFromStandard(it.Path)
			if it.IsDir {
				got[it.Path] = rcEntry{Dir: true}
			} else {
				got[it.Path] = rcEntry{Size: it.Size, MD5: it.Hashes["md5"]}
			}
			if it.ID == "" || it.ID != server[it.Path].ID {
				t.Errorf("lsjson %q: ID %s, server says %s", it.Path, it.ID, server[it.Path].ID)
			}
			if strings.HasSuffix(it.Name, ".txt") && !strings.HasPrefix(it.MimeType, "text/plain") {
				t.Errorf("lsjson %q: MimeType %q, want text/plain", it.Path, it.MimeType)
			}
		}
		e.wantTree("lsjson -R --hash", srcTree, got)
	})

	t.Run("Check", func(t *testing.T) {
		e := e.on(t)
		for _, args := range [][]string{
			{"check", src, "acd:up"},
			{"check", src, "acd:up", "--download"},
		} {
			r := e.run(append(args, "--combined", "-")...)
			same := 0
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				if strings.HasPrefix(line, "= ") {
					same++
				} else {
					t.Errorf("%q: %q", args, line)
				}
			}
			if files := rcCountFiles(srcTree); same != files {
				t.Errorf("%q found %d identical files, want %d", args, same, files)
			}
		}
	})

	t.Run("CopyDown", func(t *testing.T) {
		e := e.on(t)
		for _, tc := range []struct {
			name     string
			flags    []string
			tempLink bool
		}{
			{"Direct", nil, false},
			{"TempLink", []string{"--acd-templink-threshold", "0"}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := e.on(t)
				dst := filepath.Join(e.dir, "down-"+tc.name)
				r := e.run(append([]string{"copy", "acd:up", dst, "--create-empty-src-dirs"}, tc.flags...)...)
				rcSameBytes(t, src, dst)
				files := rcCountFiles(srcTree)
				n := strings.Count(r.log, "Downloading large object via tempLink")
				if tc.tempLink && n < files {
					t.Errorf("only %d of %d files came through a tempLink", n, files)
				}
				if !tc.tempLink && n != 0 {
					t.Errorf("%d files came through a tempLink", n)
				}
			})
		}
	})

	t.Run("RangedCat", func(t *testing.T) {
		e := e.on(t)
		big := rcloneOddTree()["big.bin"]
		for _, tc := range []struct {
			name          string
			offset, count int
			flags         []string
		}{
			{"Head", 0, 100, nil},
			{"Middle", 1<<20 + 7, 4096, nil},
			{"Tail", len(big) - 10, -1, nil},
			{"TempLinkMiddle", 3<<20 + 1, 65536, []string{"--acd-templink-threshold", "0"}},
			{"TempLinkTail", len(big) - 5000, -1, []string{"--acd-templink-threshold", "0"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := e.on(t)
				args := []string{"cat", "acd:up/big.bin", "--offset", fmt.Sprint(tc.offset), "--count", fmt.Sprint(tc.count)}
				r := e.run(append(args, tc.flags...)...)
				end := len(big)
				if tc.count >= 0 {
					end = tc.offset + tc.count
				}
				if want := big[tc.offset:end]; r.stdout != string(want) {
					t.Errorf("cat --offset %d --count %d: got %d bytes, want %d (equal prefix: %v)",
						tc.offset, tc.count, len(r.stdout), len(want), strings.HasPrefix(string(want), r.stdout))
				}
			})
		}
	})

	t.Run("DeleteRmdirsPurge", func(t *testing.T) {
		e := e.on(t)
		before := e.serverTree(up.ID)
		e.run("delete", "acd:up/dir one")
		after := e.serverTree(up.ID)
		var trashed []string
		for p, en := range before {
			if strings.HasPrefix(p, "dir one/") && !en.Dir {
				if _, ok := after[p]; ok {
					t.Errorf("%q still listed after rclone delete", p)
				}
				if n := e.node(en.ID); n.Status != "TRASH" {
					t.Errorf("%q after rclone delete: status %s, want TRASH", p, n.Status)
				}
				trashed = append(trashed, p)
			}
		}
		if len(trashed) != 5 {
			t.Errorf("trashed %v, want the 5 files under dir one", trashed)
		}
		for _, d := range []string{"dir one", "dir one/sub dir"} {
			if en, ok := after[d]; !ok || !en.Dir {
				t.Errorf("rclone delete removed the folder %q", d)
			}
		}

		e.run("rmdirs", "acd:up/dir one")
		after = e.serverTree(up.ID)
		inTrash := e.trash()
		for _, d := range []string{"dir one", "dir one/sub dir"} {
			if _, ok := after[d]; ok {
				t.Errorf("%q still listed after rclone rmdirs", d)
			}
			if n := e.node(before[d].ID); n.Status != "TRASH" {
				t.Errorf("folder %q after rmdirs: status %s, want TRASH", d, n.Status)
			}
		}
		if _, ok := inTrash[before["dir one"].ID]; !ok {
			t.Errorf("GET trash does not list the removed folder %q", "dir one")
		}

		// rmdirs leaves non-empty folders alone and removes empty ones.
		e.run("rmdirs", "acd:up")
		after = e.serverTree(up.ID)
		for _, d := range []string{"empty dir", "many/empty sub"} {
			if _, ok := after[d]; ok {
				t.Errorf("empty folder %q survived rclone rmdirs", d)
			}
		}
		if _, ok := after["many"]; !ok {
			t.Errorf("rclone rmdirs removed the non-empty folder many")
		}

		// purge trashes a folder with its contents in one call.
		e.run("purge", "acd:up/-dash dir")
		if n := e.node(before["-dash dir"].ID); n.Status != "TRASH" {
			t.Errorf("purged folder: status %s, want TRASH", n.Status)
		}
		for _, p := range []string{"-dash dir/-x.txt", "-dash dir/y z.txt"} {
			if n := e.node(before[p].ID); n.Status != "TRASH" {
				t.Errorf("%q in a purged folder: status %s, want TRASH", p, n.Status)
			}
		}
		if e.lookup("up/-dash dir") != nil {
			t.Errorf("purged folder still listed")
		}
		e.run("deletefile", "acd:up/ünïcödé.txt")
		if n := e.node(before["ünïcödé.txt"].ID); n.Status != "TRASH" {
			t.Errorf("deletefile: status %s, want TRASH", n.Status)
		}

		want := map[string]rcEntry{}
		for p, en := range srcTree {
			if !strings.HasPrefix(p, "dir one") && !strings.HasPrefix(p, "-dash dir") &&
				p != "empty dir" && p != "many/empty sub" && p != "ünïcödé.txt" {
				want[p] = en
			}
		}
		e.wantTree("server tree after delete, rmdirs, purge, deletefile", want, e.serverTree(up.ID))
		if items := e.lsjson("acd:up", "-R", "--hash"); len(items) != len(want) {
			t.Errorf("rclone lists %d entries, want %d", len(items), len(want))
		}
	})

	t.Run("SyncAfterLocalChanges", func(t *testing.T) {
		e := e.on(t)
		before := e.serverTree(up.ID)
		// The local tree changes: one file grows, one keeps its size with new
		// bytes (seen only by --checksum), one is deleted, two are new, and
		// "dir one", "-dash dir" and "ünïcödé.txt" are still there, so sync
		// re-uploads names whose old nodes are in the trash.
		rcWriteTree(t, src, map[string][]byte{
			"plain.txt":      []byte("plain, but longer than before: " + strings.Repeat("z", 5000)),
			"with space.txt": bytes.Repeat([]byte("S"), int(srcTree["with space.txt"].Size)),
			"new file.txt":   []byte("new\n"),
			"new dir/n.txt":  []byte("newer\n"),
			"big.bin":        randomBytes(5<<20+123, 6),
		})
		if err := os.Remove(filepath.Join(src, "UPPER.TXT")); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(src, "empty dir")); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(src, "many", "empty sub")); err != nil {
			t.Fatal(err)
		}
		newTree := rcLocalTree(t, src)

		// check sees the differences before the sync.
		r := e.exec("check", src, "acd:up", "--combined", "-")
		if r.err == nil {
			t.Errorf("rclone check passed on a changed tree\n%s", r)
		}
		wantCheck := map[string]string{"plain.txt": "*", "with space.txt": "*", "big.bin": "*",
			"new file.txt": "+", "new dir/n.txt": "+", "UPPER.TXT": "-", "ünïcödé.txt": "+", "dir one/a.txt": "+"}
		marks := map[string]string{}
		for line := range strings.SplitSeq(strings.TrimSpace(r.stdout), "\n") {
			mark, p, _ := strings.Cut(line, " ")
			marks[p] = mark
		}
		for p, w := range wantCheck {
			if marks[p] != w {
				t.Errorf("check: %q marked %q, want %q", p, marks[p], w)
			}
		}

		e.run("sync", src, "acd:up", "--checksum")
		after := e.serverTree(up.ID)
		e.wantTree("server tree after sync", newTree, after)
		for _, p := range []string{"plain.txt", "with space.txt", "big.bin"} {
			if after[p].ID != before[p].ID {
				t.Errorf("%q: sync made a new node %s instead of overwriting %s", p, after[p].ID, before[p].ID)
			}
			if n := e.node(after[p].ID); n.ContentProperties == nil || n.ContentProperties.Version < 2 {
				t.Errorf("%q: content version after overwrite = %+v, want ≥ 2", p, n.ContentProperties)
			}
		}
		if n := e.node(before["UPPER.TXT"].ID); n.Status != "TRASH" {
			t.Errorf("file deleted by sync: status %s, want TRASH", n.Status)
		}
		for _, p := range []string{"dir one/a.txt", "-dash dir/-x.txt", "ünïcödé.txt"} {
			if _, ok := after[p]; !ok {
				t.Errorf("sync did not re-upload %q over its trashed namesake", p)
			}
		}
		e.run("check", src, "acd:up", "--download")
		dst := filepath.Join(e.dir, "down-after-sync")
		e.run("copy", "acd:up", dst, "--create-empty-src-dirs")
		rcSameBytes(t, src, dst)
		srcTree = newTree
	})

	t.Run("Size", func(t *testing.T) {
		e := e.on(t)
		r := e.run("size", "acd:up", "--json")
		var got struct{ Count, Bytes int64 }
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("size --json: %v\n%s", err, r)
		}
		var count, total int64
		for _, en := range e.serverTree(up.ID) {
			if !en.Dir {
				count++
				total += en.Size
			}
		}
		if got.Count != count || got.Bytes != total {
			t.Errorf("rclone size = %d files, %d bytes; server has %d files, %d bytes", got.Count, got.Bytes, count, total)
		}
		if want := int64(rcCountFiles(srcTree)); count != want {
			t.Errorf("server has %d files, the local tree %d", count, want)
		}
		// Nothing was left anywhere else on the drive.
		var top []string
		for _, n := range e.children(e.root) {
			top = append(top, n.Name)
		}
		if sort.Strings(top); !slices.Equal(top, []string{"made", "up"}) {
			t.Errorf("the drive's root holds %q, want made and up", top)
		}
	})
}

// TestRcloneMove drives rclone's server-side moves: PATCH renames,
// POST children parent replacement, the trash → rename → add parent →
// remove parent → restore fallback rclone takes when a rename clashes in
// the source folder, moves onto a name rclone has just trashed, case-only
// renames, and directory moves (DirMove and file by file).
func TestRcloneMove(t *testing.T) {
	e := newRcloneEnv(t)
	const fallbackLog = "Could not directly rename file"
	for i, tc := range []struct {
		name    string
		setup   map[string]string // files under the case folder → content
		steps   [][]string        // rclone commands; "R:" stands for the case folder
		wantLog string            // in the last step's -vv log
		want    map[string]string // every file under the case folder afterwards
		dirs    []string          // folders that must exist afterwards
		gone    []string          // folders that must not exist afterwards
		sameID  map[string]string // path afterwards → setup path whose node it must be
		trashed []string          // setup paths whose nodes must be in the trash
	}{{
		name:   "RenameInPlace",
		setup:  map[string]string{"a.txt": "alpha"},
		steps:  [][]string{{"moveto", "R:a.txt", "R:b.txt"}},
		want:   map[string]string{"b.txt": "alpha"},
		sameID: map[string]string{"b.txt": "a.txt"},
	}, {
		name:   "IntoFolder",
		setup:  map[string]string{"a.txt": "alpha", "to/keep.txt": "keep"},
		steps:  [][]string{{"moveto", "R:a.txt", "R:to/a.txt"}},
		want:   map[string]string{"to/a.txt": "alpha", "to/keep.txt": "keep"},
		sameID: map[string]string{"to/a.txt": "a.txt"},
	}, {
		name:   "IntoFolderRenamed",
		setup:  map[string]string{"a.txt": "alpha", "to/keep.txt": "keep"},
		steps:  [][]string{{"moveto", "R:a.txt", "R:to/-b c.txt"}},
		want:   map[string]string{"to/-b c.txt": "alpha", "to/keep.txt": "keep"},
		sameID: map[string]string{"to/-b c.txt": "a.txt"},
	}, {
		name:   "IntoNewFolders",
		setup:  map[string]string{"a.txt": "alpha"},
		steps:  [][]string{{"moveto", "R:a.txt", "R:new/ünï/a.txt"}},
		want:   map[string]string{"new/ünï/a.txt": "alpha"},
		sameID: map[string]string{"new/ünï/a.txt": "a.txt"},
	}, {
		// rclone trashes the existing destination, then moves: the trashed
		// node must not block the name.
		name:    "OntoTakenName",
		setup:   map[string]string{"a.txt": "the new content", "to/b.txt": "old"},
		steps:   [][]string{{"moveto", "R:a.txt", "R:to/b.txt"}},
		want:    map[string]string{"to/b.txt": "the new content"},
		sameID:  map[string]string{"to/b.txt": "a.txt"},
		trashed: []string{"to/b.txt"},
	}, {
		// Renaming a.txt to b.txt in the source folder clashes with b.txt
		// there (409), so rclone trashes a.txt, renames and re-parents it in
		// the trash, and restores it.
		name:    "RenameFallback",
		setup:   map[string]string{"a.txt": "moving", "b.txt": "stays"},
		steps:   [][]string{{"moveto", "R:a.txt", "R:to/b.txt"}},
		wantLog: fallbackLog,
		want:    map[string]string{"b.txt": "stays", "to/b.txt": "moving"},
		sameID:  map[string]string{"to/b.txt": "a.txt", "b.txt": "b.txt"},
	}, {
		name:    "RenameFallbackCaseInsensitiveClash",
		setup:   map[string]string{"a.txt": "moving", "B.TXT": "stays"},
		steps:   [][]string{{"moveto", "R:a.txt", "R:to/b.txt"}},
		wantLog: fallbackLog,
		want:    map[string]string{"B.TXT": "stays", "to/b.txt": "moving"},
		sameID:  map[string]string{"to/b.txt": "a.txt", "B.TXT": "B.TXT"},
	}, {
		// Both: the destination is trashed first, then the rename clashes in
		// the source folder; the restore meets only a trashed namesake.
		name:    "RenameFallbackOntoTakenName",
		setup:   map[string]string{"a.txt": "moving", "b.txt": "stays", "to/b.txt": "old"},
		steps:   [][]string{{"moveto", "R:a.txt", "R:to/b.txt"}},
		wantLog: fallbackLog,
		want:    map[string]string{"b.txt": "stays", "to/b.txt": "moving"},
		sameID:  map[string]string{"to/b.txt": "a.txt", "b.txt": "b.txt"},
		trashed: []string{"to/b.txt"},
	}, {
		// rclone renames through a temporary name on a case-insensitive remote.
		name:   "CaseOnlyRename",
		setup:  map[string]string{"Case.TXT": "case"},
		steps:  [][]string{{"moveto", "R:Case.TXT", "R:case.txt"}},
		want:   map[string]string{"case.txt": "case"},
		sameID: map[string]string{"case.txt": "Case.TXT"},
	}, {
		name:   "DirMove",
		setup:  map[string]string{"src/x.txt": "x", "src/sub/y.txt": "y", "other.txt": "o"},
		steps:  [][]string{{"moveto", "R:src", "R:dst/renamed dir"}},
		want:   map[string]string{"dst/renamed dir/x.txt": "x", "dst/renamed dir/sub/y.txt": "y", "other.txt": "o"},
		dirs:   []string{"dst/renamed dir/sub"},
		gone:   []string{"src"},
		sameID: map[string]string{"dst/renamed dir/x.txt": "src/x.txt", "dst/renamed dir/sub/y.txt": "src/sub/y.txt", "dst/renamed dir": "src"},
	}, {
		// A folder renamed onto the name of a folder in its own parent:
		// the fallback trashes the folder (and its subtree) and restores it.
		name:    "DirMoveFallback",
		setup:   map[string]string{"src/f.txt": "f", "src/sub/g.txt": "g", "x/h.txt": "h"},
		steps:   [][]string{{"moveto", "R:src", "R:dst/x"}},
		wantLog: fallbackLog,
		want:    map[string]string{"dst/x/f.txt": "f", "dst/x/sub/g.txt": "g", "x/h.txt": "h"},
		gone:    []string{"src"},
		sameID:  map[string]string{"dst/x": "src", "dst/x/f.txt": "src/f.txt", "dst/x/sub/g.txt": "src/sub/g.txt", "x": "x"},
	}, {
		// The destination folder exists, so DirMove refuses and rclone moves
		// file by file, then removes the emptied source folders below the
		// source root (rclone v1.65 keeps the root itself).
		name:   "MoveIntoExistingDir",
		setup:  map[string]string{"src/x.txt": "x", "src/sub/y.txt": "y", "dst/z.txt": "z"},
		steps:  [][]string{{"move", "R:src", "R:dst", "--delete-empty-src-dirs"}},
		want:   map[string]string{"dst/x.txt": "x", "dst/sub/y.txt": "y", "dst/z.txt": "z"},
		dirs:   []string{"src", "dst/sub"},
		gone:   []string{"src/sub"},
		sameID: map[string]string{"dst/x.txt": "src/x.txt", "dst/sub/y.txt": "src/sub/y.txt"},
	}, {
		// A folder moved onto the name of a folder rclone has purged.
		name:    "DirMoveOntoPurgedName",
		setup:   map[string]string{"src/x.txt": "x", "old/y.txt": "y"},
		steps:   [][]string{{"purge", "R:old"}, {"moveto", "R:src", "R:old"}},
		want:    map[string]string{"old/x.txt": "x"},
		gone:    []string{"src"},
		sameID:  map[string]string{"old": "src", "old/x.txt": "src/x.txt"},
		trashed: []string{"old"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			e := e.on(t)
			caseDir := fmt.Sprintf("case%02d", i)
			local := filepath.Join(e.dir, "move-"+caseDir)
			files := map[string][]byte{}
			for p, c := range tc.setup {
				files[p] = []byte(c)
			}
			rcWriteTree(t, local, files)
			e.run("copy", local, "acd:"+caseDir)
			dirNode := e.mustLookup(caseDir)
			setup := e.serverTree(dirNode.ID)
			for p, c := range tc.setup {
				if setup[p].MD5 != md5hex([]byte(c)) {
					t.Fatalf("setup: %q on the server is %+v", p, setup[p])
				}
			}

			var last rcloneRun
			for _, step := range tc.steps {
				args := slices.Clone(step)
				for j, a := range args {
					if rest, ok := strings.CutPrefix(a, "R:"); ok {
						args[j] = "acd:" + path.Join(caseDir, rest)
					}
				}
				last = e.run(args...)
			}
			if tc.wantLog != "" && !strings.Contains(last.log, tc.wantLog) {
				t.Errorf("the -vv log lacks %q: rclone did not take the path under test", tc.wantLog)
			}
			if tc.wantLog != fallbackLog && strings.Contains(last.log, fallbackLog) {
				t.Errorf("rclone fell back to trash-and-restore: the server refused a plain rename or re-parent")
			}

			got := e.serverTree(dirNode.ID)
			gotFiles := map[string]rcEntry{}
			for p, en := range got {
				if !en.Dir {
					gotFiles[p] = en
				}
			}
			want := map[string]rcEntry{}
			for p, c := range tc.want {
				want[p] = rcEntry{Size: int64(len(c)), MD5: md5hex([]byte(c))}
			}
			e.wantTree("server files after the move", want, gotFiles)
			for _, d := range tc.dirs {
				if !got[d].Dir {
					t.Errorf("folder %q missing after the move", d)
				}
			}
			for _, d := range tc.gone {
				if _, ok := got[d]; ok {
					t.Errorf("folder %q still listed after the move", d)
				}
			}
			for p, from := range tc.sameID {
				if got[p].ID == "" || got[p].ID != setup[from].ID {
					t.Errorf("%q is node %q, want %q's node %q (moved, not copied)", p, got[p].ID, from, setup[from].ID)
				}
			}
			inTrash := e.trash()
			for _, p := range tc.trashed {
				id := setup[p].ID
				if n := e.node(id); n.Status != "TRASH" {
					t.Errorf("replaced %q (%s): status %s, want TRASH", p, id, n.Status)
				}
				if _, ok := inTrash[id]; !ok {
					t.Errorf("replaced %q (%s) is not in GET trash", p, id)
				}
			}
			// Whatever moved must be AVAILABLE, in exactly the parent it is
			// listed under, and not in the trash.
			for p := range tc.sameID {
				n := e.node(got[p].ID)
				parent := dirNode.ID
				if dir := path.Dir(p); dir != "." {
					parent = got[dir].ID
				}
				if n.Status != "AVAILABLE" || !slices.Equal(n.Parents, []string{parent}) {
					t.Errorf("%q: status %s parents %v, want AVAILABLE in [%s]", p, n.Status, n.Parents, parent)
				}
				if _, ok := inTrash[n.ID]; ok {
					t.Errorf("%q (%s) is AVAILABLE but GET trash lists it", p, n.ID)
				}
			}
			// rclone's own view agrees with the server's.
			rc := map[string]rcEntry{}
			for _, it := range e.lsjson("acd:"+caseDir, "-R", "--hash", "--files-only") {
				rc[it.Path] = rcEntry{Size: it.Size, MD5: it.Hashes["md5"]}
			}
			e.wantTree("rclone lsjson after the move", want, rc)
			if t.Failed() {
				t.Logf("last command: %s", last)
			}
		})
	}
}

// TestRcloneTokenRefresh gives rclone a real refresh token of a registered
// confidential app with an access token that rclone believes expired.
// rclone must refresh through token_url (x/oauth2's POST), carry on, and
// save the rotated pair in its config file.
//
// (A 401 for an access token rclone still believes valid does not make
// v1.65.2 refresh: its Invalidate clears the token, re-reads the same one
// from the config file and x/oauth2 hands back its cached copy, so it
// retries with the rejected token until --low-level-retries run out. The
// server's token expiry, expires_in, is therefore what keeps rclone
// working, and no test here relies on the 401 path.)
func TestRcloneTokenRefresh(t *testing.T) {
	e := newRcloneEnv(t)
	ctx := context.Background()
	m := e.s.App.Meta
	app, secret, err := (&oauth.Apps{Meta: m, Now: time.Now}).Create(ctx, "rclone e2e", []string{"http://127.0.0.1:53682/"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var userID string
	if err := m.View(ctx, func(tx meta.Tx) error {
		rec, err := tx.Token(ctx, auth.Hash(e.api.token))
		if err == nil {
			userID = rec.UserID
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mintRefresh := func() string {
		tokens := &auth.Tokens{Meta: m, Now: time.Now}
		rt, rec := tokens.NewToken(auth.KindRefresh, userID, app.ClientID, drive.ScopeReadAll+" "+drive.ScopeWrite, auth.NewFamily(), 24*time.Hour)
		if err := m.Update(ctx, func(tx meta.Tx) error { return tx.InsertToken(ctx, rec) }); err != nil {
			t.Fatal(err)
		}
		return rt
	}

	for _, tc := range []struct {
		name   string
		access string
	}{
		// The server would still take this one; rclone refreshes anyway.
		{"ExpiredInConfig", e.api.token},
		// The server has never issued this one.
		{"UnknownAndExpired", "Atza|not-a-token-the-server-knows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := e.on(t)
			old := rcloneToken{AccessToken: tc.access, TokenType: "Bearer", RefreshToken: mintRefresh(),
				Expiry: time.Now().Add(-time.Hour).UTC()}
			e.writeConfig(app.ClientID, secret, old)
			if items := e.lsjson("acd:"); len(items) != 0 {
				t.Errorf("lsjson after the refresh = %+v", items)
			}
			got := e.configToken()
			if got.AccessToken == old.AccessToken || got.RefreshToken == old.RefreshToken || got.RefreshToken == "" ||
				!got.Expiry.After(time.Now()) {
				t.Errorf("token saved after the refresh = %+v; want a new access and refresh token expiring later", got)
			}
			fresh := api{t, e.s.URL, got.AccessToken}
			if code, raw := fresh.do("GET", "/drive/v1/account/endpoint", nil, nil); code != http.StatusOK {
				t.Errorf("the refreshed access token does not work: %d %s", code, raw)
			}
			// A second run starts from the saved pair without refreshing.
			e.run("lsjson", "acd:")
			if again := e.configToken(); again != got {
				t.Errorf("second run changed the saved token: %+v, then %+v", got, again)
			}
		})
	}
}

// TestRclonePaging puts more files in one folder than fit on a page (the
// server's page size is 200; rclone asks for no limit), so every rclone
// listing follows nextToken across three pages.
func TestRclonePaging(t *testing.T) {
	e := newRcloneEnv(t)
	src := filepath.Join(e.dir, "paged")
	files := map[string][]byte{}
	for i := range 430 {
		files[fmt.Sprintf("p%03d.txt", i)] = []byte(fmt.Sprintf("page test file %d\n", i))
	}
	for i := range 3 {
		files[fmt.Sprintf("sub%d/inner.txt", i)] = []byte(fmt.Sprintf("inner %d\n", i))
	}
	rcWriteTree(t, src, files)
	want := rcLocalTree(t, src)

	e.run("copy", src, "acd:paged", "--transfers", "8")
	paged := e.mustLookup("paged")
	if n := len(e.children(paged.ID)); n != 433 {
		t.Errorf("server lists %d children, want 433", n)
	}
	e.wantTree("server tree", want, e.serverTree(paged.ID))
	// rclone's listing query, as it sends it: the first page must be
	// partial, or this test would not exercise paging.
	var first acd.NodeList
	q := url.Values{"filters": {"parents:" + paged.ID}}
	if code, raw := e.api.do("GET", "/drive/v1/nodes?"+q.Encode(), nil, &first); code != http.StatusOK ||
		first.NextToken == "" || len(first.Data) >= 433 {
		t.Errorf("first page of rclone's listing query = %d, %d nodes, nextToken %q: want a partial page (%.200s)",
			code, len(first.Data), first.NextToken, raw)
	}

	if items := e.lsjson("acd:paged"); len(items) != 433 {
		t.Errorf("rclone lsjson lists %d entries, want 433", len(items))
	}
	got := map[string]rcEntry{}
	for _, it := range e.lsjson("acd:paged", "-R", "--hash") {
		if it.IsDir {
			got[it.Path] = rcEntry{Dir: true}
		} else {
			got[it.Path] = rcEntry{Size: it.Size, MD5: it.Hashes["md5"]}
		}
	}
	e.wantTree("rclone lsjson -R --hash", want, got)
	r := e.run("check", src, "acd:paged", "--combined", "-")
	if n := strings.Count(r.stdout, "= "); n != rcCountFiles(want) {
		t.Errorf("check found %d identical files, want %d\n%s", n, rcCountFiles(want), r.stdout)
	}
	// A second copy finds everything on every page and uploads nothing.
	if r := e.run("copy", src, "acd:paged"); strings.Contains(r.log, ": Copied (") {
		t.Errorf("second copy transferred files again:\n%s", r.log)
	}
	e.run("delete", "acd:paged", "--include", "p1*")
	for p := range want {
		if strings.HasPrefix(p, "p1") {
			delete(want, p)
		}
	}
	e.wantTree("server tree after deleting p1*", want, e.serverTree(paged.ID))
	if items := e.lsjson("acd:paged", "--files-only"); len(items) != 330 {
		t.Errorf("rclone lists %d files after deleting 100, want 330", len(items))
	}
}
