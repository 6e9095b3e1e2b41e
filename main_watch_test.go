package main

import (
	"strings"
	"testing"
)

// TestWatchUsage: council watch names what is wrong with its arguments,
// exits 2, and never prints a token it was given.
func TestWatchUsage(t *testing.T) {
	const secret = "tok-SECRET-123"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
		code int
	}{
		{"no URL", nil, []string{"watch"}, "needs a server URL", 2},
		{"not a URL", nil, []string{"watch", "ftp://x"}, `"ftp://x" is not a server URL`, 2},
		{"twice", nil, []string{"watch", "http://a:1", "http://a:1/"}, "a:1 is given twice", 2},
		{"token in the URL", nil, []string{"watch", "http://u:" + secret + "@a:1"}, "not in the URL", 2},
		{"bad theme", nil, []string{"watch", "--theme", "nope", "http://a:1"}, `unknown theme "nope"`, 2},
		{"bad flag", nil, []string{"watch", "--nope", "http://a:1"}, "flag provided but not defined: --nope", 2},
		{"no terminal", nil, []string{"watch", "--token", secret, "--admin-token", secret, "http://127.0.0.1:1"}, "needs a terminal", 2},
		{"no terminal, tokens from the environment", map[string]string{"COUNCIL_TOKEN": secret, "COUNCIL_ADMIN_TOKEN": secret},
			[]string{"watch", "http://127.0.0.1:1"}, "needs a terminal", 2},
		{"help", nil, []string{"watch", "--help"}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := council(t, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.want)
			}
			if strings.Contains(out+errOut, secret) {
				t.Errorf("the token is printed: %q %q", out, errOut)
			}
			if tc.code == 0 && !strings.Contains(out, "usage: council watch [flags] URL [URL...]") {
				t.Errorf("--help: %q", out)
			}
		})
	}
	if out, _, _ := council(t, nil, "help"); !strings.Contains(out, "council watch [--token T] [--admin-token T] URL [URL...]") {
		t.Errorf("council help does not list watch:\n%s", out)
	}
}
