package providers

import (
	"strings"
	"unicode/utf8"
)

// SafeText makes text from a model or a server safe to write to a
// terminal: escape sequences (CSI, OSC, DCS, SOS, PM, APC and two-byte
// ones, in their 7-bit and C1 forms) are removed with their payload, and
// so are the other C0 controls except newline and tab, DEL and the C1
// controls; invalid UTF-8 becomes U+FFFD. A reply must not be able to set
// the window title, clear the screen or write the clipboard.
//
// JSON output needs none of this: encoding/json escapes control
// characters itself.
func SafeText(s string) string {
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteRune(utf8.RuneError)
			i += n
		case r == 0x1b:
			i = skipEscape(s, i+1)
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i+n)
		case r == 0x90 || r == 0x9d || r == 0x98 || r == 0x9e || r == 0x9f: // C1 DCS, OSC, SOS, PM, APC
			i = skipString(s, i+n)
		case r == '\n' || r == '\t':
			b.WriteRune(r)
			i += n
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			i += n
		default:
			b.WriteString(s[i : i+n])
			i += n
		}
	}
	return b.String()
}

// isSafe reports whether s has nothing for SafeText to do.
func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			// C1 controls are U+0080..U+009F: 0xC2 0x80..0x9F in UTF-8.
			if c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f {
				return false
			}
		}
	}
	return utf8.ValidString(s)
}

// skipEscape skips what follows an ESC at i and returns where the text
// resumes.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// nF sequences: intermediates 0x20..0x2F, then one final byte.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI skips a control sequence's parameters and intermediates
// (0x20..0x3F) and its final byte (0x40..0x7E).
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString skips a control string (OSC, DCS, ...) up to and including
// its terminator: BEL, ESC \ or the C1 ST; unterminated, to the end.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i + 1
		case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c:
			return i + 2
		}
		i++
	}
	return i
}
