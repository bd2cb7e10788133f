package formdata_test

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/formdata"
)

// part is what readParts saw of one part.
type part struct {
	Name, FileName string
	Header         map[string]string
	Body           string
	Err            error // the error that ended Read: io.EOF when complete
}

// readParts reads every part of body and returns them with the error that
// ended NextPart (io.EOF when the body is complete). It reads each part
// with reads of readSize bytes.
func readParts(t testing.TB, r io.Reader, boundary string, readSize int) ([]part, error) {
	t.Helper()
	mr := formdata.NewReader(r, boundary)
	var parts []part
	for {
		p, err := mr.NextPart()
		if err != nil {
			if err2 := errorsAfter(mr); err2 != err {
				t.Fatalf("NextPart after %v = %v, want the same error (sticky)", err, err2)
			}
			return parts, err
		}
		var body bytes.Buffer
		buf := make([]byte, readSize)
		var rerr error
		for rerr == nil {
			var n int
			n, rerr = p.Read(buf)
			body.Write(buf[:n])
		}
		if n, err := p.Read(buf); n != 0 || err != rerr {
			t.Fatalf("Read after %v = %d, %v; want 0, the same error", rerr, n, err)
		}
		parts = append(parts, part{p.FormName(), p.FileName(), p.Header, body.String(), rerr})
	}
}

func errorsAfter(mr *formdata.Reader) error {
	_, err := mr.NextPart()
	return err
}

// chunkings are the ways tests split the input between Read calls.
var chunkings = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"onebyte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"dataerr", iotest.DataErrReader},
	{"random", func(r io.Reader) io.Reader { return &randomChunks{r: r, rng: rand.New(rand.NewPCG(1, 2))} }},
}

// randomChunks returns reads of random sizes up to 5000 bytes.
type randomChunks struct {
	r   io.Reader
	rng *rand.Rand
}

func (c *randomChunks) Read(p []byte) (int, error) {
	if n := 1 + c.rng.IntN(5000); len(p) > n {
		p = p[:n]
	}
	return c.r.Read(p)
}

const metadataJSON = `{"name":"a.txt","kind":"FILE","parents":["root"]}`

// goBody builds an upload body the way go-acd does: a metadata field, then
// a content file part, with mime/multipart.Writer.
func goBody(t testing.TB, boundary, fileName string, content []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if boundary != "" {
		if err := w.SetBoundary(boundary); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteField("metadata", metadataJSON); err != nil {
		t.Fatal(err)
	}
	fw, err := w.CreateFormFile("content", fileName)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkUpload checks parts read from a goBody body.
func checkUpload(t *testing.T, parts []part, err error, fileName string, content []byte) {
	t.Helper()
	if err != io.EOF {
		t.Fatalf("NextPart = %v, want io.EOF", err)
	}
	if len(parts) != 2 {
		t.Fatalf("got %d parts, want 2", len(parts))
	}
	if p := parts[0]; p.Name != "metadata" || p.FileName != "" || p.Body != metadataJSON || p.Err != io.EOF {
		t.Errorf("metadata part = %q %q %q %v", p.Name, p.FileName, p.Body, p.Err)
	}
	p := parts[1]
	if p.Name != "content" || p.FileName != fileName || p.Err != io.EOF {
		t.Errorf("content part = %q %q %v, want %q %q io.EOF", p.Name, p.FileName, p.Err, "content", fileName)
	}
	if p.Body != string(content) {
		t.Errorf("content body: got %d bytes, want %d; equal up to %d", len(p.Body), len(content), commonPrefix(p.Body, string(content)))
	}
	if ct := p.Header["content-type"]; ct != "application/octet-stream" {
		t.Errorf("content Content-Type = %q", ct)
	}
}

func commonPrefix(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// lookalikes are byte strings that resemble a delimiter of boundary "B0und"
// but are not one, when in the middle of part data. (At the start of the
// data, "--B0und" is a delimiter; at its end, "\r\n--B0und" forms one with
// the real delimiter that follows: see atStartOK and atEndOK.)
var lookalikes = []string{
	"\r\n--B0un",
	"\r\n--B0und",
	"\r\n--B0undX",  // more boundary characters
	"\r\n--B0und-x", // one dash only
	"\r\n--B0und \tx\r\n",
	"\r\n--B0und\rx",
	"\n--B0und\r\n", // no CR: data in CRLF mode
	"--B0und\r\n",   // no line break before it
	"\r\n-",
	"\r\n",
	"\r",
	"\r\r\n--",
	"--B0und--",
}

func atEndOK(l string) bool   { return !strings.HasSuffix(l, "--B0und") }
func atStartOK(l string) bool { return !strings.HasPrefix(l, "--B0und") }

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestGoWriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	contents := map[string][]byte{
		"empty":      {},
		"one":        {'x'},
		"text":       []byte("hello, world\r\n"),
		"crlf":       []byte("\r\n"),
		"random100k": randomBytes(rng, 100<<10+7),
		"random300k": randomBytes(rng, 300<<10),
	}
	for i, l := range lookalikes {
		if atStartOK(l) && atEndOK(l) {
			contents[fmt.Sprintf("lookalike%d", i)] = []byte(l)
		}
		if atEndOK(l) {
			contents[fmt.Sprintf("lookalike%d-end", i)] = []byte("abc" + l)
		}
		contents[fmt.Sprintf("lookalike%d-mid", i)] = []byte("abc" + l + "def")
	}
	for name, content := range contents {
		for _, c := range chunkings {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				body := goBody(t, "B0und", "a.txt", content)
				parts, err := readParts(t, c.wrap(bytes.NewReader(body)), "B0und", 4096)
				checkUpload(t, parts, err, "a.txt", content)
			})
		}
	}
}

// TestLookalikesAcrossBuffer puts delimiter look-alikes at every offset
// around the reader's 68 KiB buffer size, so that they straddle refills of
// a full buffer. (TestGoWriter covers reads of other sizes.)
func TestLookalikesAcrossBuffer(t *testing.T) {
	const bufSize = 68 << 10 // the first refill comes after exactly this many bytes
	headerLen := len(goBody(t, "B0und", "a.txt", nil)) - len("\r\n--B0und--\r\n")
	pool := randomBytes(rand.New(rand.NewPCG(5, 6)), bufSize)
	for _, l := range lookalikes {
		for d := -20; d <= 4; d++ {
			n := bufSize - headerLen + d
			content := append(slices.Clip(pool[:n]), l...)
			content = append(content, "XYZAB"...)
			body := goBody(t, "B0und", "a.txt", content)
			parts, err := readParts(t, bytes.NewReader(body), "B0und", 1000)
			checkUpload(t, parts, err, "a.txt", content)
			if !atEndOK(l) {
				continue
			}
			// Data ending in the look-alike, right before the delimiter.
			content = content[:len(content)-5]
			body = goBody(t, "B0und", "a.txt", content)
			parts, err = readParts(t, bytes.NewReader(body), "B0und", 1000)
			checkUpload(t, parts, err, "a.txt", content)
		}
	}
}

func TestControlCharsInFileName(t *testing.T) {
	// go-acd writes the raw name; Go's writer escapes only \ and " with a
	// backslash, CR and LF with percent signs.
	name := "a\x01b\x7f\"q\"\\z\tend"
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
	body := "--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"metadata\"\r\n\r\n" +
		metadataJSON + "\r\n" +
		"--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"content\"; filename=\"" + esc + "\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\n" +
		"data\x00\x01\r\n" +
		"--XyZ--\r\n"
	for _, c := range chunkings {
		t.Run(c.name, func(t *testing.T) {
			parts, err := readParts(t, c.wrap(strings.NewReader(body)), "XyZ", 7)
			checkUpload(t, parts, err, name, []byte("data\x00\x01"))
		})
	}
	// The same through mime/multipart.Writer, which go-acd uses.
	content := []byte("x")
	parts, err := readParts(t, bytes.NewReader(goBody(t, "B0und", name, content)), "B0und", 10)
	checkUpload(t, parts, err, name, content)
}

func TestEpilogue(t *testing.T) {
	const head = "--BOUNDARY\r\n" +
		"Content-Disposition: form-data; name=\"metadata\"\r\n\r\n" +
		metadataJSON + "\r\n" +
		"--BOUNDARY\r\n" +
		"Content-Disposition: form-data; name=\"content\"; filename=\"foo\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\n" +
		"file data"
	tests := map[string]string{
		"acd_cli":       "\r\n--BOUNDARY--\r\nmultipart/form-data; boundary=BOUNDARY",
		"no line break": "\r\n--BOUNDARY--",
		"same line":     "\r\n--BOUNDARY--junk\r\nmore junk",
		"blanks":        "\r\n--BOUNDARY-- \t\r\n",
		"delimiters":    "\r\n--BOUNDARY--\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n--BOUNDARY--\r\n",
		"bad headers":   "\r\n--BOUNDARY--\r\n--BOUNDARY\r\n" + strings.Repeat("x", 100<<10),
	}
	for name, tail := range tests {
		for _, c := range chunkings {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				parts, err := readParts(t, c.wrap(strings.NewReader(head+tail)), "BOUNDARY", 3)
				checkUploadNoCT(t, parts, err, "foo", "file data")
			})
		}
	}
}

// checkUploadNoCT is checkUpload for hand-written bodies.
func checkUploadNoCT(t *testing.T, parts []part, err error, fileName, content string) {
	t.Helper()
	if err != io.EOF {
		t.Fatalf("NextPart = %v, want io.EOF", err)
	}
	if len(parts) != 2 {
		t.Fatalf("got %d parts, want 2: %+v", len(parts), parts)
	}
	if p := parts[0]; p.Name != "metadata" || p.Body != metadataJSON || p.Err != io.EOF {
		t.Errorf("metadata part = %q %q %v", p.Name, p.Body, p.Err)
	}
	if p := parts[1]; p.Name != "content" || p.FileName != fileName || p.Body != content || p.Err != io.EOF {
		t.Errorf("content part = %q %q %q %v, want %q %q %q io.EOF", p.Name, p.FileName, p.Body, p.Err, "content", fileName, content)
	}
}

func TestPreamble(t *testing.T) {
	const parts = "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n" + metadataJSON +
		"\r\n--b\r\nContent-Disposition: form-data; name=\"content\"; filename=\"foo\"\r\n\r\n" +
		"file data\r\n--b--\r\n"
	preambles := map[string]string{
		"none":      "",
		"text":      "This is a preamble.\r\n",
		"bare LF":   "preamble\n\n",
		"lookalike": "--bb\r\n--b x\r\n --b\r\n--b--x\r\n",
		"long line": strings.Repeat("p", 200<<10) + "\r\n",
	}
	for name, pre := range preambles {
		t.Run(name, func(t *testing.T) {
			p, err := readParts(t, strings.NewReader(pre+parts), "b", 100)
			checkUploadNoCT(t, p, err, "foo", "file data")
		})
	}
}

func TestBareLF(t *testing.T) {
	body := "--b\nContent-Disposition: form-data; name=\"metadata\"\n\n" + metadataJSON +
		"\n--b\nContent-Disposition: form-data; name=\"content\"; filename=\"foo\"\n\n" +
		"file\r\ndata\n--b--\n"
	for _, c := range chunkings {
		t.Run(c.name, func(t *testing.T) {
			p, err := readParts(t, c.wrap(strings.NewReader(body)), "b", 100)
			checkUploadNoCT(t, p, err, "foo", "file\r\ndata")
		})
	}
	// LF header lines in a CRLF body, and an LF after a CRLF delimiter.
	body = "--b\r\nContent-Disposition: form-data; name=\"metadata\"\n\n" + metadataJSON +
		"\r\n--b\nContent-Disposition: form-data; name=\"content\"; filename=\"foo\"\r\n\n" +
		"file\ndata\r\n--b--"
	p, err := readParts(t, strings.NewReader(body), "b", 100)
	checkUploadNoCT(t, p, err, "foo", "file\ndata")
}

func TestEmptyParts(t *testing.T) {
	tests := map[string]string{
		"blank line":            "--b\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n\r\n--b--\r\n",
		"no blank line":         "--b\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n--b--\r\n",
		"no blank line, LF":     "--b\nContent-Disposition: form-data; name=\"content\"\n\n--b--\n",
		"no headers":            "--b\r\n\r\n\r\n--b--\r\n",
		"no headers, no body":   "--b\r\n\r\n--b--",
		"delimiter after empty": "--b\r\n\r\n--b\r\n\r\n--b--",
	}
	for name, body := range tests {
		for _, c := range chunkings {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				parts, err := readParts(t, c.wrap(strings.NewReader(body)), "b", 10)
				if err != io.EOF || len(parts) == 0 {
					t.Fatalf("got %d parts and %v, want some and io.EOF", len(parts), err)
				}
				for _, p := range parts {
					if p.Body != "" || p.Err != io.EOF {
						t.Errorf("part body %q, %v; want empty, io.EOF", p.Body, p.Err)
					}
				}
			})
		}
	}
}

func TestDelimiterBlanks(t *testing.T) {
	for _, tt := range []struct {
		blanks string
		delim  bool
	}{
		{" ", true},
		{" \t \t", true},
		{strings.Repeat(" ", 256), true},
		{strings.Repeat(" ", 257), false},
		{strings.Repeat(" ", 4096), false},
		{strings.Repeat("\t", 70000), false},
	} {
		for _, c := range chunkings[:3] {
			body := "--b\r\n\r\none\r\n--b" + tt.blanks + "\r\n\r\ntwo\r\n--b--"
			parts, err := readParts(t, c.wrap(strings.NewReader(body)), "b", 10)
			var want []string
			if tt.delim {
				want = []string{"one", "two"}
			} else {
				want = []string{"one\r\n--b" + tt.blanks + "\r\n\r\ntwo"}
			}
			var got []string
			for _, p := range parts {
				got = append(got, p.Body)
			}
			if err != io.EOF || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%d blanks, %s: got %d parts, %v; want %d, io.EOF", len(tt.blanks), c.name, len(got), err, len(want))
			}
		}
	}
}

// TestTruncatedInHeader checks the case mime/multipart gets wrong: a body
// cut off inside a part's header block is no clean end.
func TestTruncatedInHeader(t *testing.T) {
	body := "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{}\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"content\"\r\n"
	parts, err := readParts(t, strings.NewReader(body), "b", 10)
	if err != io.ErrUnexpectedEOF || len(parts) != 1 || parts[0].Body != "{}" {
		t.Errorf("got %d parts, %v; want 1, io.ErrUnexpectedEOF", len(parts), err)
	}
}

func TestNoParts(t *testing.T) {
	for _, body := range []string{"--b--", "--b--\r\n", "preamble\r\n--b-- \r\nepilogue"} {
		parts, err := readParts(t, strings.NewReader(body), "b", 10)
		if err != io.EOF || len(parts) != 0 {
			t.Errorf("%q: got %d parts and %v, want none and io.EOF", body, len(parts), err)
		}
	}
}

// TestTruncated cuts a body at every offset: reading must never pass a cut
// body for a complete one, and the error must be io.ErrUnexpectedEOF.
func TestTruncated(t *testing.T) {
	content := []byte("file data with \r\n--B0und lookalike\r\n--B0undX and \r\n at the end\r\n")
	bodies := map[string][]byte{
		"go":   goBody(t, "B0und", "a.txt", content),
		"LF":   []byte("--B0und\nContent-Disposition: form-data; name=\"metadata\"\n\n" + metadataJSON + "\n--B0und\nContent-Disposition: form-data; name=\"content\"; filename=\"a.txt\"\n\n" + string(content) + "\n--B0und--\n"),
		"tiny": []byte("--B0und\r\n\r\n\r\n--B0und\r\n\r\n--B0und--"),
	}
	for name, body := range bodies {
		// Everything but the line break after the close delimiter.
		complete := bytes.LastIndex(body, []byte("--B0und--")) + len("--B0und--")
		for cut := range len(body) {
			for _, c := range chunkings[:2] {
				parts, err := readParts(t, c.wrap(bytes.NewReader(body[:cut])), "B0und", 5)
				if cut >= complete {
					if err != io.EOF {
						t.Errorf("%s: cut at %d/%d: NextPart = %v, want io.EOF", name, cut, len(body), err)
					}
					continue
				}
				if err != io.ErrUnexpectedEOF {
					t.Errorf("%s: cut at %d/%d: NextPart = %v, want io.ErrUnexpectedEOF", name, cut, len(body), err)
				}
				for i, p := range parts {
					switch {
					case p.Err == io.EOF && i == 0 && name != "tiny" && p.Body != metadataJSON:
						t.Errorf("%s: cut at %d: complete metadata %q", name, cut, p.Body)
					case p.Err == io.EOF && i == 1 && p.Body != string(content):
						t.Errorf("%s: cut at %d: complete content %q", name, cut, p.Body)
					case p.Err != io.EOF && p.Err != io.ErrUnexpectedEOF:
						t.Errorf("%s: cut at %d: part %d: Read error %v", name, cut, i, p.Err)
					case p.Err == io.ErrUnexpectedEOF && i != len(parts)-1:
						t.Errorf("%s: cut at %d: part %d truncated but not last", name, cut, i)
					}
				}
				if n := len(parts); n > 0 && parts[n-1].Err == io.EOF && n == 2 && name != "tiny" {
					t.Errorf("%s: cut at %d: both parts complete", name, cut)
				}
			}
		}
	}
}

// TestTruncatedContent checks that the content part itself reports the
// cut, so that a handler streaming it into storage refuses it.
func TestTruncatedContent(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 20000)
	body := goBody(t, "B0und", "a.txt", content)
	start := bytes.Index(body, []byte("octet-stream\r\n\r\n")) + len("octet-stream\r\n\r\n")
	for _, cut := range []int{start, start + 1, start + 70000, len(body) - len("\r\n--B0und--\r\n"), len(body) - 3} {
		mr := formdata.NewReader(bytes.NewReader(body[:cut]), "B0und")
		if _, err := mr.NextPart(); err != nil {
			t.Fatal(err)
		}
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, p)
		if err != io.ErrUnexpectedEOF {
			t.Errorf("cut at %d: io.Copy(part) = %d, %v; want io.ErrUnexpectedEOF", cut, n, err)
		}
		if _, err := mr.NextPart(); err != io.ErrUnexpectedEOF {
			t.Errorf("cut at %d: NextPart = %v, want io.ErrUnexpectedEOF", cut, err)
		}
	}
}

func TestSourceError(t *testing.T) {
	errBoom := errors.New("boom")
	body := goBody(t, "B0und", "a.txt", bytes.Repeat([]byte("x"), 100000))
	r := io.MultiReader(bytes.NewReader(body[:50000]), iotest.ErrReader(errBoom))
	parts, err := readParts(t, r, "B0und", 4096)
	if !errors.Is(err, errBoom) {
		t.Errorf("NextPart = %v, want %v", err, errBoom)
	}
	if len(parts) != 2 || !errors.Is(parts[1].Err, errBoom) {
		t.Errorf("content part ended with %v, want %v", parts[len(parts)-1].Err, errBoom)
	}
}

func TestSkipUnread(t *testing.T) {
	content := bytes.Repeat([]byte("y"), 300000)
	body := goBody(t, "B0und", "a.txt", content)
	mr := formdata.NewReader(bytes.NewReader(body), "B0und")
	p1, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	p1.Read(make([]byte, 3))
	p2, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := p1.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read of a passed part = %d, %v; want 0, io.EOF", n, err)
	}
	if p2.FormName() != "content" {
		t.Errorf("FormName = %q, want content", p2.FormName())
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("NextPart = %v, want io.EOF", err)
	}
}

func TestHeaderLimits(t *testing.T) {
	body := func(header string) string {
		return "--b\r\n" + header + "\r\n" + "data\r\n--b--\r\n"
	}
	tests := []struct {
		name   string
		header string
		ok     bool
	}{
		{"100 lines", strings.Repeat("X-A: 1\r\n", 100), true},
		{"101 lines", strings.Repeat("X-A: 1\r\n", 101), false},
		{"100 folded lines", "X-A: 1\r\n" + strings.Repeat(" 1\r\n", 99), true},
		{"101 folded lines", "X-A: 1\r\n" + strings.Repeat(" 1\r\n", 100), false},
		{"64 KiB line", "X-A: " + strings.Repeat("v", 64<<10-5) + "\r\n", true},
		{"64 KiB line, LF", "X-A: " + strings.Repeat("v", 64<<10-5) + "\n", true},
		{"64 KiB+1 line", "X-A: " + strings.Repeat("v", 64<<10-4) + "\r\n", false},
		{"1 MiB line", "X-A: " + strings.Repeat("v", 1<<20) + "\r\n", false},
		{"1 MiB line, no LF", "X-A: " + strings.Repeat("v", 1<<20), false},
	}
	for _, tt := range tests {
		for _, c := range chunkings[:3] {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				parts, err := readParts(t, c.wrap(strings.NewReader(body(tt.header))), "b", 100)
				if tt.ok {
					if err != io.EOF || len(parts) != 1 || parts[0].Body != "data" {
						t.Errorf("got %d parts, %v; want 1, io.EOF", len(parts), err)
					}
					return
				}
				if !drive.Is(drive.Invalid, err) || len(parts) != 0 {
					t.Errorf("got %d parts, %v; want 0, a drive.Invalid error", len(parts), err)
				}
			})
		}
	}
}

func TestHeader(t *testing.T) {
	header := "content-DISPOSITION:form-data;name=content\r\n" +
		"X-Folded: one\r\n two \r\n\tthree\r\n" +
		"X-Dup: first\r\n" +
		"x-dup: second\r\n" +
		"  \r\n" +
		"no colon here\r\n" +
		": no name\r\n" +
		"X-Ctl: \x01\x7f\xff\"\r\n" +
		"X-Empty:\r\n" +
		"X-Spaces \t: \t v \t\r\n"
	want := map[string]string{
		"content-disposition": "form-data;name=content",
		"x-folded":            "one two three",
		"x-dup":               "first",
		"x-ctl":               "\x01\x7f\xff\"",
		"x-empty":             "",
		"x-spaces":            "v",
	}
	parts, err := readParts(t, strings.NewReader("--b\r\n"+header+"\r\nx\r\n--b--"), "b", 10)
	if err != io.EOF || len(parts) != 1 {
		t.Fatalf("got %d parts, %v; want 1, io.EOF", len(parts), err)
	}
	if got := parts[0].Header; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Header = %q, want %q", got, want)
	}
	if parts[0].Name != "content" {
		t.Errorf("FormName = %q, want content", parts[0].Name)
	}
}

func TestDisposition(t *testing.T) {
	tests := []struct {
		header, name, fileName string
	}{
		{`form-data; name="content"; filename="a.txt"`, "content", "a.txt"},
		{`form-data; name=content; filename=a.txt`, "content", "a.txt"},
		{`FORM-DATA; NAME="content"; FileName="a.txt"`, "content", "a.txt"},
		{`form-data;name="content";filename="a b.txt"`, "content", "a b.txt"},
		{`form-data ; name = "content" ; filename = "a.txt" `, "content", "a.txt"},
		{`form-data; name="metadata"`, "metadata", ""},
		{`form-data; filename="a.txt"; name="content"`, "content", "a.txt"},
		{`form-data; name="content"; filename="a;b.txt"`, "content", "a;b.txt"},
		{`form-data; name="content"; filename="a\"b\\c"`, "content", `a"b\c`},
		{`form-data; name="content"; filename="a"b.txt"`, "content", `a"b.txt`},
		{`form-data; name="content"; filename="a"`, "content", `a`},
		{`form-data; name="content"; filename="unterminated`, "content", `unterminated`},
		{`form-data; name="content"; filename="trailing\`, "content", `trailing\`},
		{`form-data; name="content"; filename=""`, "content", ""},
		{"form-data; name=\"content\"; filename=\"\x00\x01\x1f\x7f\xff\xfe\"", "content", "\x00\x01\x1f\x7f\xff\xfe"},
		{`form-data; name="content"; filename="a%0D%0Ab"`, "content", "a%0D%0Ab"},
		{`form-data; name="content"; filename=foo+bar%21`, "content", "foo+bar%21"},
		{`form-data; name="content"; filename="x"; filename*=UTF-8''na%C3%AFve%20%E2%82%AC.txt`, "content", "naïve €.txt"},
		{`form-data; name="content"; filename*=utf-8'en'a%20b`, "content", "a b"},
		{`form-data; name="content"; filename*=iso-8859-1''caf%E9`, "content", "café"},
		{`form-data; name="content"; filename="x"; filename*=UTF-8''bad%ZZ`, "content", "x"},
		{`form-data; name="content"; filename="x"; filename*=UTF-8''%FF`, "content", "x"},
		{`form-data; name="content"; filename="x"; filename*=koi8-r''a`, "content", "x"},
		{`form-data; name="content"; name="other"`, "content", ""},
		{`form-data; name`, "", ""},
		{`form-data; ; flag; name="content"`, "content", ""},
		{`form-data; =x; name="content"`, "content", ""},
		{`attachment; name="content"`, "content", ""},
		{`name="content"`, "", ""},
		{``, "", ""},
		{`;;;;`, "", ""},
		{`form-data; name="`, "", ""},
	}
	for _, tt := range tests {
		body := "--b\r\nContent-Disposition: " + tt.header + "\r\n\r\n\r\n--b--"
		mr := formdata.NewReader(strings.NewReader(body), "b")
		p, err := mr.NextPart()
		if err != nil {
			t.Errorf("%q: NextPart: %v", tt.header, err)
			continue
		}
		if got := p.FormName(); got != tt.name {
			t.Errorf("%q: FormName() = %q, want %q", tt.header, got, tt.name)
		}
		if got := p.FileName(); got != tt.fileName {
			t.Errorf("%q: FileName() = %q, want %q", tt.header, got, tt.fileName)
		}
	}
}

func TestBoundary(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"multipart/form-data; boundary=abc", "abc", true},
		{`multipart/form-data; boundary="abc"`, "abc", true},
		{`Multipart/Form-Data;BOUNDARY=abc`, "abc", true},
		{`multipart/form-data; charset=utf-8; boundary=abc; x=y`, "abc", true},
		{`multipart/form-data; boundary="a;b c"; charset=utf-8`, "a;b c", true},
		{` multipart/form-data ; boundary = abc `, "abc", true},
		{`multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW`, "----WebKitFormBoundary7MA4YWxkTrZu0gW", true},
		{`multipart/form-data; boundary=0123456789abcdef0123456789abcdef`, "0123456789abcdef0123456789abcdef", true},
		{`multipart/form-data; boundary=abc; boundary=def`, "abc", true},
		{`multipart/form-data`, "", false},
		{`multipart/form-data;`, "", false},
		{`multipart/form-data; boundary=`, "", false},
		{`multipart/form-data; boundary=""`, "", false},
		{`multipart/form-data; boundary="` + strings.Repeat("x", 257) + `"`, "", false},
		{"multipart/form-data; boundary=\"a\r\nb\"", "", false},
		{`multipart/mixed; boundary=abc`, "", false},
		{`application/octet-stream`, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		got, err := formdata.Boundary(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("Boundary(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
			}
			continue
		}
		if e := drive.AsError(err); e == nil || e.Kind != drive.Invalid || e.Param != "Content-Type" {
			t.Errorf("Boundary(%q) = %q, %v; want a drive.Invalid error for Content-Type", tt.in, got, err)
		}
	}
}

func TestBadBoundary(t *testing.T) {
	for _, b := range []string{"", "a\nb", strings.Repeat("x", 257)} {
		_, err := formdata.NewReader(strings.NewReader("--b--"), b).NextPart()
		if !drive.Is(drive.Invalid, err) {
			t.Errorf("NewReader(%q).NextPart() = %v, want a drive.Invalid error", b, err)
		}
	}
}

// patternReader yields n pseudo-random bytes without allocating.
type patternReader struct {
	rng *rand.Rand
	n   int64
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	for i := range p {
		p[i] = byte(r.rng.Uint32())
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// TestLargePipe streams a 50 MiB part through an io.Pipe in small writes
// of random sizes and checks its MD5 and that reading it allocates little.
func TestLargePipe(t *testing.T) {
	size := int64(50 << 20)
	if testing.Short() {
		size = 5 << 20
	}
	pr, pw := io.Pipe()
	want := make(chan []byte, 1)
	go func() {
		rng := rand.New(rand.NewPCG(7, 8))
		h := md5.New()
		w := multipart.NewWriter(pw)
		w.SetBoundary("B0und")
		w.WriteField("metadata", metadataJSON)
		fw, _ := w.CreateFormFile("content", "big.bin")
		data := &patternReader{rng: rand.New(rand.NewPCG(9, 10)), n: size}
		buf := make([]byte, 9000)
		for {
			n, err := data.Read(buf[:1+rng.IntN(len(buf))])
			h.Write(buf[:n])
			fw.Write(buf[:n])
			if err != nil {
				break
			}
		}
		want <- h.Sum(nil)
		pw.CloseWithError(w.Close())
	}()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	mr := formdata.NewReader(pr, "B0und")
	if _, err := mr.NextPart(); err != nil {
		t.Fatal(err)
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	buf := make([]byte, 32<<10)
	n, err := io.CopyBuffer(h, p, buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("NextPart = %v, want io.EOF", err)
	}
	runtime.ReadMemStats(&after)
	if n != size {
		t.Errorf("read %d bytes, want %d", n, size)
	}
	if got := h.Sum(nil); !bytes.Equal(got, <-want) {
		t.Errorf("MD5 mismatch")
	}
	// The writer goroutine allocates a little too; the reader's buffer is
	// 68 KiB. Anything proportional to the size would be megabytes.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("allocated %d bytes while streaming %d", alloc, size)
	}
}

// BenchmarkRead64MiB reads a 64 MiB part in 32 KiB reads, with a short
// boundary and with the 60 hex digits mime/multipart.Writer chooses (as
// go-acd, and so rclone, sends).
func BenchmarkRead64MiB(b *testing.B) {
	const size = 64 << 20
	content := make([]byte, size)
	(&patternReader{rng: rand.New(rand.NewPCG(1, 1)), n: size}).Read(content)
	for _, boundary := range []string{"B0und", strings.Repeat("0123456789abcdef", 4)[:60]} {
		b.Run(fmt.Sprintf("boundary%d", len(boundary)), func(b *testing.B) {
			benchRead(b, goBody(b, boundary, "big.bin", content), boundary, size)
		})
	}
}

func benchRead(b *testing.B, body []byte, boundary string, size int64) {
	buf := make([]byte, 32<<10)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		mr := formdata.NewReader(bytes.NewReader(body), boundary)
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{p}, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func ExampleReader() {
	body := "--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"metadata\"\r\n\r\n" +
		`{"name":"a.txt","kind":"FILE"}` + "\r\n" +
		"--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"content\"; filename=\"a\x01.txt\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\n" +
		"hello\r\n" +
		"--XyZ--\r\nmultipart/form-data; boundary=XyZ"
	boundary, err := formdata.Boundary("multipart/form-data; boundary=XyZ")
	if err != nil {
		panic(err)
	}
	mr := formdata.NewReader(strings.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err) // io.ErrUnexpectedEOF: a broken-off upload
		}
		data, err := io.ReadAll(p)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s %q: %s\n", p.FormName(), p.FileName(), data)
	}
	// Output:
	// metadata "": {"name":"a.txt","kind":"FILE"}
	// content "a\x01.txt": hello
}
