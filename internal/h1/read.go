package h1

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
)

// maxKeptHead is the largest head buffer a conn keeps for the next head.
const maxKeptHead = 64 << 10

var (
	errHeadTooLarge    = errors.New("h1: response head too large")
	errTooManyFields   = errors.New("h1: too many header fields")
	errMalformedStatus = errors.New("h1: malformed status line")
	errObsFold         = errors.New("h1: obsolete line folding in header")
)

// readBlock reads lines up to and including an empty line from br into
// *buf, and returns them without that empty line: a response head, or a
// trailer section (which may be empty, if allowEmpty). It returns io.EOF if
// the connection ended before any byte of it.
func readBlock(br *bufio.Reader, buf *[]byte, max int, allowEmpty bool) ([]byte, error) {
	b := (*buf)[:0]
	defer func() {
		if cap(b) > maxKeptHead {
			b = nil // a rare huge head: do not keep its buffer with the conn
		}
		*buf = b[:0]
	}()
	lineStart := 0
	for {
		frag, err := br.ReadSlice('\n')
		if len(b)+len(frag) > max {
			return nil, errHeadTooLarge
		}
		b = append(b, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		line := b[lineStart:]
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			if lineStart == 0 && !allowEmpty {
				return nil, errMalformedStatus // a head cannot start empty
			}
			return b[:lineStart], nil
		}
		lineStart = len(b)
	}
}

// parseHead parses a response head (status line and fields, lines ending in
// CRLF or LF) into res. s is the head as one string: Status, the field names
// and the values are substrings of it, and the values share one backing
// slice: vals if it is long enough, else a new one. So a head costs the
// string and the map, plus one allocation per field name that is neither
// canonical nor common, and one per repeated name.
func parseHead(s string, res *http.Response, keyBuf *[]byte, vals []string) error {
	line, rest := cutLine(s)
	if len(line) < len("HTTP/1.1 200") || !strings.HasPrefix(line, "HTTP/1.") ||
		(line[7] != '0' && line[7] != '1') || line[8] != ' ' {
		return errMalformedStatus
	}
	code := 0
	for i := 9; i < 12; i++ {
		d := line[i]
		if d < '0' || d > '9' {
			return errMalformedStatus
		}
		code = code*10 + int(d-'0')
	}
	if code < 100 {
		return errMalformedStatus
	}
	if len(line) > 12 && line[12] != ' ' {
		return errMalformedStatus
	}
	for i := 12; i < len(line); i++ {
		if b := line[i]; b < ' ' && b != '\t' || b == 0x7f {
			return errMalformedStatus
		}
	}
	res.StatusCode = code
	res.Status = line[9:]
	res.ProtoMajor = 1
	res.ProtoMinor = int(line[7] - '0')
	if res.ProtoMinor == 1 {
		res.Proto = "HTTP/1.1"
	} else {
		res.Proto = "HTTP/1.0"
	}
	n := countLines(rest)
	if n > maxHeaderFields {
		return errTooManyFields
	}
	res.Header = make(http.Header, n)
	if n > len(vals) {
		vals = make([]string, n)
	}
	return parseFields(rest, res.Header, vals[:n], keyBuf)
}

// parseFields parses the field lines of s, one per element of vals, into
// h. New keys take their value from vals, capped so that an append by the
// caller cannot reach a neighbour; a repeated key appends, and allocates.
func parseFields(s string, h http.Header, vals []string, keyBuf *[]byte) error {
	for i := 0; s != ""; i++ {
		var line string
		line, s = cutLine(s)
		if line == "" {
			return errors.New("h1: empty line inside header")
		}
		if line[0] == ' ' || line[0] == '\t' {
			return errObsFold
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return errors.New("h1: malformed header line")
		}
		name := line[:colon]
		if !validToken(name) {
			return errors.New("h1: invalid header field name")
		}
		v := trimOWS(line[colon+1:])
		if !validFieldValue(v) {
			return errors.New("h1: invalid header field value")
		}
		key := canonicalKey(name, keyBuf)
		if old, ok := h[key]; ok {
			h[key] = append(old, v)
			continue
		}
		vals[i] = v
		h[key] = vals[i : i+1 : i+1]
	}
	return nil
}

// countLines counts the lines of a block from readBlock.
func countLines(s string) int {
	n := strings.Count(s, "\n")
	if s != "" && s[len(s)-1] != '\n' {
		n++
	}
	return n
}

// cutLine splits off the first line of s, without its LF or CRLF.
func cutLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		line, rest = s, ""
	} else {
		line, rest = s[:i], s[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// canonicalKey returns name in textproto.CanonicalMIMEHeaderKey's form,
// without allocating when name is already canonical or is a common field.
// name is a valid token.
func canonicalKey(name string, buf *[]byte) string {
	upper := true
	canonical := true
	for i := 0; i < len(name); i++ {
		b := name[i]
		if upper && 'a' <= b && b <= 'z' || !upper && 'A' <= b && b <= 'Z' {
			canonical = false
			break
		}
		upper = b == '-'
	}
	if canonical {
		return name
	}
	k := append((*buf)[:0], name...)
	upper = true
	for i, b := range k {
		if upper && 'a' <= b && b <= 'z' {
			k[i] = b - ('a' - 'A')
		} else if !upper && 'A' <= b && b <= 'Z' {
			k[i] = b + ('a' - 'A')
		}
		upper = b == '-'
	}
	*buf = k
	if c, ok := commonKeys[string(k)]; ok { // no allocation: the compiler looks up with the bytes
		return c
	}
	return string(k)
}

// commonKeys interns the canonical names of fields that servers often send
// in lower case.
var commonKeys = func() map[string]string {
	m := make(map[string]string)
	for _, k := range []string{
		"Accept-Ranges", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
		"Access-Control-Max-Age", "Age", "Alt-Svc", "Cache-Control", "Connection", "Content-Disposition",
		"Content-Encoding", "Content-Language", "Content-Length", "Content-Location", "Content-Range",
		"Content-Security-Policy", "Content-Type", "Date", "Etag", "Expires", "Keep-Alive",
		"Last-Modified", "Link", "Location", "Pragma", "Proxy-Authenticate", "Referrer-Policy",
		"Retry-After", "Server", "Set-Cookie", "Strict-Transport-Security", "Trailer",
		"Transfer-Encoding", "Vary", "Via", "Www-Authenticate", "X-Content-Type-Options",
		"X-Frame-Options", "X-Request-Id", "X-Xss-Protection",
	} {
		m[k] = k
	}
	return m
}()

// tokenTable marks the bytes allowed in a token (RFC 9110 §5.6.2).
var tokenTable = func() (t [256]bool) {
	for b := '0'; b <= '9'; b++ {
		t[b] = true
	}
	for b := 'a'; b <= 'z'; b++ {
		t[b] = true
		t[b-'a'+'A'] = true
	}
	for _, b := range "!#$%&'*+-.^_`|~" {
		t[b] = true
	}
	return t
}()

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenTable[s[i]] {
			return false
		}
	}
	return true
}

// validFieldValue reports whether s holds no control byte but HTAB.
func validFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// validHostHeader reports whether s can be written as the Host field.
func validHostHeader(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b == 0x7f {
			return false
		}
	}
	return true
}

// validURIPart reports whether s (a raw query) can go in the request line.
func validURIPart(s string) bool { return validHostHeader(s) }

// hasToken reports whether the comma-separated lists in vv hold tok, in
// any case.
func hasToken(vv []string, tok string) bool {
	for _, v := range vv {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(trimOWS(t), tok) {
				return true
			}
		}
	}
	return false
}
