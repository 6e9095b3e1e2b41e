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

// endless is an endless reader of one byte that counts what it gave.
type endless struct {
	b    byte
	n    int
	shut bool
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.b
	}
	e.n += len(p)
	return len(p), nil
}

func (e *endless) Close() error { e.shut = true; return nil }

// TestLimitEventsStops: the error is sticky, and nothing is read past the
// Read that crossed the limit.
func TestLimitEventsStops(t *testing.T) {
	src := &endless{b: 'a'}
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
	res := &http.Response{StatusCode: 500, Body: &endless{b: 'e'}}
	lim.LimitResponse("p", res)
	b, err := io.ReadAll(res.Body)
	if err != nil || string(b) != "eeeeeeeeee" {
		t.Errorf("error body: %q, %v; want 10 bytes and no error", b, err)
	}

	res = &http.Response{StatusCode: 200, Body: &endless{b: 'x'}}
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
