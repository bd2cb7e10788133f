package formdata

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// Part is one part of a multipart body. Read streams its body; it returns
// io.EOF only after a complete delimiter, and io.ErrUnexpectedEOF if the
// input ends first (see the package comment). A Part is valid until the
// next call to NextPart, after which Read returns io.EOF or the error that
// ended the part.
type Part struct {
	// Header maps each header name, lower-cased, to its value as sent:
	// blanks around it trimmed, folded lines joined with a space, any other
	// byte kept. When a name repeats, the first value wins.
	Header map[string]string

	mr    *Reader
	n     int   // data bytes ready at mr.buf[mr.r:]
	end   end   // what follows those n bytes
	dlen  int   // for endDelim: length of the delimiter line
	total int64 // data bytes returned or discarded so far
	err   error // io.EOF once the delimiter is consumed, or the failure

	dispParsed     bool
	name, filename string
}

// Read reads the part body. See Part for the errors it returns.
func (p *Part) Read(d []byte) (int, error) {
	if len(d) == 0 {
		return 0, nil
	}
	if n, ok := p.readDirect(d); ok {
		return n, p.err
	}
	for p.n == 0 && p.err == nil {
		p.advance()
	}
	if p.n == 0 {
		return 0, p.err
	}
	mr := p.mr
	n := copy(d, mr.buf[mr.r:mr.r+min(p.n, len(d))])
	mr.r += n
	p.n -= n
	p.total += int64(n)
	if p.n == 0 && p.end != endNone {
		p.finish()
		return n, p.err
	}
	return n, nil
}

// readDirect serves a large Read with nothing buffered by reading the
// input straight into d, sparing a copy through the Reader's buffer:
// whatever follows the part data in d (a delimiter and what comes after
// it, or bytes that may begin one) moves to the buffer for later. It
// reports false when it did not apply or found no data, the buffer then
// holding whatever it read.
func (p *Part) readDirect(d []byte) (int, bool) {
	mr := p.mr
	if p.n != 0 || p.err != nil || p.end != endNone || mr.r != mr.w || mr.srcErr != nil || len(d) < mr.directMin {
		return 0, false
	}
	d = d[:min(len(d), len(mr.buf))] // so that any rest fits in the buffer
	k, err := mr.src.Read(d)
	if k < 0 || k > len(d) {
		mr.srcErr = errors.New("formdata: reader returned invalid count")
		return 0, false
	}
	if err != nil {
		mr.srcErr = err
	}
	n, e, dlen := mr.scan(d[:k], p.total == 0, mr.srcErr != nil)
	mr.r, mr.w = 0, copy(mr.buf, d[n:k])
	if n == 0 {
		return 0, false
	}
	p.total += int64(n)
	p.end, p.dlen = e, dlen
	if e != endNone {
		p.finish()
	}
	return n, true
}

// advance makes progress when no data is ready: it consumes a delimiter
// that has been found, looks for the next one, or reads more input.
func (p *Part) advance() {
	if p.end != endNone {
		p.finish()
		return
	}
	mr := p.mr
	p.n, p.end, p.dlen = mr.scan(mr.buf[mr.r:mr.w], p.total == 0, mr.srcErr != nil)
	if p.n > 0 || p.end != endNone {
		return
	}
	if mr.r == 0 && mr.w == len(mr.buf) {
		// Cannot happen: a delimiter line is shorter than the buffer.
		p.err = drive.E("formdata.Read", drive.Invalid, "multipart delimiter line too long")
		mr.err = p.err
		return
	}
	mr.fill()
}

// finish consumes what follows the part data and ends the part.
func (p *Part) finish() {
	mr := p.mr
	switch p.end {
	case endDelim:
		mr.r += p.dlen
		p.err = io.EOF
	case endClose:
		// Ignore the epilogue, however long: never read it.
		mr.r = mr.w
		p.err = io.EOF
		mr.err = io.EOF
	case endTrunc:
		p.err = mr.inputErr(mr.srcErr)
		mr.err = p.err
	}
}

// discard skips the rest of the part body, as NextPart needs. It returns
// nil if the part ended in a delimiter.
func (p *Part) discard() error {
	for p.err == nil {
		p.mr.r += p.n
		p.total += int64(p.n)
		p.n = 0
		p.advance()
	}
	if p.err == io.EOF {
		return nil
	}
	return p.err
}

// FormName returns the name parameter of the part's Content-Disposition
// header, or "" if there is none. The disposition type is not checked.
func (p *Part) FormName() string {
	p.parseDisposition()
	return p.name
}

// FileName returns the filename parameter of the part's
// Content-Disposition header, or "" if there is none. It prefers a valid
// RFC 5987 filename* (UTF-8 or ISO-8859-1) over filename. The value is
// parsed best-effort and returned as sent, control characters and path
// separators included: it is untrusted, and the upload handlers take the
// node name from the metadata part instead.
//
// Parsing rules: a quoted value may use backslash escapes, and ends at the
// first quote that is followed only by blanks before a ";" or the end of
// the header (so unescaped quotes inside a value mostly survive); an
// unquoted value ends at the next ";". Percent escapes in filename are not
// decoded.
func (p *Part) FileName() string {
	p.parseDisposition()
	return p.filename
}

func (p *Part) parseDisposition() {
	if p.dispParsed {
		return
	}
	p.dispParsed = true
	_, params := parseParams(p.Header["content-disposition"])
	p.name = params["name"]
	p.filename = params["filename"]
	if v, ok := params["filename*"]; ok {
		if s, ok := decodeExtValue(v); ok {
			p.filename = s
		}
	}
}

// parseParams splits a header value of the form `type; a=b; c="d"` into
// its lower-cased, trimmed type and its parameters, keyed by lower-cased
// name. It never fails: it takes what it can and skips the rest. When a
// parameter repeats, the first value wins.
func parseParams(s string) (string, map[string]string) {
	params := make(map[string]string)
	typ, s, _ := strings.Cut(s, ";")
	typ = strings.ToLower(strings.Trim(typ, " \t"))
	for {
		s = strings.TrimLeft(s, " \t;")
		if s == "" {
			return typ, params
		}
		i := strings.IndexAny(s, "=;")
		if i < 0 {
			return typ, params // a last parameter without a value
		}
		if s[i] == ';' {
			s = s[i+1:] // a parameter without a value
			continue
		}
		name := strings.ToLower(strings.Trim(s[:i], " \t"))
		s = strings.TrimLeft(s[i+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			val, s = unquote(s[1:])
		} else {
			val, s, _ = strings.Cut(s, ";")
			val = strings.Trim(val, " \t")
		}
		if _, dup := params[name]; !dup && name != "" {
			params[name] = val
		}
	}
}

// unquote reads a quoted string whose opening quote has been consumed and
// returns its value and the rest of s after the closing quote. A backslash
// escapes the next byte. A quote closes the string only if nothing but
// blanks separate it from a ";" or the end of s; other quotes are kept.
// An unterminated string runs to the end of s.
func unquote(s string) (val, rest string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		case '"':
			after := strings.TrimLeft(s[i+1:], " \t")
			if after == "" || after[0] == ';' {
				return b.String(), after
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// decodeExtValue decodes an RFC 5987 ext-value: a charset, a quote, an
// optional language tag, a quote and the percent-encoded value. It supports
// the UTF-8 and ISO-8859-1 charsets.
func decodeExtValue(v string) (string, bool) {
	charset, rest, ok := strings.Cut(v, "'")
	if !ok {
		return "", false
	}
	_, enc, ok := strings.Cut(rest, "'") // skip the language tag
	if !ok {
		return "", false
	}
	s, err := url.PathUnescape(enc)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(charset) {
	case "utf-8":
		if !utf8.ValidString(s) {
			return "", false
		}
		return s, true
	case "iso-8859-1":
		r := make([]rune, len(s))
		for i := range len(s) {
			r[i] = rune(s[i])
		}
		return string(r), true
	}
	return "", false
}
