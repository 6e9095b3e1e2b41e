package providers

import "testing"

func TestSafeText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "hello, world\n\tindented ünïcode", "hello, world\n\tindented ünïcode"},
		{"title OSC with BEL", "a\x1b]0;pwned\x07b", "ab"},
		{"clipboard OSC 52 with ST", "a\x1b]52;c;ZXZpbA==\x1b\\b", "ab"},
		{"clear screen", "\x1b[2J\x1b[Hanswer", "answer"},
		{"colour", "\x1b[1;31mred\x1b[0m", "red"},
		{"DCS", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"two-byte escape", "a\x1bcb\x1b(Bc", "abc"},
		{"C1 CSI", "a\u009b2Jb", "ab"},
		{"C1 OSC to ST", "a\u009d0;x\u009cb", "ab"},
		{"C0 and DEL", "a\rb\x00c\x07d\x7fe\x08f", "abcdef"},
		{"lone ESC at the end", "abc\x1b", "abc"},
		{"unterminated OSC", "abc\x1b]0;title", "abc"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"raw C1 byte", "a\x9b2Jb", "a\uFFFD2Jb"},
	}
	for _, tt := range tests {
		if got := SafeText(tt.in); got != tt.want {
			t.Errorf("%s: SafeText(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestCleanRemovesEscapes(t *testing.T) {
	got := Clean("bad request \x1b]0;owned\x07\x1b[2Jhere", "")
	if got != "bad request here" {
		t.Errorf("Clean kept an escape sequence: %q", got)
	}
}
