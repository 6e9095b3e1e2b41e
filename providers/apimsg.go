package providers

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
)

// htmlTitle finds an HTML page's title.
var htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// htmlTag matches any tag, for a page without a title.
var htmlTag = regexp.MustCompile(`(?s)<[^>]*>`)

// ErrorDetail makes a server's error text fit to show. An HTML page (a
// proxy's, a gateway's, Cloudflare's error page) becomes its title, else
// the status text: never raw markup. Other text passes unchanged.
func ErrorDetail(s string, status int) string {
	t := strings.TrimSpace(s)
	low := strings.ToLower(t[:min(len(t), 512)])
	if !strings.HasPrefix(low, "<") || !(strings.Contains(low, "<html") || strings.Contains(low, "<!doctype") ||
		strings.Contains(low, "<head") || strings.Contains(low, "<body") || strings.Contains(low, "<title")) {
		return s
	}
	if m := htmlTitle.FindStringSubmatch(t); m != nil {
		if title := strings.Join(strings.Fields(html.UnescapeString(htmlTag.ReplaceAllString(m[1], " "))), " "); title != "" {
			return title
		}
	}
	if text := http.StatusText(status); text != "" {
		return fmt.Sprintf("%d %s", status, text)
	}
	return "an HTML error page"
}

// APIMessage is the one wording of an error the API answered with, the
// same for every vendor:
//
//	authentication failed: <detail>; set OPENAI_API_KEY to a valid key
//	access denied: <detail>; set OPENAI_API_KEY to a key with access
//	model "m" not found: <detail>
//	rate limited: <detail>
//	overloaded: <detail>
//	server error: <detail>
//	request timeout: <detail>
//	request rejected: <detail>
//
// detail is the server's own message (an HTML page becomes its title, see
// [ErrorDetail]); hint says where the key comes from ("set X_API_KEY").
// The detail is cut, never the hint: the whole message fits the 300
// characters [Clean] keeps. key is redacted from the detail.
func APIMessage(kind Kind, status int, detail, hint, model, key string) string {
	return apiMessage(kind, status, detail, hint, model, key, "", false)
}

// StreamMessage is [APIMessage] for an error event inside a stream that
// began well (its [Error] has Status 0): the same wording, marked
// mid-stream, with the vendor's error type (label) after the detail.
// status is the HTTP status the same error has as a response, for the
// wording only.
func StreamMessage(kind Kind, status int, label, detail, hint, key string) string {
	return apiMessage(kind, status, detail, hint, "", key, label, true)
}

func apiMessage(kind Kind, status int, detail, hint, model, key, label string, midStream bool) string {
	var head, tail string
	switch {
	case kind == KindAuth && status == http.StatusForbidden:
		head, tail = "access denied", hint+" to a key with access"
	case kind == KindAuth:
		head, tail = "authentication failed", hint+" to a valid key"
	case status == http.StatusNotFound && model != "":
		head = fmt.Sprintf("model %q not found", model)
	case kind == KindRateLimited:
		head = "rate limited"
	case status == 529:
		head = "overloaded"
	case status == http.StatusRequestTimeout:
		head = "request timeout"
	case status >= 500:
		head = "server error"
	default:
		head = "request rejected"
	}
	if hint == "" {
		tail = ""
	}
	d := strings.TrimRight(Clean(ErrorDetail(detail, status), key), " .;:")
	if strings.EqualFold(d, head) {
		d = ""
	}
	if label != "" && !strings.Contains(d, label) {
		if d == "" {
			d = label
		} else {
			d += " (" + Clean(label, key) + ")"
		}
	}
	if midStream {
		head += " mid-stream"
	}
	if d != "" {
		head += ": "
	}
	if tail != "" {
		tail = "; " + tail
	}
	room := maxMessage - len([]rune(head)) - len([]rune(tail))
	if r := []rune(d); room > 1 && len(r) > room {
		d = string(r[:room-1]) + "…"
	}
	return Redact(head+d+tail, key)
}
