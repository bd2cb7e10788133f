package e2e_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/clouddrive/clouddrive/acd"
	s3blob "github.com/clouddrive/clouddrive/internal/blob/s3"
	"github.com/clouddrive/clouddrive/internal/blob/s3/s3test"
	"github.com/clouddrive/clouddrive/internal/meta/postgres/pgtest"
)

// buildReplicaBinary builds cmd/clouddrive into a temporary directory and
// returns its path: the replica and migration tests drive the real binary
// in separate processes, as an operator does.
func buildReplicaBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "clouddrive")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/clouddrive/clouddrive/cmd/clouddrive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs the binary with args and returns its stdout.
func runBinary(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("clouddrive %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// replica is one `clouddrive serve` process.
type replica struct {
	name string
	url  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	mu   sync.Mutex
	log  bytes.Buffer
}

// startReplica starts `clouddrive serve` on a random loopback port with
// env and waits until it listens.
func startReplica(t *testing.T, bin, name string, env []string) *replica {
	t.Helper()
	r := &replica{name: name, done: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(),
		"--log-format", "json", "--log-level", "info", "--gc-interval", "0")
	r.cmd.Env = append(os.Environ(), env...)
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "clouddrive serving" {
				addr <- rec.Addr
			}
			r.mu.Lock()
			r.log.Write(line)
			r.log.WriteByte('\n')
			r.mu.Unlock()
		}
		_ = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			r.mu.Lock()
			t.Logf("replica %s log:\n%s", r.name, r.log.String())
			r.mu.Unlock()
		}
	})
	select {
	case a := <-addr:
		r.url = "http://" + a
	case <-r.done:
		t.Fatalf("replica %s exited at start:\n%s", name, r.logText())
	case <-time.After(60 * time.Second):
		t.Fatalf("replica %s did not start:\n%s", name, r.logText())
	}
	return r
}

func (r *replica) logText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// kill stops the process at once (SIGKILL), as a crash would.
func (r *replica) kill() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

// stop shuts the process down gracefully.
func (r *replica) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		r.kill()
	}
}

// cluster is two replicas on one PostgreSQL schema and one bucket.
type cluster struct {
	bin    string
	env    []string
	dbURL  string
	blobs  string
	s3cfg  s3blob.Config
	a, b   *replica
	tokens map[string]string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	pgtest.BaseDSN(t)
	s3test.Endpoint(t)
	c := &cluster{bin: buildReplicaBinary(t), dbURL: pgtest.Schema(t), s3cfg: s3test.Real(t), tokens: map[string]string{}}
	c.blobs = s3test.URL(c.s3cfg)
	c.env = []string{"CLOUDDRIVE_DB=" + c.dbURL, "CLOUDDRIVE_BLOBS=" + c.blobs}
	c.a = startReplica(t, c.bin, "A", c.env)
	c.b = startReplica(t, c.bin, "B", c.env)
	return c
}

// token returns a bearer token for user, minted by `clouddrive admin
// token` with --db and --blobs flags (not the environment).
func (c *cluster) token(t *testing.T, user string) string {
	t.Helper()
	if tok, ok := c.tokens[user]; ok {
		return tok
	}
	tok := strings.TrimSpace(runBinary(t, c.bin, nil, "admin", "token", "--data", t.TempDir(),
		"--db", c.dbURL, "--blobs", c.blobs, "--ttl", "1h", user))
	c.tokens[user] = tok
	return tok
}

// rootID returns the id of the user's root folder, asked of r.
func rootID(t *testing.T, a api) string {
	t.Helper()
	var root acd.NodeList
	if code, raw := a.do("GET", "/drive/v1/nodes?filters=isRoot:true", nil, &root); code != http.StatusOK || len(root.Data) != 1 {
		t.Fatalf("root = %d %s", code, raw)
	}
	return root.Data[0].ID
}

// streamUpload uploads body as file name into parent, streaming the
// multipart request, and returns the status and reply.
func streamUpload(t *testing.T, base, tok, parent, name string, body io.Reader) (int, []byte) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		meta, _ := json.Marshal(acd.NewNode{Name: name, Kind: "FILE", Parents: []string{parent}})
		err := mw.WriteField("metadata", string(meta))
		if err == nil {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="content"; filename="`+name+`"`)
			h.Set("Content-Type", "application/octet-stream")
			var w io.Writer
			if w, err = mw.CreatePart(h); err == nil {
				if _, err = io.Copy(w, body); err == nil {
					err = mw.Close()
				}
			}
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest("POST", base+"/cdproxy/nodes?suppress=deduplication", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// changeLine is one object of a changes stream.
type changeLine struct {
	Checkpoint string      `json:"checkpoint"`
	Nodes      []*acd.Node `json:"nodes"`
	Reset      bool        `json:"reset"`
	End        bool        `json:"end"`
}

// changeFeed reads the whole changes stream after checkpoint and returns
// the node ids with versions and statuses in feed order, and the final
// checkpoint.
func changeFeed(t *testing.T, a api, checkpoint string) ([]string, string) {
	t.Helper()
	body := fmt.Sprintf(`{"checkpoint":%q,"includePurged":"true"}`, checkpoint)
	code, raw := a.do("POST", "/drive/v1/changes", body, nil)
	if code != http.StatusOK {
		t.Fatalf("changes = %d %s", code, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var seq []string
	last := ""
	ended := false
	for dec.More() {
		var l changeLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("changes stream: %v in %s", err, raw)
		}
		if l.End {
			ended = true
			continue
		}
		for _, n := range l.Nodes {
			seq = append(seq, fmt.Sprintf("%s v%d %s %s", n.ID, n.Version, n.Status, n.Name))
		}
		if l.Checkpoint != "" {
			last = l.Checkpoint
		}
	}
	if !ended {
		t.Fatalf("changes stream did not end: %s", raw)
	}
	return seq, last
}

// TestReplicas runs two `clouddrive serve` processes on one PostgreSQL
// schema and one S3 bucket and checks that they behave as one server.
func TestReplicas(t *testing.T) {
	c := newCluster(t)

	t.Run("UploadOnOneReadOnOther", func(t *testing.T) {
		tok := c.token(t, "cross")
		a, b := api{t, c.a.url, tok}, api{t, c.b.url, tok}
		root := rootID(t, a)
		data := randomBytes(20<<20+5, 41) // several S3 parts
		code, raw := streamUpload(t, c.a.url, tok, root, "big.bin", bytes.NewReader(data))
		if code != http.StatusCreated {
			t.Fatalf("upload via A = %d %s", code, raw)
		}
		var n acd.Node
		if err := json.Unmarshal(raw, &n); err != nil {
			t.Fatal(err)
		}
		var list acd.NodeList
		if code, raw := b.do("GET", "/drive/v1/nodes/"+root+"/children", nil, &list); code != http.StatusOK || len(list.Data) != 1 || list.Data[0].ID != n.ID {
			t.Fatalf("children via B = %d %s, want the uploaded node", code, raw)
		}
		code, got := b.do("GET", "/cdproxy/nodes/"+n.ID+"/content", nil, nil)
		if code != http.StatusOK || !bytes.Equal(got, data) {
			t.Errorf("download via B = %d, %d bytes; want 200 and the %d uploaded", code, len(got), len(data))
		}
		req, _ := http.NewRequest("GET", c.b.url+"/cdproxy/nodes/"+n.ID+"/content", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Range", "bytes=10000000-10000099")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		part := readAll(t, resp.Body)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, data[10000000:10000100]) {
			t.Errorf("ranged download via B = %d, %d bytes", resp.StatusCode, len(part))
		}
		// A temp link signed by A works on B: the key is shared.
		var withLink acd.Node
		a.do("GET", "/drive/v1/nodes/"+n.ID+"?tempLink=true", nil, &withLink)
		if withLink.TempLink == "" {
			t.Fatal("no tempLink from A")
		}
		link := strings.Replace(withLink.TempLink, c.a.url, c.b.url, 1)
		resp, err = http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, resp.Body); resp.StatusCode != http.StatusOK || sha256.Sum256(got) != sha256.Sum256(data) {
			t.Errorf("A's temp link via B = %d, %d bytes", resp.StatusCode, len(got))
		}
	})

	t.Run("ChangesSameOnBoth", func(t *testing.T) {
		tok := c.token(t, "feed")
		a, b := api{t, c.a.url, tok}, api{t, c.b.url, tok}
		root := rootID(t, a)
		_, start := changeFeed(t, a, "")
		reps := []api{a, b}
		var ids []string
		for i := range 10 {
			r := reps[i%2]
			var n acd.Node
			if code, raw := r.do("POST", "/drive/v1/nodes", acd.NewNode{Name: fmt.Sprintf("f%d", i), Kind: "FOLDER", Parents: []string{root}}, &n); code != http.StatusCreated {
				t.Fatalf("create f%d = %d %s", i, code, raw)
			}
			ids = append(ids, n.ID)
		}
		for i, id := range ids[:5] {
			r := reps[(i+1)%2]
			if code, raw := r.do("PATCH", "/drive/v1/nodes/"+id, map[string]string{"name": fmt.Sprintf("renamed%d", i)}, nil); code != http.StatusOK {
				t.Fatalf("rename = %d %s", code, raw)
			}
		}
		if code, raw := b.do("PUT", "/drive/v1/trash/"+ids[9], nil, nil); code != http.StatusOK {
			t.Fatalf("trash = %d %s", code, raw)
		}
		seqA, cpA := changeFeed(t, a, start)
		seqB, cpB := changeFeed(t, b, start)
		if strings.Join(seqA, "\n") != strings.Join(seqB, "\n") || cpA != cpB {
			t.Errorf("changes via A (checkpoint %s):\n%s\nvia B (checkpoint %s):\n%s", cpA, strings.Join(seqA, "\n"), cpB, strings.Join(seqB, "\n"))
		}
		if len(seqA) != 10 {
			t.Errorf("changes since the start list %d nodes, want the 10 folders:\n%s", len(seqA), strings.Join(seqA, "\n"))
		}
		fullA, _ := changeFeed(t, a, "")
		fullB, _ := changeFeed(t, b, "")
		if strings.Join(fullA, "\n") != strings.Join(fullB, "\n") {
			t.Errorf("full feeds differ:\nA:\n%s\nB:\n%s", strings.Join(fullA, "\n"), strings.Join(fullB, "\n"))
		}
		// Nothing new: both replicas agree that the feed is at its end.
		if s, cp := changeFeed(t, b, cpA); len(s) != 0 || cp != cpA {
			t.Errorf("changes since the last checkpoint via B = %v at %s, want none at %s", s, cp, cpA)
		}
	})

	t.Run("LongPollAcrossReplicas", func(t *testing.T) {
		tok := c.token(t, "poll")
		a, b := api{t, c.a.url, tok}, api{t, c.b.url, tok}
		root := rootID(t, a)
		_, cp := changeFeed(t, a, "")
		go func() {
			time.Sleep(500 * time.Millisecond)
			a.do("POST", "/drive/v1/nodes", acd.NewNode{Name: "wake", Kind: "FOLDER", Parents: []string{root}}, nil)
		}()
		start := time.Now()
		code, raw := b.do("POST", "/drive/v1/changes", `{"checkpoint":"`+cp+`","wait":30}`, nil)
		if el := time.Since(start); code != http.StatusOK || el > 10*time.Second || !strings.Contains(string(raw), `"name":"wake"`) {
			t.Errorf("long poll on B for a commit on A = %d after %v: %s", code, el, raw)
		}
	})

	t.Run("ConcurrentCreatesOneName", func(t *testing.T) {
		tok := c.token(t, "race")
		root := rootID(t, api{t, c.a.url, tok})
		const n = 50
		codes := make([]int, n)
		bodies := make([][]byte, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			base := c.a.url
			if i%2 == 1 {
				base = c.b.url
			}
			wg.Go(func() {
				<-start
				codes[i], bodies[i] = api{t, base, tok}.do("POST", "/drive/v1/nodes",
					acd.NewNode{Name: "Same Name", Kind: "FOLDER", Parents: []string{root}}, nil)
			})
		}
		close(start)
		wg.Wait()
		created, conflicts := 0, 0
		var winner string
		for i, code := range codes {
			switch code {
			case http.StatusCreated:
				created++
				var nd acd.Node
				_ = json.Unmarshal(bodies[i], &nd)
				winner = nd.ID
			case http.StatusConflict:
				conflicts++
			default:
				t.Errorf("create %d = %d %s", i, code, bodies[i])
			}
		}
		if created != 1 || conflicts != n-1 {
			t.Fatalf("%d concurrent creates over two replicas: %d created, %d conflicts; want 1 and %d", n, created, conflicts, n-1)
		}
		for i, code := range codes {
			if code == http.StatusConflict {
				if e := errorBody(t, bodies[i]); e.Info == nil || e.Info.NodeID != winner {
					t.Errorf("conflict %d names %+v, want node %s", i, e.Info, winner)
				}
			}
		}
		var list acd.NodeList
		api{t, c.b.url, tok}.do("GET", "/drive/v1/nodes/"+root+"/children", nil, &list)
		if len(list.Data) != 1 || list.Data[0].ID != winner {
			t.Errorf("root's children = %d nodes, want the winner only", len(list.Data))
		}
		// The same for uploads of one file name.
		var wg2 sync.WaitGroup
		start2 := make(chan struct{})
		for i := range n {
			base := c.a.url
			if i%2 == 1 {
				base = c.b.url
			}
			wg2.Go(func() {
				<-start2
				codes[i], bodies[i] = streamUpload(t, base, tok, root, "same.txt", strings.NewReader(fmt.Sprintf("writer %d", i)))
			})
		}
		close(start2)
		wg2.Wait()
		created, conflicts = 0, 0
		for i, code := range codes {
			switch code {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
				conflicts++
			default:
				t.Errorf("upload %d = %d %s", i, code, bodies[i])
			}
		}
		if created != 1 || conflicts != n-1 {
			t.Errorf("%d concurrent uploads of one name: %d created, %d conflicts; want 1 and %d", n, created, conflicts, n-1)
		}
	})

	// Last: it kills replica A.
	t.Run("KillReplicaMidUpload", func(t *testing.T) {
		tok := c.token(t, "crash")
		b := api{t, c.b.url, tok}
		root := rootID(t, b)
		_, cp := changeFeed(t, b, "")
		client, err := s3blob.NewClient(t.Context(), c.s3cfg)
		if err != nil {
			t.Fatal(err)
		}
		pending := func() int {
			out, err := client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &c.s3cfg.Bucket})
			if err != nil {
				t.Fatal(err)
			}
			return len(out.Uploads)
		}
		// A body that never ends: A stores its parts until it is killed.
		pr, pw := io.Pipe()
		defer pw.Close()
		go func() {
			chunk := randomBytes(1<<20, 42)
			for {
				if _, err := pw.Write(chunk); err != nil {
					return
				}
			}
		}()
		result := make(chan int, 1)
		go func() {
			code, _ := streamUpload(t, c.a.url, tok, root, "partial.bin", pr)
			result <- code
		}()
		waitFor(t, "A to start a multipart upload", func() bool { return pending() > 0 })
		c.a.kill()
		if code := <-result; code == http.StatusCreated {
			t.Fatalf("upload to a killed replica = %d", code)
		}
		pw.CloseWithError(io.ErrClosedPipe)

		var list acd.NodeList
		if code, raw := b.do("GET", "/drive/v1/nodes?filters=name:partial.bin", nil, &list); code != http.StatusOK || list.Count != 0 {
			t.Errorf("search for the partial upload via B = %d %s, want no node", code, raw)
		}
		if seq, _ := changeFeed(t, b, cp); len(seq) != 0 {
			t.Errorf("changes via B after the crash = %v, want none", seq)
		}
		if _, err := http.Get(c.a.url + "/healthz"); err == nil {
			t.Error("killed replica A still answers")
		}
		// B keeps serving reads and writes.
		data := randomBytes(3<<20, 43)
		code, raw := streamUpload(t, c.b.url, tok, root, "after.bin", bytes.NewReader(data))
		if code != http.StatusCreated {
			t.Fatalf("upload via B after A died = %d %s", code, raw)
		}
		var n acd.Node
		_ = json.Unmarshal(raw, &n)
		if code, got := b.do("GET", "/cdproxy/nodes/"+n.ID+"/content", nil, nil); code != http.StatusOK || !bytes.Equal(got, data) {
			t.Errorf("download via B after A died = %d, %d bytes", code, len(got))
		}
		// The crashed upload's parts are swept by garbage collection.
		out := runBinary(t, c.bin, c.env, "admin", "gc", "--data", t.TempDir(), "--grace", "0s")
		if !strings.Contains(out, "removed 1 interrupted uploads") {
			t.Errorf("admin gc = %q, want one interrupted upload removed", out)
		}
		if n := pending(); n != 0 {
			t.Errorf("%d multipart uploads left after gc", n)
		}
		if code, got := b.do("GET", "/cdproxy/nodes/"+n.ID+"/content", nil, nil); code != http.StatusOK || !bytes.Equal(got, data) {
			t.Errorf("download via B after gc = %d, %d bytes", code, len(got))
		}
	})
}
