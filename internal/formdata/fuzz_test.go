package formdata_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/formdata"
)

// goParts reads body with mime/multipart, without decoding
// quoted-printable, and returns the part bodies. ok is false if it fails
// anywhere before io.EOF.
func goParts(body []byte, boundary string) (bodies []string, ok bool) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return bodies, true
		}
		if err != nil {
			return nil, false
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, false
		}
		bodies = append(bodies, string(b))
	}
}

// fuzzParts reads body with formdata and returns the part bodies, how each
// part ended, and how the body ended. directMin, if not 0, sets the
// smallest read that bypasses the Reader's buffer.
func fuzzParts(t *testing.T, r io.Reader, boundary string, directMin int) (bodies []string, ends []error, err error) {
	mr := formdata.NewReader(r, boundary)
	if directMin > 0 {
		formdata.SetDirectMin(mr, directMin)
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			if _, err2 := mr.NextPart(); err2 != err {
				t.Fatalf("NextPart after %v = %v", err, err2)
			}
			return bodies, ends, err
		}
		p.FormName()
		p.FileName()
		b, rerr := io.ReadAll(p)
		if rerr == nil {
			rerr = io.EOF
		}
		bodies = append(bodies, string(b))
		ends = append(ends, rerr)
	}
}

func FuzzReader(f *testing.F) {
	f.Add("B0und", goBody(f, "B0und", "a.txt", []byte("hello")))
	f.Add("B0und", goBody(f, "B0und", "a\x01\"\\.txt", []byte("\r\n--B0und \r\n--B0undX\r\n--B0un")))
	f.Add("B0und", goBody(f, "B0und", "empty", nil))
	f.Add("b", []byte("preamble\r\n--b\nContent-Disposition: form-data; name=\"a\"\n\nx\r\ny\n--b\n\n--b--\njunk"))
	f.Add("b", []byte("--b\r\n\r\n--b\r\nX: 1\r\n folded\r\n\r\n\r\n--b \t\r\nno colon\r\n\r\ndata\r\n--b--junk"))
	f.Add("BOUNDARY", []byte("--BOUNDARY\r\nContent-Disposition: form-data; name=\"content\"; filename=\"foo\"\r\n\r\ndata\r\n--BOUNDARY--\r\nmultipart/form-data; boundary=BOUNDARY"))
	f.Add("-", []byte("---\r\n\r\n-----\r\n"))
	f.Add("b", []byte("--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n--b--"))
	f.Add("b", []byte("--b\r\n\r\ndata\r\n--b"))
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		bodies, ends, err := fuzzParts(t, bytes.NewReader(body), boundary, 0)
		if err != io.EOF && err != io.ErrUnexpectedEOF && !drive.Is(drive.Invalid, err) {
			t.Fatalf("NextPart error %v", err)
		}
		for i, e := range ends {
			if e != io.EOF && (i != len(ends)-1 || e != err) {
				t.Fatalf("part %d ended with %v, body with %v", i, e, err)
			}
		}
		// The way the input is split between reads must not matter.
		bodies1, ends1, err1 := fuzzParts(t, iotest.OneByteReader(bytes.NewReader(body)), boundary, 0)
		if !slices.Equal(bodies, bodies1) || !slices.Equal(ends, ends1) || errClass(err) != errClass(err1) {
			t.Fatalf("one byte at a time: %q %v %v; whole: %q %v %v", bodies1, ends1, err1, bodies, ends, err)
		}
		// Nor whether part data goes through the Reader's buffer.
		for _, src := range []io.Reader{iotest.HalfReader(bytes.NewReader(body)), iotest.OneByteReader(bytes.NewReader(body))} {
			bodies2, ends2, err2 := fuzzParts(t, src, boundary, 1)
			if !slices.Equal(bodies, bodies2) || !slices.Equal(ends, ends2) || errClass(err) != errClass(err2) {
				t.Fatalf("reading past the buffer: %q %v %v; through it: %q %v %v", bodies2, ends2, err2, bodies, ends, err)
			}
		}

		// Where mime/multipart succeeds, formdata must agree with it.
		if boundary == "" || len(boundary) > 256 || strings.ContainsAny(boundary, "\r\n") {
			if !drive.Is(drive.Invalid, err) {
				t.Fatalf("boundary %q: NextPart = %v, want a drive.Invalid error", boundary, err)
			}
			return
		}
		want, ok := goParts(body, boundary)
		if !ok {
			return
		}
		if drive.Is(drive.Invalid, err) && (bytes.Count(body, []byte("\n")) > 100 || longestLine(body) > 64<<10) {
			return // formdata's header limits are tighter
		}
		if manyBlanks(body, boundary) {
			return // formdata takes "--boundary" and over 256 blanks for data
		}
		if err == io.ErrUnexpectedEOF && !slices.Contains(ends, io.ErrUnexpectedEOF) && slices.Equal(bodies, want) {
			// The input ends inside a part's header block, which
			// mime/multipart takes for a clean end (net/textproto says
			// io.EOF) and formdata rightly does not.
			return
		}
		if err != io.EOF || !slices.Equal(bodies, want) {
			t.Fatalf("formdata: %q, %v; mime/multipart: %q, io.EOF", bodies, err, want)
		}
	})
}

func longestLine(b []byte) int {
	n := 0
	for line := range bytes.Lines(b) {
		n = max(n, len(line))
	}
	return n
}

// errClass names the kind of error NextPart returned: its drive.Kind, or
// the error itself.
func errClass(err error) string {
	if e := drive.AsError(err); e != nil {
		return e.Kind.String()
	}
	return err.Error()
}

// manyBlanks reports whether "--boundary" is followed by more than 256
// blanks somewhere in body.
func manyBlanks(body []byte, boundary string) bool {
	db := []byte("--" + boundary)
	for {
		i := bytes.Index(body, db)
		if i < 0 {
			return false
		}
		body = body[i+len(db):]
		if len(body)-len(bytes.TrimLeft(body, " \t")) > 256 {
			return true
		}
	}
}
