package shim

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// Config configures a Proxy. Server and CA are required.
type Config struct {
	// Server is the clouddrive server's base URL (scheme://host[:port]
	// [/prefix]) that the Amazon hosts stand for.
	Server *url.URL
	// CA signs the certificates of the intercepted hosts.
	CA *CA
	// AllowRemote serves clients that are not on the loopback interface.
	// Off, they get 403: the proxy tunnels to any host.
	AllowRemote bool
	// Logger defaults to discarding. Each forwarded request is logged at
	// Info (method, host, path, status), tunnels and refusals at Debug.
	Logger *slog.Logger
	// Transport carries the requests forwarded to the server and the
	// plain-HTTP requests passed on; nil uses a copy of
	// http.DefaultTransport that ignores proxy variables (the shim must
	// not send requests back to itself).
	Transport http.RoundTripper
	// Dial opens the connections of CONNECT tunnels; nil uses a
	// net.Dialer with a 30-second timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Timeouts.
const (
	readHeaderTimeout = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	handshakeTimeout  = 15 * time.Second
	dialTimeout       = 30 * time.Second
)

// Proxy is the shim: an HTTP proxy that serves the Amazon hosts from the
// clouddrive server and passes everything else through. Start it with
// Serve (HTTP proxy listener) and, for the hosts-file set-up, ServeTLS;
// Close stops everything, tunnels included.
type Proxy struct {
	cfg      Config
	log      *slog.Logger
	toServer *httputil.ReverseProxy
	passOn   *httputil.ReverseProxy

	// inner serves the requests that arrive inside intercepted tunnels
	// (already decrypted), fed by tunnels.
	inner   *http.Server
	tunnels *connQueue

	mu      sync.Mutex
	closed  bool
	servers []*http.Server
	conns   map[net.Conn]struct{} // hijacked connections: tunnels, TLS
}

// New builds a Proxy.
func New(cfg Config) (*Proxy, error) {
	if cfg.Server == nil || (cfg.Server.Scheme != "http" && cfg.Server.Scheme != "https") || cfg.Server.Host == "" {
		return nil, errors.New("shim: the server must be an http:// or https:// URL")
	}
	if cfg.CA == nil {
		return nil, errors.New("shim: a CA is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		cfg.Transport = t
	}
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{Timeout: dialTimeout}).DialContext
	}
	p := &Proxy{cfg: cfg, log: cfg.Logger, conns: map[net.Conn]struct{}{}}
	server := *cfg.Server
	server.Path = strings.TrimSuffix(server.Path, "/")
	server.RawPath = ""
	p.toServer = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&server)
		},
		Transport:      cfg.Transport,
		FlushInterval:  -1, // the changes feed streams
		ModifyResponse: p.logForwarded,
		ErrorHandler:   p.forwardFailed,
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	p.passOn = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = pr.In.URL
			pr.Out.Host = pr.In.Host
		},
		Transport:     cfg.Transport,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Debug("pass-through failed", "host", r.Host, "err", err)
			http.Error(w, "clouddrive shim: "+r.Host+" did not answer: "+err.Error(), http.StatusBadGateway)
		},
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	p.tunnels = newConnQueue()
	p.inner = &http.Server{
		Handler:           http.HandlerFunc(p.serveTunneled),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*tunnelConn); ok {
				ctx = context.WithValue(ctx, tunnelHostKey{}, tc.host)
			}
			return ctx
		},
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	go func() { _ = p.inner.Serve(p.tunnels) }()
	return p, nil
}

// Handler returns the proxy handler that Serve runs, for tests.
func (p *Proxy) Handler() http.Handler { return http.HandlerFunc(p.serveProxy) }

// Serve accepts HTTP proxy connections on ln (what HTTPS_PROXY names)
// until Close.
func (p *Proxy) Serve(ln net.Listener) error {
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout,
		ErrorLog: slog.NewLogLogger(p.cfg.Logger.Handler(), slog.LevelDebug)}
	if !p.track(srv) {
		return http.ErrServerClosed
	}
	return srv.Serve(ln)
}

// ServeTLS accepts TLS connections for the intercepted hosts on ln
// directly, for clients sent to it by the hosts file; the certificate is
// chosen by SNI, and a name the shim does not intercept fails the
// handshake.
func (p *Proxy) ServeTLS(ln net.Listener) error {
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !p.allowed(w, r) {
				return
			}
			host := r.Host
			if r.TLS != nil && r.TLS.ServerName != "" {
				host = r.TLS.ServerName
			}
			p.serveAmazon(w, r, canonicalHost(host))
		}),
		TLSConfig:         p.tlsConfig(""),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(p.cfg.Logger.Handler(), slog.LevelDebug),
	}
	if !p.track(srv) {
		return http.ErrServerClosed
	}
	return srv.ServeTLS(ln, "", "")
}

func (p *Proxy) track(srv *http.Server) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.servers = append(p.servers, srv)
	return true
}

// Close stops the listeners and closes every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	servers := p.servers
	conns := p.conns
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	for _, s := range servers {
		_ = s.Close()
	}
	for c := range conns {
		_ = c.Close()
	}
	p.tunnels.Close()
	_ = p.inner.Close()
	if t, ok := p.cfg.Transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return nil
}

// hold records a hijacked connection so Close can end it; it reports
// false (and closes c) once the proxy is closed.
func (p *Proxy) hold(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) release(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// tlsConfig serves the leaf of host, or, for "", of the SNI name.
func (p *Proxy) tlsConfig(host string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Inside a tunnel the requests are read as HTTP/1.1.
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := host
			if name == "" {
				name = hello.ServerName
			}
			return p.cfg.CA.Leaf(name)
		},
	}
}

// allowed refuses clients that are not on the loopback interface unless
// AllowRemote is set.
func (p *Proxy) allowed(w http.ResponseWriter, r *http.Request) bool {
	if p.cfg.AllowRemote {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
		return true
	}
	p.log.Debug("refused a client that is not on this machine", "client", r.RemoteAddr)
	http.Error(w, "clouddrive shim: only clients on this machine (127.0.0.1, ::1) may use this proxy; "+
		"start it with --allow-remote to serve "+r.RemoteAddr, http.StatusForbidden)
	return false
}

// serveProxy is the HTTP proxy: CONNECT, absolute-form requests, and a
// short help text for anything else.
func (p *Proxy) serveProxy(w http.ResponseWriter, r *http.Request) {
	if !p.allowed(w, r) {
		return
	}
	switch {
	case r.Method == http.MethodConnect:
		p.connect(w, r)
	case r.URL.IsAbs():
		if r.URL.Scheme == "http" && Intercepted(r.URL.Host) && isDefaultPort(r.URL.Host, "80") {
			p.serveAmazon(w, r, canonicalHost(r.URL.Host))
			return
		}
		p.log.Debug("passing on", "method", r.Method, "host", r.URL.Host)
		p.passOn.ServeHTTP(w, r)
	case r.URL.Path == "/ca.pem" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(p.cfg.CA.PEM())
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "This is the clouddrive shim, an HTTP proxy for Amazon Cloud Drive clients.\n"+
			"Point a client at it with HTTPS_PROXY=http://%s and trust its CA certificate (GET /ca.pem here).\n", r.Host)
	}
}

// isDefaultPort reports whether hostport has no port or the given one.
func isDefaultPort(hostport, port string) bool {
	_, p, err := net.SplitHostPort(hostport)
	return err != nil || p == port
}

// connect answers CONNECT: an intercepted host on port 443 gets TLS
// terminated here, anything else a plain tunnel.
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	target := r.Host
	if _, _, err := net.SplitHostPort(target); err != nil {
		http.Error(w, "clouddrive shim: CONNECT needs host:port", http.StatusBadRequest)
		return
	}
	intercept := Intercepted(target) && isDefaultPort(target, "443")
	var upstream net.Conn
	if !intercept {
		ctx, cancel := context.WithTimeout(r.Context(), dialTimeout)
		c, err := p.cfg.Dial(ctx, "tcp", target)
		cancel()
		if err != nil {
			p.log.Debug("tunnel failed", "host", target, "err", err)
			http.Error(w, "clouddrive shim: cannot reach "+target+": "+err.Error(), http.StatusBadGateway)
			return
		}
		upstream = c
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		if upstream != nil {
			upstream.Close()
		}
		http.Error(w, "clouddrive shim: cannot take over the connection", http.StatusInternalServerError)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		if upstream != nil {
			upstream.Close()
		}
		return
	}
	if !p.hold(conn) {
		if upstream != nil {
			upstream.Close()
		}
		return
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		p.release(conn)
		if upstream != nil {
			upstream.Close()
		}
		return
	}
	client := &bufferedConn{Conn: conn, r: rw.Reader}
	if !intercept {
		p.log.Debug("tunnel", "host", target)
		p.pipe(conn, client, upstream)
		return
	}
	host := canonicalHost(target)
	tc := tls.Server(client, p.tlsConfig(host))
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	err = tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		p.log.Debug("TLS handshake failed", "host", host, "err", err)
		p.release(conn)
		return
	}
	// From here the inner server owns the connection; Close of the proxy
	// still ends it through conns.
	p.tunnels.Push(&tunnelConn{Conn: tc, host: host, done: func() { p.release(conn) }})
}

// pipe copies between the client and upstream until either side ends.
func (p *Proxy) pipe(raw net.Conn, client io.ReadWriter, upstream net.Conn) {
	if !p.hold(upstream) {
		p.release(raw)
		return
	}
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(upstream, client)
		closeWrite(upstream)
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(client, upstream)
		closeWrite(raw)
		done <- struct{}{}
	}()
	<-done
	<-done
	p.release(upstream)
	p.release(raw)
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

type tunnelHostKey struct{}

// serveTunneled serves a request that came through an intercepted
// tunnel.
func (p *Proxy) serveTunneled(w http.ResponseWriter, r *http.Request) {
	host, _ := r.Context().Value(tunnelHostKey{}).(string)
	if canonicalHost(r.Host) != host {
		p.writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf("this connection is for %s, not %s", host, r.Host))
		return
	}
	p.serveAmazon(w, r, host)
}

type originKey struct{}

// origin is what a forwarded request was, for the log.
type origin struct {
	method, host, path string
}

// serveAmazon forwards a request for an intercepted host to the server,
// or answers 404 for a path the clients never call there.
func (p *Proxy) serveAmazon(w http.ResponseWriter, r *http.Request, host string) {
	if !Routed(host, r.URL.Path) {
		p.log.Info("not forwarded", "method", r.Method, "host", host, "path", r.URL.Path)
		p.writeError(w, http.StatusNotFound, fmt.Sprintf("the clouddrive shim does not forward %s%s to the server", host, r.URL.Path))
		return
	}
	o := &origin{method: r.Method, host: host, path: logPath(r.URL.Path)}
	p.toServer.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), originKey{}, o)))
}

// logPath is path as logged: the token of a temp link is left out.
func logPath(path string) string {
	const tl = "/cdproxy/templink/"
	if strings.HasPrefix(path, tl) {
		return tl + "..."
	}
	return path
}

func (p *Proxy) logForwarded(resp *http.Response) error {
	if o, ok := resp.Request.Context().Value(originKey{}).(*origin); ok {
		p.log.Info("forwarded", "method", o.method, "host", o.host, "path", o.path, "status", resp.StatusCode)
	}
	return nil
}

func (p *Proxy) forwardFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	p.log.Warn("the server did not answer", "server", p.cfg.Server.Redacted(), "path", r.URL.Path, "err", err)
	p.writeError(w, http.StatusBadGateway, "the clouddrive server at "+p.cfg.Server.Redacted()+" did not answer: "+err.Error())
}

// writeError answers in the API's error format.
func (p *Proxy) writeError(w http.ResponseWriter, status int, msg string) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(acd.Error{Logref: "shim-" + hex.EncodeToString(b[:]), Message: msg})
}

// bufferedConn reads through the buffered reader of a hijacked
// connection, which may hold bytes sent right behind the CONNECT.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// tunnelConn is a decrypted intercepted tunnel, handed to the inner
// server; done releases the underlying connection when it closes.
type tunnelConn struct {
	net.Conn
	host string
	once sync.Once
	done func()
}

func (c *tunnelConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.done)
	return err
}

// connQueue is a net.Listener whose connections are pushed to it.
type connQueue struct {
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newConnQueue() *connQueue {
	return &connQueue{ch: make(chan net.Conn), closed: make(chan struct{})}
}

// Push hands c to the server; it closes c if the queue is closed.
func (q *connQueue) Push(c net.Conn) {
	select {
	case q.ch <- c:
	case <-q.closed:
		_ = c.Close()
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.closed:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.closed) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
