package providers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// The limits a zero [Limits] field stands for; they match the defaults of
// the config's [limits] table.
const (
	DefaultMaxEventBytes     = 1 << 20
	DefaultMaxErrorBodyBytes = 64 << 10
)

// Limits bounds what a provider reads of one response, so that a hostile
// or broken endpoint costs neither memory nor time. A zero field means its
// default. (The total size of an answer is the engine's to bound.)
type Limits struct {
	// MaxEventBytes bounds one streamed event: the bytes between two
	// blank lines of an event stream. A larger event fails the attempt
	// with a [KindInvalid] error wrapping [ErrEventTooLarge].
	MaxEventBytes int
	// MaxErrorBodyBytes bounds how much of a non-2xx response's body is
	// read; the rest is dropped, and the status still classifies it.
	MaxErrorBodyBytes int
}

// OrDefaults returns l with each zero or negative field set to its default.
func (l Limits) OrDefaults() Limits {
	if l.MaxEventBytes <= 0 {
		l.MaxEventBytes = DefaultMaxEventBytes
	}
	if l.MaxErrorBodyBytes <= 0 {
		l.MaxErrorBodyBytes = DefaultMaxErrorBodyBytes
	}
	return l
}

// ErrEventTooLarge is the cause of the error of a stream one of whose
// events is larger than [Limits.MaxEventBytes].
var ErrEventTooLarge = errors.New("event too large")

// EventTooLarge is the error of provider's stream that sent an event of
// more than max bytes: [KindInvalid], naming the setting that bounds it.
func EventTooLarge(provider string, max int) *Error {
	return &Error{Kind: KindInvalid, Provider: provider, Err: ErrEventTooLarge,
		Message: fmt.Sprintf("event larger than limits.max_event_bytes (%d bytes)", max)}
}

// LimitResponse bounds what will be read of res's body, in place: a 2xx
// body fails with [EventTooLarge] (provider's) once one event outgrows
// MaxEventBytes; any other body is read here, with [ReadErrorBody], and
// replaced by what was read (then the read error, if one ended it). Reads
// end with the request's context, as net/http's bodies do.
func (l Limits) LimitResponse(provider string, res *http.Response) {
	if res == nil || res.Body == nil || res.Body == http.NoBody {
		return
	}
	l = l.OrDefaults()
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		res.Body = LimitEvents(res.Body, l.MaxEventBytes, provider)
		return
	}
	b, err := ReadErrorBody(res.Body, l.MaxErrorBodyBytes)
	var body io.Reader = bytes.NewReader(b)
	if err != nil {
		body = io.MultiReader(body, errReader{err})
	} else {
		res.ContentLength = int64(len(b))
	}
	res.Body = io.NopCloser(body)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// ReadErrorBody reads at most max bytes of rc, the body of an error
// response, and closes it; the error is the read's, if one failed. A body
// cut short is cut back to the end of its last whole word, so that a key
// the server echoed is there whole, to be redacted as such, or not at all:
// never in part, which no redaction would recognise.
func ReadErrorBody(rc io.ReadCloser, max int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rc, int64(max)+1))
	_ = rc.Close()
	if len(b) <= max {
		return b, err
	}
	// Keep b[:cut], whose last byte or the first byte after which is not
	// part of a word.
	cut := max
	for cut > 0 && isWordByte(b[cut]) && isWordByte(b[cut-1]) {
		cut--
	}
	return b[:cut], err
}

// isWordByte reports a byte that can be part of a key or token.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '*' || c == '+' || c == '/' || c == '=' || c == '~'
}

// LimitEvents returns rc, an event stream, failing with [EventTooLarge]
// (provider's, naming max) as soon as the bytes since the last blank line
// exceed max. It holds no data of its own: the decoder above it never
// buffers more than about max bytes for one event.
//
// A blank line is "\n\n" or "\r\n\r\n", which every SDK's decoder takes
// for the end of an event. (A decoder built on bufio.ScanLines also ends
// one at "\n\r\n"; counting on past it only makes the bound stricter.)
func LimitEvents(rc io.ReadCloser, max int, provider string) io.ReadCloser {
	return &eventLimiter{rc: rc, max: max, provider: provider}
}

type eventLimiter struct {
	rc       io.ReadCloser
	max      int
	provider string
	n        int     // bytes of the current event, its line ends included
	last     [3]byte // the last bytes read, last[2] the latest
	err      error   // sticky, once the limit is passed
}

func (r *eventLimiter) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.rc.Read(p)
	if !r.scan(p[:n]) {
		r.err = EventTooLarge(r.provider, r.max)
		return 0, r.err
	}
	return n, err
}

// scan counts b into the current event, starting a new one after each
// blank line; false once an event is larger than max.
func (r *eventLimiter) scan(b []byte) bool {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			r.n += len(b)
			r.remember(b)
			break
		}
		r.n += i + 1
		r.remember(b[:i])
		blank := r.last[2] == '\n' || (r.last[0] == '\r' && r.last[1] == '\n' && r.last[2] == '\r')
		r.remember(b[i : i+1])
		if r.n > r.max {
			return false
		}
		if blank {
			r.n = 0
		}
		b = b[i+1:]
	}
	return r.n <= r.max
}

// remember keeps the last three bytes of what has been read, with b.
func (r *eventLimiter) remember(b []byte) {
	switch len(b) {
	case 0:
	case 1:
		r.last = [3]byte{r.last[1], r.last[2], b[0]}
	case 2:
		r.last = [3]byte{r.last[2], b[0], b[1]}
	default:
		copy(r.last[:], b[len(b)-3:])
	}
}

func (r *eventLimiter) Close() error { return r.rc.Close() }
