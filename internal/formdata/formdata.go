// Package formdata reads multipart/form-data upload bodies leniently and in
// constant memory.
//
// It exists because the Amazon Cloud Drive clients send upload bodies that
// mime/multipart refuses or misreads (API notes §6.1 and §14):
//
//   - go-acd, and so rclone, writes the raw file name, control characters
//     included, into the content part's filename= parameter. net/textproto
//     rejects such header values, so mime/multipart fails the whole upload
//     and rclone retries until it gives up.
//   - acd_cli's upload_stream appends junk after the closing boundary.
//   - Bodies are often chunked, so their length is unknown until they end,
//     and a body that breaks off before the closing boundary must be told
//     apart from a complete one: the server must not create a file from it.
//     mime/multipart reports a body cut off inside a part's header block as
//     a clean io.EOF.
//
// What Reader accepts:
//
//   - Any preamble before the first delimiter line, and any epilogue after
//     the close delimiter "--boundary--" (it is never even read). A clean
//     end of input right after "--boundary--" is fine too.
//   - Part header lines ending in CRLF or bare LF, folded lines, lines
//     without a colon (ignored) and any bytes in values. Content-Disposition
//     parameters are parsed best-effort (see Part.FileName). Only the limits
//     fail a part: a header line longer than 64 KiB, or more than 100 header
//     lines, is a drive.Invalid error.
//   - Delimiter lines ending in CRLF or bare LF, with up to 256 blanks
//     before the line end. As in mime/multipart, the first delimiter line decides
//     which line break separates a part body from the next delimiter: "\r\n"
//     normally, "\n" when the first delimiter line ends in a bare LF. A
//     "\r\n--boundary" (or "\n--boundary") that is not followed by blanks
//     and a line end, or by "--", is part data.
//
// What it guarantees:
//
//   - A Part's Read returns io.EOF only after a complete delimiter. If the
//     input ends first, Read and NextPart return io.ErrUnexpectedEOF, never
//     io.EOF, so a broken-off upload cannot pass for a short file. Errors
//     from the underlying reader (a cancelled request, an exceeded
//     http.MaxBytesReader) are returned unchanged.
//   - Memory stays bounded whatever the part size: one buffer of about
//     68 KiB per Reader, plus the part headers (at most 100 lines).
//
// Speed: a Read of part data of 4 KiB or more that finds the buffer empty
// reads the input straight into the caller's slice, one copy fewer, so a
// large content part costs little beyond the copy out of the socket and
// the delimiter search (bytes.Index, about 25 GB/s on random data here).
//
// It does not decode Content-Transfer-Encoding (RFC 7578 deprecates it for
// form data) and does not spool parts to disk: parts are read in order,
// and NextPart discards whatever is left of the current part.
package formdata

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/clouddrive/clouddrive/internal/drive"
)

const (
	maxLineLen     = 64 << 10           // longest part header line, line break excluded
	maxHeaderLines = 100                // most part header lines, folded lines included
	maxBoundaryLen = 256                // RFC 2046 allows 70; be generous
	maxBlanks      = 256                // most blanks between a boundary and its line break
	bufSize        = maxLineLen + 4<<10 // must hold a longest line and a delimiter
	directMin      = 4 << 10            // see Reader.directMin
)

// errLineTooLong is returned by readLine; callers translate it.
var errLineTooLong = errors.New("formdata: line too long")

// Boundary returns the boundary parameter of a multipart/form-data
// Content-Type header value. The media type is matched case-insensitively,
// the parameter may be quoted or not and may come with other parameters.
// A missing or malformed header gives a drive.Invalid error whose Param is
// "Content-Type".
func Boundary(contentType string) (string, error) {
	const op = "formdata.Boundary"
	invalid := func(msg string) (string, error) {
		e := drive.E(op, drive.Invalid, msg)
		e.Param = "Content-Type"
		return "", e
	}
	typ, params := parseParams(contentType)
	if typ != "multipart/form-data" {
		return invalid("Content-Type must be multipart/form-data")
	}
	b, ok := params["boundary"]
	if !ok || b == "" {
		return invalid("multipart boundary is missing")
	}
	if !validBoundary(b) {
		return invalid("multipart boundary is malformed")
	}
	return b, nil
}

// validBoundary reports whether NewReader can work with boundary b. It is
// laxer than RFC 2046 (any byte but CR and LF, up to 256 bytes), but a
// boundary must not contain a line break for the delimiter search to work.
func validBoundary(b string) bool {
	return len(b) > 0 && len(b) <= maxBoundaryLen && !strings.ContainsAny(b, "\r\n")
}

// Reader is an iterator over the parts of a multipart/form-data body. It
// reads its input as needed and never seeks. A Reader and its Parts are not
// safe for concurrent use.
type Reader struct {
	src    io.Reader
	srcErr error // sticky error from src; io.EOF at the end of input
	buf    []byte
	r, w   int // buf[r:w] is read from src but not consumed

	dashBoundary   []byte // "--boundary"
	nlDashBoundary []byte // "\r\n--boundary", or "\n--boundary" in bare-LF mode

	// directMin is the smallest Read of part data that reads the input
	// straight into the caller's slice (see Part.readDirect).
	directMin int

	started bool  // the preamble has been skipped
	cur     *Part // the part being read, if any
	err     error // sticky: io.EOF after the close delimiter, or the failure
}

// NewReader returns a Reader that reads the parts of a multipart/form-data
// body delimited by boundary, as returned by Boundary. If boundary is
// unusable (empty, longer than 256 bytes or containing a line break),
// NextPart returns a drive.Invalid error.
func NewReader(r io.Reader, boundary string) *Reader {
	mr := &Reader{src: r, directMin: directMin}
	if !validBoundary(boundary) {
		e := drive.E("formdata.NewReader", drive.Invalid, "multipart boundary is malformed")
		e.Param = "Content-Type"
		mr.err = e
		return mr
	}
	b := []byte("\r\n--" + boundary)
	mr.nlDashBoundary = b
	mr.dashBoundary = b[2:]
	mr.buf = make([]byte, bufSize)
	return mr
}

// NextPart returns the next part of the body, first discarding whatever is
// left unread of the current one. It returns io.EOF after the close
// delimiter; io.ErrUnexpectedEOF if the input ends before it; a
// drive.Invalid error if the part headers exceed the limits; and any error
// of the underlying reader unchanged. Errors are sticky: once NextPart has
// returned an error, it returns the same one again.
func (r *Reader) NextPart() (*Part, error) {
	if r.err != nil {
		return nil, r.err
	}
	if p := r.cur; p != nil {
		r.cur = nil
		if err := p.discard(); err != nil {
			return nil, err // p has set r.err
		}
		if r.err != nil {
			return nil, r.err // io.EOF after the close delimiter
		}
	} else if !r.started {
		r.started = true
		if err := r.skipPreamble(); err != nil {
			r.err = err
			return nil, err
		}
	}
	h, err := r.readHeader()
	if err != nil {
		r.err = err
		return nil, err
	}
	r.cur = &Part{Header: h, mr: r}
	return r.cur, nil
}

// skipPreamble consumes input up to and including the first delimiter
// line. It returns io.EOF if it meets the close delimiter first.
func (r *Reader) skipPreamble() error {
	for {
		line, err := r.readLine(maxLineLen)
		if err == errLineTooLong {
			// A long preamble line is no delimiter: skip it.
			if err := r.skipLine(); err != nil {
				return r.inputErr(err)
			}
			continue
		}
		if err != nil {
			if err == io.EOF && r.isCloseLine(line) {
				return io.EOF
			}
			return r.inputErr(err)
		}
		if r.isDelimiterLine(line) {
			return nil
		}
		if r.isCloseLine(line) {
			return io.EOF
		}
	}
}

// isDelimiterLine reports whether line, line break included, is a
// delimiter line: "--boundary", optional blanks, then CRLF or LF. A bare LF
// switches the Reader to bare-LF mode, as mime/multipart does.
func (r *Reader) isDelimiterLine(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, r.dashBoundary)
	if !ok {
		return false
	}
	switch string(trimBlanksLeft(rest)) {
	case "\r\n":
		return true
	case "\n":
		r.nlDashBoundary = r.nlDashBoundary[1:]
		return true
	}
	return false
}

// isCloseLine reports whether a preamble line is the close delimiter
// "--boundary--" followed by blanks and CRLF or the end of input. (It is
// stricter than the close delimiter after a part, which may be followed by
// anything, to skip the same preamble lines mime/multipart skips.)
func (r *Reader) isCloseLine(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, r.dashBoundary)
	if !ok {
		return false
	}
	rest, ok = bytes.CutPrefix(rest, []byte("--"))
	if !ok {
		return false
	}
	rest = trimBlanksLeft(rest)
	return len(rest) == 0 || string(rest) == "\r\n"
}

// readHeader reads the header lines of a part and the blank line that ends
// them.
func (r *Reader) readHeader() (map[string]string, error) {
	const op = "formdata.NextPart"
	// Values are built in place so that folded lines cost no quadratic
	// copying.
	vals := make(map[string]*bytes.Buffer)
	var last *bytes.Buffer // the value that folded lines continue, if kept
	for n := 0; ; n++ {
		line, err := r.readLine(maxLineLen)
		if err == errLineTooLong {
			return nil, drive.E(op, drive.Invalid, "multipart part header line longer than 64 KiB")
		}
		if err != nil {
			return nil, r.inputErr(err)
		}
		line = trimLineBreak(line)
		if len(line) == 0 {
			h := make(map[string]string, len(vals))
			for k, v := range vals {
				h[k] = v.String()
			}
			return h, nil
		}
		if n >= maxHeaderLines {
			return nil, drive.E(op, drive.Invalid, "multipart part has more than 100 header lines")
		}
		if line[0] == ' ' || line[0] == '\t' {
			if v := trimBlanks(line); last != nil && len(v) > 0 {
				last.WriteByte(' ')
				last.Write(v)
			}
			continue
		}
		last = nil
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		key := strings.ToLower(string(trimBlanks(k)))
		if _, dup := vals[key]; dup || key == "" {
			continue
		}
		last = bytes.NewBuffer(bytes.Clone(trimBlanks(v)))
		vals[key] = last
	}
}

// inputErr translates an error met while reading the input: the end of
// input is io.ErrUnexpectedEOF, since every caller still expected a
// delimiter; other errors pass unchanged.
func (r *Reader) inputErr(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// fill moves the unconsumed bytes to the front of the buffer and reads more
// input after them. It reads once, so it may add nothing; the caller checks
// r.srcErr and that the buffer is not already full.
func (r *Reader) fill() {
	if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.srcErr != nil || r.w == len(r.buf) {
		return
	}
	for range 100 {
		n, err := r.src.Read(r.buf[r.w:])
		if n < 0 || n > len(r.buf)-r.w {
			r.srcErr = errors.New("formdata: reader returned invalid count")
			return
		}
		r.w += n
		if err != nil {
			r.srcErr = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.srcErr = io.ErrNoProgress
}

// readLine consumes and returns the next line, line break included; the
// slice is valid until the next read. If the input ends first, it consumes
// and returns the unterminated rest with the input error. If the line
// without its line break would exceed max bytes, it consumes nothing and
// returns errLineTooLong.
func (r *Reader) readLine(max int) ([]byte, error) {
	seen := 0 // bytes of buf[r.r:] known to hold no LF
	for {
		buf := r.buf[r.r:r.w]
		if i := bytes.IndexByte(buf[seen:], '\n'); i >= 0 {
			line := buf[:seen+i+1]
			if len(trimLineBreak(line)) > max {
				return nil, errLineTooLong
			}
			r.r += len(line)
			return line, nil
		}
		seen = len(buf)
		if len(buf) > max+1 { // even with a CR at the end, too long
			return nil, errLineTooLong
		}
		if r.srcErr != nil {
			r.r = r.w
			return buf, r.srcErr
		}
		r.fill()
	}
}

// skipLine consumes input up to and including the next LF.
func (r *Reader) skipLine() error {
	for {
		if i := bytes.IndexByte(r.buf[r.r:r.w], '\n'); i >= 0 {
			r.r += i + 1
			return nil
		}
		r.r = r.w
		if r.srcErr != nil {
			return r.srcErr
		}
		r.fill()
	}
}

// end says what follows the data found by scan.
type end uint8

const (
	endNone  end = iota // not known yet: more input is needed
	endDelim            // a delimiter line: another part follows
	endClose            // the close delimiter: the body is complete
	endTrunc            // the end of input, with no delimiter
)

// scan finds how much of buf, the unconsumed input inside a part body, is
// part data. It returns the number n of leading data bytes and what follows
// them; for endDelim, dlen is the length of the delimiter line that follows
// (leading line break included). atStart means no data has been returned
// yet, so a delimiter without a leading line break ends an empty part; eof
// means no more input will come.
//
// For endNone, the bytes after n may be the start of a delimiter; n is 0
// only if more input is needed to decide.
func (r *Reader) scan(buf []byte, atStart, eof bool) (n int, e end, dlen int) {
	if atStart {
		db := r.dashBoundary
		if rest, ok := bytes.CutPrefix(buf, db); ok {
			switch t, k := classifyTail(rest); t {
			case tailDelim:
				return 0, endDelim, len(db) + k
			case tailClose:
				return 0, endClose, 0
			case tailMore:
				if eof {
					return len(buf), endTrunc, 0
				}
				return 0, endNone, 0
			}
		} else if bytes.HasPrefix(db, buf) {
			if eof {
				return len(buf), endTrunc, 0
			}
			return 0, endNone, 0
		}
	}
	nd := r.nlDashBoundary
	for off := 0; ; {
		i := bytes.Index(buf[off:], nd)
		if i < 0 {
			break
		}
		i += off
		switch t, k := classifyTail(buf[i+len(nd):]); t {
		case tailDelim:
			return i, endDelim, len(nd) + k
		case tailClose:
			return i, endClose, 0
		case tailMore:
			if eof {
				return len(buf), endTrunc, 0
			}
			return i, endNone, 0
		}
		off = i + 1 // nd[0] occurs only at nd[0], so matches never overlap
	}
	if eof {
		return len(buf), endTrunc, 0
	}
	// Keep back a tail that may be the start of a delimiter.
	if i := bytes.LastIndexByte(buf, nd[0]); i >= 0 && bytes.HasPrefix(nd, buf[i:]) {
		return i, endNone, 0
	}
	return len(buf), endNone, 0
}

// tail classifies what follows "--boundary" in the input.
type tail uint8

const (
	tailData  tail = iota // anything else: it was part data
	tailDelim             // blanks and a line break: a delimiter line
	tailClose             // "--": the close delimiter
	tailMore              // undecided: more input is needed
)

// classifyTail classifies rest, the bytes following "--boundary". For
// tailDelim, it also returns the length of the blanks and line break.
func classifyTail(rest []byte) (tail, int) {
	if len(rest) == 0 {
		return tailMore, 0
	}
	if rest[0] == '-' {
		switch {
		case len(rest) == 1:
			return tailMore, 0
		case rest[1] == '-':
			return tailClose, 0
		}
		return tailData, 0
	}
	i := len(rest) - len(trimBlanksLeft(rest))
	switch {
	case i > maxBlanks:
		return tailData, 0 // no delimiter line is that long
	case i == len(rest):
		return tailMore, 0
	case rest[i] == '\n':
		return tailDelim, i + 1
	case rest[i] == '\r':
		if i+1 == len(rest) {
			return tailMore, 0
		}
		if rest[i+1] == '\n' {
			return tailDelim, i + 2
		}
	}
	return tailData, 0
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func trimBlanksLeft(b []byte) []byte {
	for len(b) > 0 && isBlank(b[0]) {
		b = b[1:]
	}
	return b
}

func trimBlanks(b []byte) []byte {
	b = trimBlanksLeft(b)
	for len(b) > 0 && isBlank(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// trimLineBreak removes a trailing LF or CRLF.
func trimLineBreak(line []byte) []byte {
	line, ok := bytes.CutSuffix(line, []byte("\n"))
	if ok {
		line, _ = bytes.CutSuffix(line, []byte("\r"))
	}
	return line
}
