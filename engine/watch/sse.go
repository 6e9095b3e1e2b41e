package watch

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"github.com/council-dev/council/engine/wire"
)

// Message is one server-sent event: its type (the `event:` field,
// "message" when absent) and its data (the `data:` lines joined by "\n").
type Message struct {
	Event, Data string
}

// maxLine caps one line of the stream, as it caps a log's.
const maxLine = wire.MaxLineBytes

// ErrLineTooLong is a stream line over the cap.
var ErrLineTooLong = errors.New("event stream line over 16 MiB")

// ReadSSE reads server-sent events from r and calls fn with each, as the
// HTML event-stream format has them: lines end in \n, \r\n or \r; a line
// starting with ':' is a comment; a blank line dispatches the event;
// `id:` and `retry:` are read past; an event cut off by the end of the
// stream is dropped. It returns fn's error, or the stream's (io.EOF at its
// end).
func ReadSSE(r io.Reader, fn func(Message) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var data strings.Builder
	event, hasData := "", false
	for {
		line, err := readLine(br)
		if err != nil {
			return err
		}
		switch {
		case line == "":
			if hasData {
				ev := event
				if ev == "" {
					ev = "message"
				}
				if err := fn(Message{Event: ev, Data: strings.TrimSuffix(data.String(), "\n")}); err != nil {
					return err
				}
			}
			event, hasData = "", false
			data.Reset()
			continue
		case line[0] == ':':
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			event = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		}
	}
}

// readLine reads one line without its ending (\n, \r\n or \r).
func readLine(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		c, err := br.ReadByte()
		if err != nil {
			if err == io.EOF && b.Len() > 0 {
				return "", io.ErrUnexpectedEOF // a last line without its end is not a line
			}
			return "", err
		}
		switch c {
		case '\n':
			return b.String(), nil
		case '\r':
			if next, err := br.Peek(1); err == nil && next[0] == '\n' {
				br.ReadByte()
			}
			return b.String(), nil
		}
		if b.Len() >= maxLine {
			return "", ErrLineTooLong
		}
		b.WriteByte(c)
	}
}
