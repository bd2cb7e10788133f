package e2e_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/cli"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// This file tests `clouddrive connect` and `clouddrive shim` the way a
// user runs them: the CLI logs in, connect registers an app and logs in
// for it through the server's OAuth flow, the shim runs as its own
// command, and the client (real rclone v1.65.2; acd_cli's wire calls,
// since acd_cli cannot be installed here) runs exactly the command
// connect printed, through the real shim, with the shim's real CA. No
// test hook stands between the client and the server: the Amazon hosts
// reach the server only because the shim serves them.

// connectUser is one person's clouddrive CLI: its own config and cache
// directories, and a browser that approves what it is shown.
type connectUser struct {
	t      *testing.T
	s      *drivetest.Server
	dir    string
	vars   map[string]string
	person *webUser
}

func newConnectUser(t *testing.T, s *drivetest.Server, name, pass string) *connectUser {
	t.Helper()
	addPasswordUser(t, s, name, pass)
	dir := t.TempDir()
	u := &connectUser{t: t, s: s, dir: dir, person: newWebUser(t, name, pass), vars: map[string]string{
		cli.EnvConfigDir: filepath.Join(dir, "config"), cli.EnvCacheDir: filepath.Join(dir, "cache"),
		"HOME": filepath.Join(dir, "home")}}
	if code, _, stderr := u.run("login", "--server", s.URL, "--token", s.Token(name)); code != 0 {
		t.Fatalf("login exit %d:\n%s", code, stderr)
	}
	return u
}

func (u *connectUser) env(stdout, stderr io.Writer) *cli.Env {
	return &cli.Env{Stdout: stdout, Stderr: stderr, Getenv: func(k string) string { return u.vars[k] },
		OpenURL: func(link string) error { u.person.approve(link); return nil }}
}

// run runs one CLI command to its end.
func (u *connectUser) run(args ...string) (code int, stdout, stderr string) {
	u.t.Helper()
	var out, errb lockedBuffer
	code = cli.Main(context.Background(), u.env(&out, &errb), args)
	return code, out.String(), errb.String()
}

// runDevice runs a command that logs in with --device, entering the
// printed code at the server's device page as the person would.
func (u *connectUser) runDevice(args ...string) (code int, stdout, stderr string) {
	u.t.Helper()
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() { done <- cli.Main(context.Background(), u.env(&out, &errb), args) }()
	codeRE := regexp.MustCompile(`enter the code\s+([A-Z0-9]{4}-[A-Z0-9]{4})`)
	deadline := time.Now().Add(30 * time.Second)
	for !codeRE.MatchString(errb.String()) && time.Now().Before(deadline) {
		select {
		case code := <-done:
			return code, out.String(), errb.String()
		case <-time.After(20 * time.Millisecond):
		}
	}
	m := codeRE.FindStringSubmatch(errb.String())
	if m == nil {
		u.t.Fatalf("%q printed no device code:\n%s", args, errb.String())
	}
	u.person.approve(u.s.URL + "/device?user_code=" + url.QueryEscape(m[1]))
	select {
	case code = <-done:
	case <-time.After(2 * time.Minute):
		u.t.Fatalf("%q did not finish after the device was approved:\n%s", args, errb.String())
	}
	return code, out.String(), errb.String()
}

// runningShim is `clouddrive shim` running in the background.
type runningShim struct {
	addr string
	log  *lockedBuffer
}

// startShim runs `clouddrive shim --addr 127.0.0.1:0 -v` until the test
// ends, and returns its address from what it prints.
func (u *connectUser) startShim(extra ...string) *runningShim {
	u.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &lockedBuffer{}
	done := make(chan int, 1)
	args := append([]string{"shim", "--addr", "127.0.0.1:0", "-v"}, extra...)
	go func() { done <- cli.Main(ctx, u.env(io.Discard, log), args) }()
	u.t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				u.t.Errorf("shim exit %d:\n%s", code, log.String())
			}
		case <-time.After(30 * time.Second):
			u.t.Errorf("shim did not stop")
		}
	})
	addrRE := regexp.MustCompile(`proxy on http://(127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(30 * time.Second)
	for !addrRE.MatchString(log.String()) && time.Now().Before(deadline) {
		select {
		case code := <-done:
			u.t.Fatalf("shim exited %d:\n%s", code, log.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	m := addrRE.FindStringSubmatch(log.String())
	if m == nil {
		u.t.Fatalf("shim printed no address:\n%s", log.String())
	}
	return &runningShim{addr: m[1], log: log}
}

// forwarded counts the shim's log lines for requests it forwarded to the
// server for host and path, with status.
func (sh *runningShim) forwarded(method, host, path string, status int) int {
	re := regexp.MustCompile(`msg=forwarded method=` + method + ` host=` + regexp.QuoteMeta(host) +
		` path=` + regexp.QuoteMeta(path) + ` status=` + fmt.Sprint(status) + `\b`)
	return len(re.FindAllString(sh.log.String(), -1))
}

// printedCommand parses a command line connect printed: VAR=value
// assignments, then the program and its arguments (connect quotes only
// what needs it; the paths here need none).
func printedCommand(t *testing.T, line string) (env map[string]string, argv []string) {
	t.Helper()
	env = map[string]string{}
	fields := strings.Fields(strings.TrimSpace(line))
	for len(fields) > 0 {
		k, v, ok := strings.Cut(fields[0], "=")
		if !ok || strings.ToUpper(k) != k {
			break
		}
		env[k] = v
		fields = fields[1:]
	}
	if len(fields) == 0 || strings.ContainsAny(line, `'"`) {
		t.Fatalf("cannot parse the printed command %q", line)
	}
	return env, fields
}

// connectedRclone runs the rclone command connect printed, with other
// subcommands: the printed environment and global flags, plus a scratch
// HOME and fail-fast retries.
type connectedRclone struct {
	t    *testing.T
	bin  string
	dir  string
	env  map[string]string // HTTPS_PROXY, as printed
	args []string          // global flags, as printed: --config, --ca-cert
	conf string
	runs int
}

func newConnectedRclone(t *testing.T, bin, dir, printed string) *connectedRclone {
	t.Helper()
	env, argv := printedCommand(t, printed)
	if argv[0] != "rclone" || len(argv) < 3 || argv[len(argv)-2] != "ls" {
		t.Fatalf("printed command %q is not `rclone FLAGS ls REMOTE:`", printed)
	}
	r := &connectedRclone{t: t, bin: bin, dir: dir, env: env, args: argv[1 : len(argv)-2]}
	for i, a := range r.args {
		if a == "--config" && i+1 < len(r.args) {
			r.conf = r.args[i+1]
		}
	}
	for _, d := range []string{"home", "cache", "xdgconfig"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (r *connectedRclone) exec(args ...string) rcloneRun {
	r.t.Helper()
	full := append(append([]string{}, args...), r.args...)
	full = append(full, "-vv", "--retries", "1", "--low-level-retries", "3", "--stats", "0")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, full...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch uk := strings.ToUpper(k); {
		case strings.HasPrefix(uk, "RCLONE_"), uk == "HTTP_PROXY", uk == "HTTPS_PROXY", uk == "NO_PROXY",
			uk == "ALL_PROXY", uk == "HOME", uk == "XDG_CACHE_HOME", uk == "XDG_CONFIG_HOME":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	for k, v := range r.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "HOME="+filepath.Join(r.dir, "home"), "XDG_CACHE_HOME="+filepath.Join(r.dir, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(r.dir, "xdgconfig"))
	cmd.Dir = r.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := rcloneRun{args: args, stdout: stdout.String(), log: stderr.String(), err: err}
	if dir := os.Getenv(envRcloneLogs); dir != "" {
		r.runs++
		name := fmt.Sprintf("%s-%03d-%s.log", strings.ReplaceAll(r.t.Name(), "/", "_"), r.runs, args[0])
		_ = os.WriteFile(filepath.Join(dir, name), []byte(res.String()), 0o644)
	}
	return res
}

// run runs rclone and fails the test if it fails or had to retry.
func (r *connectedRclone) run(args ...string) rcloneRun {
	r.t.Helper()
	res := r.exec(args...)
	if res.err != nil {
		r.t.Fatalf("%s", res)
	}
	for _, bad := range []string{" ERROR : ", "low level retry"} {
		if strings.Contains(res.log, bad) {
			r.t.Errorf("rclone %q succeeded, but its log has %q:\n%s", args, bad, res)
			break
		}
	}
	return res
}

// section returns the keys of [name] in rclone.conf.
func rcloneSection(t *testing.T, conf, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	in := false
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			in = line == "["+name+"]"
			continue
		}
		if k, v, ok := strings.Cut(line, " = "); ok && in {
			keys[k] = v
		}
	}
	return keys
}

// editRcloneConf rewrites the section [name] of conf with edit.
func editRcloneConf(t *testing.T, conf, name string, edit func(key, value string) (string, bool)) {
	t.Helper()
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "[") {
			in = t == "["+name+"]"
		} else if k, v, ok := strings.Cut(line, " = "); ok && in {
			nv, keep := edit(k, v)
			if !keep {
				continue
			}
			line = k + " = " + nv
		}
		out = append(out, line)
	}
	if err := os.WriteFile(conf, []byte(strings.Join(out, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// expireRcloneToken makes rclone see its token as expired.
func expireRcloneToken(t *testing.T, conf, name string) rcloneToken {
	t.Helper()
	var old rcloneToken
	editRcloneConf(t, conf, name, func(k, v string) (string, bool) {
		if k != "token" {
			return v, true
		}
		if err := json.Unmarshal([]byte(v), &old); err != nil {
			t.Fatalf("token in rclone.conf: %v: %s", err, v)
		}
		tok := old
		tok.Expiry = time.Now().Add(-time.Minute).UTC()
		j, _ := json.Marshal(tok)
		return string(j), true
	})
	return old
}

func rcloneConfToken(t *testing.T, conf, name string) rcloneToken {
	t.Helper()
	var tok rcloneToken
	if err := json.Unmarshal([]byte(rcloneSection(t, conf, name)["token"]), &tok); err != nil {
		t.Fatalf("token in rclone.conf: %v", err)
	}
	return tok
}

// skewedClock is a server clock that tests move forward.
type skewedClock struct{ skew atomic.Int64 }

func (c *skewedClock) now() time.Time          { return time.Now().Add(time.Duration(c.skew.Load())) }
func (c *skewedClock) advance(d time.Duration) { c.skew.Add(int64(d)) }

// TestRcloneConnect: `clouddrive connect rclone` (device flow) writes a
// remote with which the real rclone, run exactly as connect prints it
// through the real `clouddrive shim`, copies, lists and checks files; when
// its access token expires rclone refreshes it at token_url, and, for a
// remote that kept rclone's built-in Amazon URLs, at
// https://api.amazon.com/auth/o2/token through the shim. A second connect
// reuses the registered app.
func TestRcloneConnect(t *testing.T) {
	bin := rcloneBinary(t)
	clock := &skewedClock{}
	s := drivetest.New(t, drivetest.Options{Now: clock.now})
	u := newConnectUser(t, s, "rosa", "rosa's long password")
	sh := u.startShim()

	conf := filepath.Join(u.dir, "rclone", "rclone.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
		t.Fatal(err)
	}
	// A remote of the user's that connect must keep.
	if err := os.WriteFile(conf, []byte("[local]\ntype = local\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := u.runDevice("connect", "rclone", "--device", "--rclone-config", conf, "--shim-addr", sh.addr)
	if code != 0 {
		t.Fatalf("connect rclone exit %d:\n%s", code, stderr)
	}
	t.Logf("connect rclone printed:\n%s%s", stderr, stdout)

	// rclone.conf: the remote, with what rclone needs to refresh.
	sec := rcloneSection(t, conf, "acd")
	if sec["type"] != "amazon cloud drive" || !strings.HasPrefix(sec["client_id"], "app-") || !strings.HasPrefix(sec["client_secret"], "cds-") ||
		sec["auth_url"] != s.URL+"/ap/oa" || sec["token_url"] != s.URL+"/auth/o2/token" {
		t.Errorf("[acd] in rclone.conf = %v", sec)
	}
	tok := rcloneConfToken(t, conf, "acd")
	if tok.AccessToken == "" || tok.RefreshToken == "" || !strings.EqualFold(tok.TokenType, "bearer") ||
		tok.Expiry.Before(time.Now().Add(50*time.Minute)) {
		t.Errorf("token in rclone.conf = %+v", tok)
	}
	if sec := rcloneSection(t, conf, "local"); sec["type"] != "local" {
		t.Errorf("connect lost the other remote: %v", sec)
	}
	if fi, err := os.Stat(conf); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("rclone.conf mode: %v %v", fi.Mode().Perm(), err)
	}
	// The token belongs to the app connect registered.
	if code, raw := (api{t, s.URL, tok.AccessToken}).do("GET", "/auth/o2/tokeninfo?access_token="+url.QueryEscape(tok.AccessToken), nil, nil); code != 200 ||
		!strings.Contains(string(raw), `"aud":"`+sec["client_id"]+`"`) {
		t.Errorf("tokeninfo of rclone's token = %d %s; want aud %s", code, raw, sec["client_id"])
	}

	// The printed command, run as it is, through the shim.
	_, ca, _ := u.run("shim", "ca", "--path")
	ca = strings.TrimSpace(ca)
	want := fmt.Sprintf("HTTPS_PROXY=http://%s rclone --config %s --ca-cert %s ls acd:", sh.addr, conf, ca)
	if strings.TrimSpace(stdout) != want {
		t.Fatalf("connect printed %q, want %q", strings.TrimSpace(stdout), want)
	}
	rc := newConnectedRclone(t, bin, filepath.Join(u.dir, "rclone-run"), stdout)

	src := filepath.Join(u.dir, "src")
	files := map[string][]byte{"a.txt": []byte("hello through the shim\n"), "dir one/b.bin": randomBytes(300<<10, 7),
		"dir one/deep/c.txt": []byte("c"), "empty": nil}
	rcWriteTree(t, src, files)
	wantTree := rcLocalTree(t, src)

	rc.run("copy", src, "acd:connected")
	ls := rc.run("ls", "acd:connected")
	for p, b := range files {
		if !strings.Contains(ls.stdout, fmt.Sprintf("%d %s\n", len(b), p)) {
			t.Errorf("rclone ls lacks %q (%d bytes):\n%s", p, len(b), ls.stdout)
		}
	}
	if r := rc.run("check", src, "acd:connected", "--combined", "-"); strings.Count(r.stdout, "= ") != len(files) {
		t.Errorf("rclone check found %d identical files, want %d:\n%s", strings.Count(r.stdout, "= "), len(files), r.stdout)
	}
	if got := sh.forwarded("GET", "drive.amazonaws.com", "/drive/v1/account/endpoint", 200); got != 3 {
		t.Errorf("the shim forwarded the endpoint call %d times for 3 rclone commands:\n%s", got, sh.log)
	}

	// The server holds the tree, created by the app connect registered.
	e := &rcloneEnv{t: t, s: s, api: api{t, s.URL, s.Token("rosa")}}
	var roots acd.NodeList
	if code, raw := e.api.do("GET", "/drive/v1/nodes?filters=isRoot:true", nil, &roots); code != 200 || len(roots.Data) != 1 {
		t.Fatalf("root = %d %s", code, raw)
	}
	e.root = roots.Data[0].ID
	top := e.mustLookup("connected")
	e.wantTree("server tree", wantTree, e.serverTree(top.ID))
	if top.CreatedBy != sec["client_id"] {
		t.Errorf("folder made by rclone has createdBy %q, want the app %s", top.CreatedBy, sec["client_id"])
	}

	t.Run("RefreshAtTokenURL", func(t *testing.T) {
		rc.t = t
		old := expireRcloneToken(t, conf, "acd")
		clock.advance(2 * time.Hour) // the old access token is dead on the server too
		if r := rc.run("lsjson", "acd:connected"); !strings.Contains(r.stdout, `"Path":"a.txt"`) {
			t.Errorf("lsjson after the refresh:\n%s", r.stdout)
		}
		got := rcloneConfToken(t, conf, "acd")
		if got.AccessToken == old.AccessToken || got.RefreshToken == old.RefreshToken || !got.Expiry.After(time.Now()) {
			t.Errorf("token after the refresh = %+v; want a new pair", got)
		}
		if n := sh.forwarded("POST", "api.amazon.com", "/auth/o2/token", 200); n != 0 {
			t.Errorf("with token_url set, rclone refreshed through the shim (%d times)", n)
		}
	})

	t.Run("RefreshAtAmazonThroughTheShim", func(t *testing.T) {
		rc.t = t
		// A remote as rclone config makes it for real ACD: no auth_url and
		// token_url, so rclone uses https://api.amazon.com/auth/o2/token.
		editRcloneConf(t, conf, "acd", func(k, v string) (string, bool) { return v, k != "auth_url" && k != "token_url" })
		old := expireRcloneToken(t, conf, "acd")
		clock.advance(2 * time.Hour)
		before := sh.forwarded("POST", "api.amazon.com", "/auth/o2/token", 200)
		if r := rc.run("lsjson", "acd:connected"); !strings.Contains(r.stdout, `"Path":"a.txt"`) {
			t.Errorf("lsjson after the refresh:\n%s", r.stdout)
		}
		if n := sh.forwarded("POST", "api.amazon.com", "/auth/o2/token", 200) - before; n != 1 {
			t.Errorf("rclone refreshed through api.amazon.com %d times, want 1:\n%s", n, sh.log)
		}
		got := rcloneConfToken(t, conf, "acd")
		if got.AccessToken == old.AccessToken || got.RefreshToken == old.RefreshToken {
			t.Errorf("token after the refresh through the shim = %+v; want a new pair", got)
		}
		fresh := api{t, s.URL, got.AccessToken}
		if code, raw := fresh.do("GET", "/drive/v1/account/info", nil, nil); code != 200 {
			t.Errorf("the refreshed token does not work: %d %s", code, raw)
		}
	})

	t.Run("SecondConnectReusesTheApp", func(t *testing.T) {
		code, stdout, stderr := u.run("connect", "rclone", "acd2", "--browser", "--rclone-config", conf, "--shim-addr", sh.addr)
		if code != 0 {
			t.Fatalf("second connect exit %d:\n%s", code, stderr)
		}
		if strings.Contains(stderr, "registered the app") {
			t.Errorf("second connect registered another app:\n%s", stderr)
		}
		if got := rcloneSection(t, conf, "acd2")["client_id"]; got != sec["client_id"] {
			t.Errorf("acd2 uses app %s, want the one registered before, %s", got, sec["client_id"])
		}
		if !strings.HasSuffix(strings.TrimSpace(stdout), " ls acd2:") {
			t.Errorf("second connect printed %q", stdout)
		}
		rc2 := newConnectedRclone(t, bin, filepath.Join(u.dir, "rclone-run2"), stdout)
		if r := rc2.run("lsf", "acd2:connected"); !strings.Contains(r.stdout, "a.txt\n") {
			t.Errorf("lsf acd2:connected:\n%s", r.stdout)
		}
		// acd's own grant is untouched by acd2's login.
		rc.t = t
		rc.run("lsf", "acd:connected")
	})
}

// TestConnectACDCLI: `clouddrive connect acd-cli` (browser flow) writes
// oauth.json, client_data and endpoint_data as acd_cli 0.3.2 reads them;
// acd_cli's calls (acdcli/api/oauth.py LocalOAuthHandler, client.py),
// made with the printed HTTPS_PROXY and REQUESTS_CA_BUNDLE through the
// real shim, reach the server: the API at metadataUrl, the token refresh
// at https://api.amazon.com/auth/o2/token, tokeninfo, and the endpoint
// call at https://drive.amazonaws.com.
func TestConnectACDCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the shim and the OAuth flow")
	}
	s := drivetest.New(t, drivetest.Options{})
	u := newConnectUser(t, s, "abe", "abe's long password")
	sh := u.startShim()
	cache := filepath.Join(u.dir, "acd_cli cache")
	waitPortFree(t, "127.0.0.1:53682", time.Minute)
	code, stdout, stderr := u.run("connect", "acd-cli", "--cache-dir", cache, "--shim-addr", sh.addr)
	if code != 0 {
		t.Fatalf("connect acd-cli exit %d:\n%s", code, stderr)
	}
	t.Logf("connect acd-cli printed:\n%s%s", stderr, stdout)
	_, ca, _ := u.run("shim", "ca", "--path")
	ca = strings.TrimSpace(ca)
	want := fmt.Sprintf("HTTPS_PROXY=http://%s REQUESTS_CA_BUNDLE=%s ACD_CLI_CACHE_PATH='%s' acd_cli sync", sh.addr, ca, cache)
	if strings.TrimSpace(stdout) != want {
		t.Errorf("connect printed %q, want %q", strings.TrimSpace(stdout), want)
	}

	read := func(name string) map[string]any {
		t.Helper()
		p := filepath.Join(cache, name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s is not a JSON object: %v\n%s", name, err, b)
		}
		return m
	}
	str := func(m map[string]any, k string) string {
		t.Helper()
		v, ok := m[k].(string)
		if !ok || v == "" {
			t.Errorf("%q is not a non-empty string: %v", k, m[k])
		}
		return v
	}
	num := func(m map[string]any, k string) float64 {
		t.Helper()
		v, ok := m[k].(float64)
		if !ok {
			t.Errorf("%q is not a number: %v", k, m[k])
		}
		return v
	}
	now := float64(time.Now().Unix())

	// LocalOAuthHandler.load_client_data: both keys, neither empty.
	cd := read("client_data")
	clientID, clientSecret := str(cd, "CLIENT_ID"), str(cd, "CLIENT_SECRET")
	// OAuthHandler.validate and get_auth_token: the three keys, and
	// exp_time (present, so acd_cli does not compute it) in the future.
	oa := read("oauth.json")
	access, refresh := str(oa, "access_token"), str(oa, "refresh_token")
	if in := num(oa, "expires_in"); in < 3000 || in > 3600 {
		t.Errorf("expires_in = %v, want the server's 3600", in)
	}
	if exp := num(oa, "exp_time"); math.Abs(exp-(now+3600-120)) > 60 {
		t.Errorf("exp_time = %v, want about now + expires_in - 120 = %v", exp, now+3600-120)
	}
	// ACDClient._load_endpoints.
	ed := read("endpoint_data")
	metadataURL, contentURL := str(ed, "metadataUrl"), str(ed, "contentUrl")
	if metadataURL != s.MetadataURL() || contentURL != s.ContentURL() {
		t.Errorf("endpoint_data = %v; want the server's URLs", ed)
	}
	if exp := num(ed, "exp_time"); exp < now+259200-60 || exp > now+259200+60 {
		t.Errorf("endpoint_data exp_time = %v, want now + 3 days", exp)
	}

	// Python requests with the printed environment: HTTPS_PROXY for https
	// URLs (the http:// server URLs go direct), REQUESTS_CA_BUNDLE as the
	// only roots.
	env, _ := printedCommand(t, strings.ReplaceAll(stdout, "'"+cache+"'", "CACHE"))
	pem, err := os.ReadFile(env["REQUESTS_CA_BUNDLE"])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("REQUESTS_CA_BUNDLE holds no certificate")
	}
	proxy := mustURL(t, env["HTTPS_PROXY"])
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, Proxy: func(r *http.Request) (*url.URL, error) {
		if r.URL.Scheme == "https" {
			return proxy, nil
		}
		return nil, nil
	}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	call := func(method, u string, form url.Values, bearer string) (int, map[string]any) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}

	// The API, with the stored token.
	if code, m := call("GET", metadataURL+"nodes?filters=isRoot:true", nil, access); code != 200 || m["count"] != float64(1) {
		t.Errorf("GET nodes?filters=isRoot:true with oauth.json's token = %d %v", code, m)
	}
	// LocalOAuthHandler.refresh_auth_token: form fields, no Basic.
	code, m := call("POST", "https://api.amazon.com/auth/o2/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {refresh}, "client_id": {clientID}, "client_secret": {clientSecret}, "redirect_uri": {"http://localhost"}}, "")
	if code != 200 {
		t.Fatalf("refresh at api.amazon.com through the shim = %d %v", code, m)
	}
	newAccess, newRefresh := str(m, "access_token"), str(m, "refresh_token")
	if num(m, "expires_in") <= 0 || newAccess == access || newRefresh == refresh {
		t.Errorf("refresh answer %v; want a new pair with expires_in", m)
	}
	if n := sh.forwarded("POST", "api.amazon.com", "/auth/o2/token", 200); n != 1 {
		t.Errorf("the shim logged %d forwarded refreshes, want 1:\n%s", n, sh.log)
	}
	// get_access_token_info.
	if code, m := call("GET", "https://api.amazon.com/auth/o2/tokeninfo?access_token="+url.QueryEscape(newAccess), nil, ""); code != 200 || m["aud"] != clientID {
		t.Errorf("tokeninfo through the shim = %d %v; want aud %s", code, m, clientID)
	}
	// _get_endpoints once endpoint_data expires.
	if code, m := call("GET", "https://drive.amazonaws.com/drive/v1/account/endpoint", nil, newAccess); code != 200 ||
		m["metadataUrl"] != metadataURL || m["contentUrl"] != contentURL {
		t.Errorf("endpoint call through the shim = %d %v", code, m)
	}
	if code, _ := call("GET", metadataURL+"account/info", nil, newAccess); code != 200 {
		t.Errorf("the refreshed token does not work: %d", code)
	}
	// The rotated refresh token is spent.
	if code, _ := call("POST", "https://api.amazon.com/auth/o2/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {refresh}, "client_id": {clientID}, "client_secret": {clientSecret}}, ""); code != 400 {
		t.Errorf("reusing the rotated refresh token = %d, want 400", code)
	}
}

// TestConnectNeedsALogin: without a CLI login connect cannot register an
// app and says how to go on; with an admin-made app it needs none.
func TestConnectNeedsALogin(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	dir := t.TempDir()
	vars := map[string]string{cli.EnvConfigDir: filepath.Join(dir, "config"), cli.EnvCacheDir: filepath.Join(dir, "cache")}
	var out, errb lockedBuffer
	env := &cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}
	code := cli.Main(context.Background(), env, []string{"connect", "rclone", "--server", s.URL, "--device",
		"--rclone-config", filepath.Join(dir, "rclone.conf")})
	if code != cli.ExitAuth || !strings.Contains(errb.String(), "clouddrive login --server "+s.URL) {
		t.Errorf("connect without a login: exit %d\n%s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "rclone.conf")); err == nil {
		t.Errorf("connect wrote rclone.conf without a token")
	}
	errb2 := &lockedBuffer{}
	env.Stderr = errb2
	code = cli.Main(context.Background(), env, []string{"connect", "rclone", "--server", s.URL, "--device",
		"--client-id", "app-nope", "--client-secret", "cds-nope", "--rclone-config", filepath.Join(dir, "rclone.conf")})
	if code != cli.ExitUsage || !strings.Contains(errb2.String(), "does not know --client-id app-nope") {
		t.Errorf("connect with an unknown app: exit %d\n%s", code, errb2.String())
	}
}

// waitPortFree waits, up to limit, until addr can be listened on. The
// browser login of connect listens on rclone's fixed redirect port
// (127.0.0.1:53682, registered for the apps it creates), which any other
// process of the machine may hold for a while (a test of another package,
// a login left waiting); the test then fails only if it stays taken.
func waitPortFree(t *testing.T, addr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for waited := false; ; waited = true {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
			if waited {
				t.Logf("%s was taken by another process for a while", addr)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s stays taken (another process listens there): %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
