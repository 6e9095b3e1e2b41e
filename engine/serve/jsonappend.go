package serve

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/council-dev/council/engine"
)

// The chat completion envelope is appended by hand rather than encoded by
// encoding/json: one is written for every chunk of a stream and for every
// whole answer, and reflection over the envelope, its choices and their
// delta or message was ~3 us of an answer's ~13 after session_done.
// The bytes are encoding/json's (TestEnvelopeAsEncoded, FuzzEnvelope).

// appendJSONString appends s as encoding/json writes a string: quotes and
// backslashes escaped, control bytes as \b \f \n \r \t or \u00XX, <, >
// and & as \u003c \u003e \u0026 (its HTML escaping), U+2028 and U+2029 as
// \u2028 and \u2029, and each byte of invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	return append(appendJSONChars(append(b, '"'), s), '"')
}

// appendJSONChars is appendJSONString without the quotes.
func appendJSONChars(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0 // s[start:i] is still to copy
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// envelope is the JSON of a chat.completion or chat.completion.chunk
// object: its id, object, created and model, the choices, the usage when
// there is one and, as its last key, the session's summary (council)
// when there is one, already encoded (summaryJSON). A chunk carries usage
// and the summary only at the end; a whole completion always has both.
func (c *completion) envelope(object string, choices any, u *usage, sum *engine.Summary) []byte {
	return c.appendEnvelope(nil, object, choices, u, sum)
}

// appendEnvelope appends the envelope to b.
func (c *completion) appendEnvelope(b []byte, object string, choices any, u *usage, sum *engine.Summary) []byte {
	b = slices.Grow(b, 192+len(c.model)+choicesSize(choices))
	b = append(b, `{"id":"chatcmpl-`...)
	b = appendJSONChars(b, c.id)
	b = append(b, `","object":`...)
	b = appendJSONString(b, object)
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, c.created, 10)
	b = append(b, `,"model":`...)
	b = appendJSONString(b, c.model)
	b = append(b, `,"choices":`...)
	switch ch := choices.(type) {
	case []chunkChoice:
		b = appendChunkChoices(b, ch)
	case []answerChoice:
		b = appendAnswerChoices(b, ch)
	default:
		enc, _ := json.Marshal(ch)
		b = append(b, enc...)
	}
	if u != nil {
		b = append(b, `,"usage":{"prompt_tokens":`...)
		b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
		b = append(b, `,"completion_tokens":`...)
		b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
		b = append(b, `,"total_tokens":`...)
		b = strconv.AppendInt(b, int64(u.TotalTokens), 10)
		b = append(b, '}')
	}
	if sum != nil {
		b = append(b, `,"council":`...)
		b = append(b, c.summaryJSON(sum)...)
	}
	return append(b, '}')
}

// choicesSize is about the length of choices' text, for the envelope's
// first allocation.
func choicesSize(choices any) int {
	n := 0
	switch ch := choices.(type) {
	case []chunkChoice:
		for _, c := range ch {
			n += 80
			if c.Delta != nil {
				n += len(c.Delta.Content) + len(c.Delta.Content)/8
			}
		}
	case []answerChoice:
		for _, c := range ch {
			n += 128 + len(c.Message.Content) + len(c.Message.Content)/8
		}
	}
	return n
}

// appendChunkChoices appends a chunk's choices as encoding/json encodes
// []chunkChoice.
func appendChunkChoices(b []byte, chs []chunkChoice) []byte {
	b = append(b, '[')
	for i, ch := range chs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(ch.Index), 10)
		b = append(b, `,"delta":`...)
		if d := ch.Delta; d == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '{')
			if d.Role != "" {
				b = append(b, `"role":`...)
				b = appendJSONString(b, d.Role)
				b = append(b, ',')
			}
			b = append(b, `"content":`...)
			b = appendJSONString(b, d.Content)
			b = append(b, '}')
		}
		b = append(b, `,"finish_reason":`...)
		if ch.FinishReason == nil {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, *ch.FinishReason)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendAnswerChoices appends a whole completion's choices as
// encoding/json encodes []answerChoice.
func appendAnswerChoices(b []byte, chs []answerChoice) []byte {
	b = append(b, '[')
	for i, ch := range chs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"finish_reason":`...)
		b = appendJSONString(b, ch.FinishReason)
		b = append(b, `,"index":`...)
		b = strconv.AppendInt(b, int64(ch.Index), 10)
		b = append(b, `,"logprobs":`...)
		if ch.Logprobs == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, "{}"...)
		}
		b = append(b, `,"message":{"content":`...)
		b = appendJSONString(b, ch.Message.Content)
		b = append(b, `,"refusal":`...)
		if ch.Message.Refusal == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, "{}"...)
		}
		b = append(b, `,"role":`...)
		b = appendJSONString(b, ch.Message.Role)
		b = append(b, "}}"...)
	}
	return append(b, ']')
}
