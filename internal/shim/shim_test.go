package shim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

func newTestCA(t *testing.T) *CA {
	t.Helper()
	ca, created, err := LoadOrCreateCA(filepath.Join(t.TempDir(), "shim"), nil)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateCA = %v, created %v", err, created)
	}
	return ca
}

func TestCAPersistedAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config", "shim")
	ca, created, err := LoadOrCreateCA(dir, nil)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateCA = %v, created %v; want a new CA", err, created)
	}
	for _, name := range []string{CertFile, KeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("CA directory: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	if ca.CertPath != filepath.Join(dir, CertFile) {
		t.Errorf("CertPath = %q", ca.CertPath)
	}
	onDisk, _ := os.ReadFile(ca.CertPath)
	if !bytes.Equal(onDisk, ca.PEM()) {
		t.Errorf("PEM() differs from %s", CertFile)
	}
	if !ca.Cert.IsCA || !ca.Cert.PermittedDNSDomainsCritical || len(ca.Cert.PermittedDNSDomains) != 4 {
		t.Errorf("CA certificate: IsCA %v, constraints %v (critical %v)", ca.Cert.IsCA, ca.Cert.PermittedDNSDomains, ca.Cert.PermittedDNSDomainsCritical)
	}
	if left := time.Until(ca.Cert.NotAfter); left < 9*365*24*time.Hour {
		t.Errorf("CA expires in %v; want about ten years", left)
	}

	again, created, err := LoadOrCreateCA(dir, nil)
	if err != nil || created {
		t.Fatalf("second LoadOrCreateCA = %v, created %v; want the stored CA", err, created)
	}
	if !again.Cert.Equal(ca.Cert) {
		t.Errorf("second load returned another CA")
	}
	// A leaf from the reloaded CA chains to the first one.
	l, err := again.Leaf(HostDrive)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Leaf.Verify(x509.VerifyOptions{DNSName: HostDrive, Roots: ca.Pool()}); err != nil {
		t.Errorf("leaf of the reloaded CA does not verify against the first: %v", err)
	}
}

func TestCACreatedOnceUnderConcurrency(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shim")
	const n = 8
	cas := make([]*CA, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cas[i], _, errs[i] = LoadOrCreateCA(dir, nil)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("LoadOrCreateCA #%d: %v", i, errs[i])
		}
		if !cas[i].Cert.Equal(cas[0].Cert) {
			t.Errorf("LoadOrCreateCA #%d returned another CA than #0", i)
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".shim-ca-*"))
	if len(left) != 0 {
		t.Errorf("temporary directories left behind: %v", left)
	}
}

func TestCARefusesBrokenFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shim")
	if _, _, err := LoadOrCreateCA(dir, nil); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other")
	if _, _, err := LoadOrCreateCA(other, nil); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(other, KeyFile))
	if err := os.WriteFile(filepath.Join(dir, KeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadOrCreateCA(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "does not match") || !strings.Contains(err.Error(), "delete") {
		t.Errorf("CA with another CA's key: %v; want a mismatch error saying what to do", err)
	}
	later := func() time.Time { return time.Now().Add(11 * 365 * 24 * time.Hour) }
	if _, _, err := LoadOrCreateCA(other, later); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired CA: %v; want an expiry error", err)
	}
}

func TestLeafPerHostChainsToCA(t *testing.T) {
	ca := newTestCA(t)
	hosts := []string{HostDrive, HostCDWS, "content-na.drive.amazonaws.com", "content-eu.drive.amazonaws.com",
		"content-xy9.drive.amazonaws.com", HostAPI, HostWWW}
	for _, h := range hosts {
		l, err := ca.Leaf(h)
		if err != nil {
			t.Errorf("Leaf(%s): %v", h, err)
			continue
		}
		if _, err := l.Leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: ca.Pool()}); err != nil {
			t.Errorf("leaf for %s does not verify for %s: %v", h, h, err)
		}
		for _, other := range hosts {
			if other == h {
				continue
			}
			if _, err := l.Leaf.Verify(x509.VerifyOptions{DNSName: other, Roots: ca.Pool()}); err == nil {
				t.Errorf("leaf for %s also verifies for %s", h, other)
			}
		}
		if _, err := l.Leaf.Verify(x509.VerifyOptions{DNSName: h}); err == nil {
			t.Errorf("leaf for %s verifies against the system roots", h)
		}
		again, _ := ca.Leaf(strings.ToUpper(h) + ":443")
		if again != l {
			t.Errorf("Leaf(%s) was not reused for the same host written differently", h)
		}
	}
	for _, h := range []string{"example.com", "evil-drive.amazonaws.com.example", "s3.amazonaws.com", "amazon.com"} {
		if _, err := ca.Leaf(h); err == nil {
			t.Errorf("Leaf(%s) made a certificate for a host the shim does not intercept", h)
		}
	}
}

// The name constraints hold even for a certificate the CA key signs
// outside Leaf: a leaked key cannot impersonate other sites.
func TestCANameConstraints(t *testing.T) {
	ca := newTestCA(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, name := range []string{"www.example.com", "amazon.com", "s3.amazonaws.com", "amazonaws.com"} {
		l, err := ca.sign([]string{name}, key, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()})
		var ce x509.CertificateInvalidError
		if err == nil || !errors.As(err, &ce) || ce.Reason != x509.CANotAuthorizedForThisName {
			t.Errorf("certificate for %s signed by the CA key: Verify = %v; want CANotAuthorizedForThisName", name, err)
		}
	}
}

func TestWriteLeaf(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "amazon.pem"), filepath.Join(dir, "amazon-key.pem")
	if err := ca.WriteLeaf(certPath, keyPath, 90*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(pair.Certificate) != 2 {
		t.Errorf("certificate file holds %d certificates, want the leaf and the CA", len(pair.Certificate))
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	for _, name := range LeafNames() {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()}); err != nil {
			t.Errorf("written certificate does not verify for %s: %v", name, err)
		}
	}
	for _, p := range []string{certPath, keyPath} {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", p, fi.Mode().Perm())
		}
	}
}

func TestIntercepted(t *testing.T) {
	for host, want := range map[string]bool{
		"drive.amazonaws.com":                        true,
		"drive.amazonaws.com:443":                    true,
		"DRIVE.amazonaws.com.":                       true,
		"cdws.us-east-1.amazonaws.com":               true,
		"content-na.drive.amazonaws.com":             true,
		"content-eu.drive.amazonaws.com:443":         true,
		"content-fe.drive.amazonaws.com":             true,
		"api.amazon.com":                             true,
		"www.amazon.com":                             true,
		"evil-drive.amazonaws.com.example":           false,
		"drive.amazonaws.com.example":                false,
		"xdrive.amazonaws.com":                       false,
		"content-na.drive.amazonaws.com.example":     false,
		"content-.drive.amazonaws.com":               false,
		"content--.drive.amazonaws.com":              false,
		"content-a.b.drive.amazonaws.com":            false,
		"x.content-na.drive.amazonaws.com":           false,
		"other.drive.amazonaws.com":                  false,
		"cdws.eu-west-1.amazonaws.com":               false,
		"s3.amazonaws.com":                           false,
		"amazon.com":                                 false,
		"api.amazon.com.evil":                        false,
		"127.0.0.1":                                  false,
		"":                                           false,
		"content-na.drive.amazonaws.com\x00.example": false,
		"content-na_x.drive.amazonaws.com":           false,
		"content-" + strings.Repeat("a", 64) + ".drive.amazonaws.com": false,
	} {
		if got := Intercepted(host); got != want {
			t.Errorf("Intercepted(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestRouted(t *testing.T) {
	for _, tc := range []struct {
		host, path string
		want       bool
	}{
		{HostDrive, "/drive/v1/account/endpoint", true},
		{HostCDWS, "/drive/v1/nodes", true},
		{"content-na.drive.amazonaws.com", "/cdproxy/nodes/x/content", true},
		{HostAPI, "/auth/o2/token", true},
		{HostAPI, "/auth/o2/tokeninfo", true},
		{HostWWW, "/ap/oa", true},
		{HostDrive, "/cdproxy/nodes", false},
		{HostDrive, "/ap/oa", false},
		{"content-na.drive.amazonaws.com", "/drive/v1/nodes", false},
		{HostAPI, "/ap/oa", false},
		{HostWWW, "/", false},
		{HostWWW, "/gp/cart", false},
		{HostAPI, "/auth/o2/../../drive/v1/nodes", false},
		{HostDrive, "/drive/v1/./nodes", false},
		{"example.com", "/drive/v1/nodes", false},
	} {
		if got := Routed(tc.host, tc.path); got != tc.want {
			t.Errorf("Routed(%s, %s) = %v, want %v", tc.host, tc.path, got, tc.want)
		}
	}
}

// seen is what a test server received.
type seen struct {
	Method, Host, Path, RawQuery, Auth, Body string
}

// recorder is a loopback HTTP server that records each request and
// answers with it as JSON.
type recorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []seen
}

func newRecorder(t *testing.T, tlsServer bool) *recorder {
	rec := &recorder{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s := seen{r.Method, r.Host, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), string(b)}
		rec.mu.Lock()
		rec.got = append(rec.got, s)
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
	if tlsServer {
		rec.srv = httptest.NewTLSServer(h)
	} else {
		rec.srv = httptest.NewServer(h)
	}
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) take() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// startProxy runs a Proxy for server on a loopback port.
func startProxy(t *testing.T, cfg Config) (*Proxy, string) {
	t.Helper()
	if cfg.Logger == nil && testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.Serve(ln) }()
	t.Cleanup(func() { _ = p.Close() })
	return p, "http://" + ln.Addr().String()
}

// proxiedClient uses the proxy for every request (including loopback
// ones, unlike ProxyFromEnvironment) and trusts roots.
func proxiedClient(t *testing.T, proxy string, roots *x509.CertPool) (*http.Client, *http.Transport) {
	pu, _ := url.Parse(proxy)
	tr := &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: roots}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, tr
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestProxyServesAmazonHostsFromTheServer(t *testing.T) {
	server := newRecorder(t, false)
	ca := newTestCA(t)
	_, proxy := startProxy(t, Config{Server: mustURL(t, server.srv.URL+"/base/"), CA: ca})
	c, _ := proxiedClient(t, proxy, ca.Pool())
	serverHost := mustURL(t, server.srv.URL).Host

	for _, tc := range []struct {
		method, url, body string
		want              seen
	}{
		{"GET", "https://drive.amazonaws.com/drive/v1/account/endpoint", "",
			seen{Method: "GET", Path: "/base/drive/v1/account/endpoint", Auth: "Bearer tok"}},
		{"GET", "https://cdws.us-east-1.amazonaws.com/drive/v1/nodes?filters=isRoot:true", "",
			seen{Method: "GET", Path: "/base/drive/v1/nodes", RawQuery: "filters=isRoot:true", Auth: "Bearer tok"}},
		{"PUT", "https://content-na.drive.amazonaws.com/cdproxy/nodes/abc/content", "bytes",
			seen{Method: "PUT", Path: "/base/cdproxy/nodes/abc/content", Auth: "Bearer tok", Body: "bytes"}},
		{"GET", "https://content-eu.drive.amazonaws.com/cdproxy/templink/xyz", "",
			seen{Method: "GET", Path: "/base/cdproxy/templink/xyz", Auth: "Bearer tok"}},
		{"POST", "https://api.amazon.com/auth/o2/token", "grant_type=refresh_token&refresh_token=r",
			seen{Method: "POST", Path: "/base/auth/o2/token", Auth: "Bearer tok", Body: "grant_type=refresh_token&refresh_token=r"}},
		{"GET", "https://www.amazon.com/ap/oa?client_id=c&response_type=code", "",
			seen{Method: "GET", Path: "/base/ap/oa", RawQuery: "client_id=c&response_type=code", Auth: "Bearer tok"}},
	} {
		req, _ := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("%s %s through the shim: %v", tc.method, tc.url, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s = %d", tc.method, tc.url, resp.StatusCode)
		}
		tc.want.Host = serverHost
		if got := server.take(); len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s %s reached the server as %+v, want %+v", tc.method, tc.url, got, tc.want)
		}
		if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 || !bytes.Equal(resp.TLS.PeerCertificates[0].RawIssuer, ca.Cert.RawSubject) {
			t.Errorf("%s was not answered with a certificate of the shim's CA", tc.url)
		}
	}

	// Paths the clients never call on those hosts stay with the shim.
	for _, u := range []string{
		"https://drive.amazonaws.com/ap/oa",
		"https://www.amazon.com/",
		"https://api.amazon.com/auth/o2/../../drive/v1/nodes",
		"https://content-na.drive.amazonaws.com/drive/v1/nodes",
	} {
		resp, err := c.Get(u)
		if err != nil {
			t.Errorf("GET %s: %v", u, err)
			continue
		}
		var e acd.Error
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || err != nil || e.Message == "" || e.Logref == "" {
			t.Errorf("GET %s = %d %+v (%v); want 404 in the API's error format", u, resp.StatusCode, e, err)
		}
	}
	if got := server.take(); len(got) != 0 {
		t.Errorf("the server received paths the shim must not forward: %+v", got)
	}
}

func TestProxyTunnelsOtherHosts(t *testing.T) {
	server := newRecorder(t, false)
	other := newRecorder(t, true)
	plain := newRecorder(t, false)
	ca := newTestCA(t)
	otherAddr := other.srv.Listener.Addr().String()
	var dialMu sync.Mutex
	var dialed []string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialMu.Lock()
		dialed = append(dialed, addr)
		dialMu.Unlock()
		// No internet here: every host the test names is the second
		// loopback server.
		if strings.HasPrefix(addr, "127.0.0.1:") {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, otherAddr)
	}
	_, proxy := startProxy(t, Config{Server: mustURL(t, server.srv.URL), CA: ca, Dial: dial})

	// A host the shim does not know: a plain tunnel to the real server,
	// whose own certificate the client sees.
	otherRoots := x509.NewCertPool()
	otherRoots.AddCert(other.srv.Certificate())
	c, _ := proxiedClient(t, proxy, otherRoots)
	resp, err := c.Get(other.srv.URL + "/elsewhere?q=1")
	if err != nil {
		t.Fatalf("GET %s through the shim: %v", other.srv.URL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.TLS.PeerCertificates[0].Equal(other.srv.Certificate()) {
		t.Errorf("tunnelled GET = %d; peer certificate is the other server's: %v", resp.StatusCode,
			resp.TLS.PeerCertificates[0].Equal(other.srv.Certificate()))
	}
	if got := other.take(); len(got) != 1 || got[0].Path != "/elsewhere" || got[0].RawQuery != "q=1" {
		t.Errorf("the other server received %+v", got)
	}

	// Look-alike names and other ports of Amazon hosts are tunnelled too,
	// never answered with the shim's certificates.
	for _, host := range []string{"evil-drive.amazonaws.com.example", "drive.amazonaws.com.example",
		"content-na.drive.amazonaws.com.example", "drive.amazonaws.com:8443"} {
		var peer *x509.Certificate
		pu, _ := url.Parse(proxy)
		tr := &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // checked by hand: the peer must be the other server
			VerifyConnection: func(cs tls.ConnectionState) error {
				peer = cs.PeerCertificates[0]
				return nil
			}}}
		resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Get("https://" + host + "/drive/v1/account/endpoint")
		tr.CloseIdleConnections()
		if err != nil {
			t.Errorf("GET https://%s through the shim: %v", host, err)
			continue
		}
		resp.Body.Close()
		if peer == nil || !peer.Equal(other.srv.Certificate()) {
			t.Errorf("https://%s was answered by the shim, not tunnelled", host)
		}
		if got := other.take(); len(got) != 1 {
			t.Errorf("https://%s: the other server received %+v", host, got)
		}
		want := host
		if !strings.Contains(host, ":") {
			want += ":443"
		}
		dialMu.Lock()
		last := dialed[len(dialed)-1]
		dialMu.Unlock()
		if last != want {
			t.Errorf("https://%s: the shim dialled %s, want %s", host, last, want)
		}
	}

	// A trusted intercepted host is still served by the server and does
	// not dial anything.
	dialMu.Lock()
	before := len(dialed)
	dialMu.Unlock()
	ac, _ := proxiedClient(t, proxy, ca.Pool())
	if resp, err := ac.Get("https://drive.amazonaws.com/drive/v1/account/endpoint"); err != nil || resp.StatusCode != 200 {
		t.Errorf("intercepted GET: %v", err)
	} else {
		resp.Body.Close()
	}
	dialMu.Lock()
	if len(dialed) != before {
		t.Errorf("an intercepted host was dialled: %v", dialed[before:])
	}
	dialMu.Unlock()
	if got := server.take(); len(got) != 1 {
		t.Errorf("server received %+v", got)
	}

	// Plain-HTTP proxy requests are forwarded as they are.
	req, _ := http.NewRequest("POST", plain.srv.URL+"/form?x=y", strings.NewReader("body"))
	req.Header.Set("Authorization", "Basic abc")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatalf("plain HTTP through the shim: %v", err)
	}
	resp.Body.Close()
	want := seen{"POST", mustURL(t, plain.srv.URL).Host, "/form", "x=y", "Basic abc", "body"}
	if got := plain.take(); len(got) != 1 || got[0] != want {
		t.Errorf("plain HTTP request arrived as %+v, want %+v", got, want)
	}
	if got := server.take(); len(got) != 0 {
		t.Errorf("pass-through traffic reached the clouddrive server: %+v", got)
	}

	// An unreachable host is a 502 from the shim.
	resp, err = c.Get("http://127.0.0.1:1/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("unreachable host = %d, want 502", resp.StatusCode)
	}
}

func TestProxyRefusesRemoteClients(t *testing.T) {
	server := newRecorder(t, false)
	ca := newTestCA(t)
	for _, allow := range []bool{false, true} {
		p, err := New(Config{Server: mustURL(t, server.srv.URL), CA: ca, AllowRemote: allow})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		for _, remote := range []string{"192.0.2.7:40000", "[2001:db8::1]:40000", "10.0.0.1:1"} {
			for _, req := range []*http.Request{
				httptest.NewRequest("CONNECT", "drive.amazonaws.com:443", nil),
				httptest.NewRequest("GET", "http://example.com/", nil),
				httptest.NewRequest("GET", "/ca.pem", nil),
			} {
				req.RemoteAddr = remote
				w := httptest.NewRecorder()
				p.Handler().ServeHTTP(w, req)
				refused := w.Code == http.StatusForbidden && strings.Contains(w.Body.String(), "--allow-remote")
				if refused == allow {
					t.Errorf("AllowRemote=%v: %s %s from %s = %d %q", allow, req.Method, req.URL, remote, w.Code, w.Body.String())
				}
			}
		}
	}
	// Loopback clients, IPv4 and IPv6, are served.
	p, err := New(Config{Server: mustURL(t, server.srv.URL), CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, local := range []string{"127.0.0.1:5000", "[::1]:5000", "127.3.4.5:1"} {
		req := httptest.NewRequest("GET", "/ca.pem", nil)
		req.RemoteAddr = local
		w := httptest.NewRecorder()
		p.Handler().ServeHTTP(w, req)
		if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), ca.PEM()) {
			t.Errorf("GET /ca.pem from %s = %d", local, w.Code)
		}
	}
}

// ServeTLS answers the Amazon names directly, as the hosts-file set-up
// sends clients to it.
func TestServeTLSForTheHostsFile(t *testing.T) {
	server := newRecorder(t, false)
	ca := newTestCA(t)
	p, err := New(Config{Server: mustURL(t, server.srv.URL), CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.ServeTLS(ln) }()
	// The client resolves every name to the listener, like a hosts file.
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, ln.Addr().String())
		}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	resp, err := c.Post("https://api.amazon.com/auth/o2/token", "application/x-www-form-urlencoded", strings.NewReader("a=b"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := server.take(); len(got) != 1 || got[0].Path != "/auth/o2/token" || got[0].Body != "a=b" {
		t.Errorf("server received %+v", got)
	}
	if _, err := c.Get("https://www.example.com/"); err == nil {
		t.Errorf("the TLS listener answered a name it does not intercept")
	}
}

func TestCloseEndsTunnels(t *testing.T) {
	server := newRecorder(t, false)
	ca := newTestCA(t)
	p, proxy := startProxy(t, Config{Server: mustURL(t, server.srv.URL), CA: ca})
	conn, err := net.Dial("tcp", strings.TrimPrefix(proxy, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "CONNECT drive.amazonaws.com:443 HTTP/1.1\r\nHost: drive.amazonaws.com:443\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(conn, &tls.Config{ServerName: HostDrive, RootCAs: ca.Pool()})
	buf := make([]byte, len("HTTP/1.1 200 Connection established\r\n\r\n"))
	if _, err := io.ReadFull(conn, buf); err != nil || !strings.HasPrefix(string(buf), "HTTP/1.1 200") {
		t.Fatalf("CONNECT answer %q: %v", buf, err)
	}
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	_ = p.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := tc.Read(make([]byte, 1)); err == nil {
		t.Errorf("the tunnel stayed open after Close")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("the tunnel stayed open after Close (read timed out)")
	}
}

func TestNewValidates(t *testing.T) {
	ca := newTestCA(t)
	for _, s := range []string{"ftp://x", "127.0.0.1:8080", "http://"} {
		u, _ := url.Parse(s)
		if _, err := New(Config{Server: u, CA: ca}); err == nil {
			t.Errorf("New with server %q succeeded", s)
		}
	}
	if _, err := New(Config{Server: mustURL(t, "http://127.0.0.1:1")}); err == nil {
		t.Errorf("New without a CA succeeded")
	}
}
