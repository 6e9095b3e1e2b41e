package providers_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/council-dev/council/providers"
)

func TestLimitsOrDefaults(t *testing.T) {
	got := providers.Limits{}.OrDefaults()
	if got.MaxEventBytes != 1<<20 || got.MaxErrorBodyBytes != 64<<10 {
		t.Errorf("defaults = %+v", got)
	}
	got = providers.Limits{MaxEventBytes: 10, MaxErrorBodyBytes: -1}.OrDefaults()
	if got.MaxEventBytes != 10 || got.MaxErrorBodyBytes != 64<<10 {
		t.Errorf("OrDefaults kept %+v", got)
	}
}

// readEvents reads s through LimitEvents(max), one byte per Read and all
// at once: both must agree.
func readEvents(t *testing.T, s string, max int) error {
	t.Helper()
	var errs [2]error
	for i, r := range []io.Reader{iotest.OneByteReader(strings.NewReader(s)), strings.NewReader(s)} {
		rc := providers.LimitEvents(io.NopCloser(r), max, "p")
		got, err := io.ReadAll(rc)
		errs[i] = err
		if err == nil && string(got) != s {
			t.Errorf("read %q, want %q", got, s)
		}
	}
	if (errs[0] == nil) != (errs[1] == nil) {
		t.Errorf("byte by byte: %v; at once: %v", errs[0], errs[1])
	}
	return errs[0]
}

func TestLimitEvents(t *testing.T) {
	event := "data: " + strings.Repeat("x", 20) + "\n\n" // 28 bytes
	tests := []struct {
		name, in string
		max      int
		ok       bool
	}{
		{"events within the limit", strings.Repeat(event, 100), 28, true},
		{"an event one byte too large", strings.Repeat(event, 3) + "data: " + strings.Repeat("x", 21) + "\n\n", 28, false},
		{"CRLF events", strings.Repeat("data: "+strings.Repeat("x", 20)+"\r\n\r\n", 100), 30, true},
		{"lines without a blank line are one event", strings.Repeat("data: xx\n", 10), 50, false},
		{"an endless line", "data: " + strings.Repeat("x", 1000), 100, false},
		{"the end of an endless line within the limit", "data: xx", 100, true},
		{"\\n\\r\\n does not end an event", strings.Repeat("data: xx\n\r\n", 10), 50, false},
		{"comments count", strings.Repeat(": keep-alive\n", 10), 50, false},
		{"empty", "", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := readEvents(t, tt.in, tt.max)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Kind != providers.KindInvalid || pe.Provider != "p" || !errors.Is(err, providers.ErrEventTooLarge) {
				t.Fatalf("err = %#v, want an invalid *providers.Error of p wrapping ErrEventTooLarge", err)
			}
			if want := "p: event larger than limits.max_event_bytes (" + itoa(tt.max) + " bytes)"; pe.Error() != want {
				t.Errorf("Error() = %q, want %q", pe.Error(), want)
			}
		})
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// endless is an endless reader of a pattern that counts what it gave.
type endless struct {
	pat  string
	n    int
	shut bool
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.pat[(e.n+i)%len(e.pat)]
	}
	e.n += len(p)
	return len(p), nil
}

func (e *endless) Close() error { e.shut = true; return nil }

// TestLimitEventsStops: the error is sticky, and nothing is read past the
// Read that crossed the limit.
func TestLimitEventsStops(t *testing.T) {
	src := &endless{pat: "a"}
	rc := providers.LimitEvents(src, 1000, "p")
	buf := make([]byte, 512)
	var err error
	for range 10 {
		if _, err = rc.Read(buf); err != nil {
			break
		}
	}
	if !errors.Is(err, providers.ErrEventTooLarge) || src.n != 1024 {
		t.Fatalf("err %v after %d bytes", err, src.n)
	}
	if _, err2 := rc.Read(buf); err2 != err || src.n != 1024 {
		t.Errorf("a later Read: %v, %d bytes in all", err2, src.n)
	}
	if _ = rc.Close(); !src.shut {
		t.Error("Close did not close the body")
	}
}

func TestLimitResponse(t *testing.T) {
	lim := providers.Limits{MaxEventBytes: 100, MaxErrorBodyBytes: 10}
	src := &endless{pat: "no way "}
	res := &http.Response{StatusCode: 500, Body: src}
	lim.LimitResponse("p", res)
	b, err := io.ReadAll(res.Body)
	if err != nil || string(b) != "no way no " || !src.shut || res.ContentLength != 10 {
		t.Errorf("error body: %q, %v, closed %v; want %q, no error, closed", b, err, src.shut, "no way no ")
	}

	res = &http.Response{StatusCode: 200, Body: &endless{pat: "x"}}
	lim.LimitResponse("p", res)
	if _, err := io.ReadAll(res.Body); !errors.Is(err, providers.ErrEventTooLarge) {
		t.Errorf("stream: %v, want ErrEventTooLarge", err)
	}

	ok := strings.Repeat("data: {}\n\n", 1000)
	res = &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(ok))}
	providers.Limits{}.LimitResponse("p", res)
	if b, err := io.ReadAll(res.Body); err != nil || !bytes.Equal(b, []byte(ok)) {
		t.Errorf("a stream of small events: %d bytes, %v", len(b), err)
	}

	providers.Limits{}.LimitResponse("p", nil) // no panic
	res = &http.Response{StatusCode: 204, Body: http.NoBody}
	if (providers.Limits{}).LimitResponse("p", res); res.Body != http.NoBody {
		t.Error("NoBody was wrapped")
	}
}

// BenchmarkLimitEvents measures what the limiter adds to reading a stream
// of typical deltas.
func BenchmarkLimitEvents(b *testing.B) {
	data := bytes.Repeat([]byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello\"}}]}\n\n"), 1000)
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rc := providers.LimitEvents(io.NopCloser(bytes.NewReader(data)), 1<<20, "p")
		for {
			if _, err := rc.Read(buf); err != nil {
				break
			}
		}
	}
}

func TestReadErrorBody(t *testing.T) {
	key := "sk-0123456789abcdef"
	tests := []struct {
		name, body string
		max        int
		want       string
	}{
		{"short", "not found", 100, "not found"},
		{"exactly the limit", "not found", 9, "not found"},
		{"cut at the end of a word", "not found here", 10, "not found "},
		{"cut within a word", "not found here", 12, "not found "},
		{"a key at the cut", `{"message": "bad key ` + key + `"}`, 30, `{"message": "bad key `},
		{"a whole key before the cut", "bad key " + key + " is wrong", 30, "bad key " + key + " is"},
		{"no word's end within 256 bytes", "a " + strings.Repeat("k", 300), 280, "a "},
		{"one word longer than the limit", strings.Repeat("k", 1000), 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := providers.ReadErrorBody(io.NopCloser(strings.NewReader(tt.body)), tt.max)
			if err != nil || string(got) != tt.want {
				t.Errorf("ReadErrorBody(%q, %d) = %q, %v; want %q", tt.body, tt.max, got, err, tt.want)
			}
		})
	}

	// A read error is kept, after what was read, for the SDK to see.
	broken := io.MultiReader(strings.NewReader("partial "), iotest.ErrReader(io.ErrUnexpectedEOF))
	res := &http.Response{StatusCode: 502, Body: io.NopCloser(broken)}
	providers.Limits{}.LimitResponse("p", res)
	b, err := io.ReadAll(res.Body)
	if string(b) != "partial " || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a broken error body: %q, %v", b, err)
	}
}
