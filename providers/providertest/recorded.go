package providertest

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/council-dev/council/providers"
)

// Recorded is one real HTTP response as a recording kept it.
type Recorded struct {
	Status int
	Header http.Header
	Body   []byte
}

// LoadHTTPRR reads the responses of an httprr trace (the format of
// golang.org/x/oscar's httprr, which langchaingo's recordings use):
// "httprr trace v1\n", then for each exchange "<req bytes> <resp bytes>\n",
// the request, and the response, both verbatim.
func LoadHTTPRR(t testing.TB, path string) []Recorded {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const magic = "httprr trace v1\n"
	if !bytes.HasPrefix(data, []byte(magic)) {
		t.Fatalf("%s: not an httprr trace", path)
	}
	var out []Recorded
	for rest := data[len(magic):]; len(rest) > 0; {
		nl := bytes.IndexByte(rest, '\n')
		var nreq, nresp int
		if nl < 0 {
			t.Fatalf("%s: truncated header", path)
		}
		if _, err := fmt.Sscanf(string(rest[:nl]), "%d %d", &nreq, &nresp); err != nil || nl+1+nreq+nresp > len(rest) {
			t.Fatalf("%s: bad exchange header %q", path, rest[:nl])
		}
		rest = rest[nl+1:]
		out = append(out, ParseResponse(t, path, rest[nreq:nreq+nresp]))
		rest = rest[nreq+nresp:]
	}
	return out
}

// LoadHTTP reads one response kept as its raw text: a status line,
// headers, a blank line and the body to the end of the file (the body's
// Content-Length is not trusted: a transcription may differ in spacing).
func LoadHTTP(t testing.TB, path string) Recorded {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ParseResponse(t, path, data)
}

// ParseResponse splits a raw HTTP response into status, headers and body.
func ParseResponse(t testing.TB, name string, raw []byte) Recorded {
	t.Helper()
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	line, err := r.ReadLine()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		t.Fatalf("%s: bad status line %q", name, line)
	}
	status, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("%s: bad status %q", name, f[1])
	}
	h, err := r.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("%s: headers: %v", name, err)
	}
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	skip := 4
	if j := bytes.Index(raw, []byte("\n\n")); i < 0 || (j >= 0 && j < i) {
		i, skip = j, 2
	}
	return Recorded{Status: status, Header: http.Header(h), Body: raw[i+skip:]}
}

// Serve answers with the recorded response: its status and headers (but
// its own Content-Length and encoding), then its body chunk bytes at a
// time, flushed after each write.
func (rec Recorded) Serve(chunk int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range rec.Header {
			if k == "Content-Length" || k == "Content-Encoding" || k == "Transfer-Encoding" {
				continue
			}
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(rec.Status)
		for rest := rec.Body; len(rest) > 0; {
			n := min(chunk, len(rest))
			if _, err := w.Write(rest[:n]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			rest = rest[n:]
		}
	}
}

// Collected is everything a stream handed out.
type Collected struct {
	Text, Reasoning string
	Usage           *providers.Usage // the last one reported
	Finish          providers.Finish // the last one reported
	Chunks          int
}

// Collect reads a stream to its end, closes it and returns what it
// handed out and its error.
func Collect(t testing.TB, s providers.Stream) (Collected, error) {
	t.Helper()
	var c Collected
	var text, reasoning strings.Builder
	for s.Next() {
		ch := s.Chunk()
		c.Chunks++
		text.WriteString(ch.Text)
		reasoning.WriteString(ch.Reasoning)
		if ch.Usage != nil {
			u := *ch.Usage
			c.Usage = &u
		}
		if ch.Finish != providers.FinishNone {
			c.Finish = ch.Finish
		}
	}
	err := s.Err()
	_ = s.Close()
	c.Text, c.Reasoning = text.String(), reasoning.String()
	return c, err
}

// LoadChunks reads a stream kept as one JSON chunk per line (the AI SDK's
// .chunks.txt fixtures of Chat Completions streams) and frames it as the
// server sent it: a 200 event stream of one SSE data line per chunk, then
// data: [DONE].
func LoadChunks(t testing.TB, path string) Recorded {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for line := range strings.Lines(string(raw)) {
		if line = strings.TrimSpace(line); line != "" {
			b.WriteString("data: " + line + "\n\n")
		}
	}
	b.WriteString("data: [DONE]\n\n")
	return Recorded{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: b.Bytes()}
}
