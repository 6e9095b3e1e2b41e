package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Gateway is what a provider adds to every request for the gateway in
// front of its models (Portkey, Helicone, Cloudflare AI Gateway,
// OpenRouter's attribution, Azure's api-version): headers and query
// parameters, from the config's headers = { ... } and query = { ... }.
//
// What the SDK sets wins: the key's header, Content-Type, the SDK's own
// headers and query parameters are never replaced (Apply sets only what
// the request lacks), and the config refuses header names that would
// (see [ReservedHeader]).
type Gateway struct {
	Headers map[string]string
	Query   map[string]string
}

// IsZero reports a gateway that adds nothing.
func (g Gateway) IsZero() bool { return len(g.Headers) == 0 && len(g.Query) == 0 }

// Apply adds the gateway's headers and query parameters that r does not
// already carry. It changes r: call it on a request of one's own (an SDK
// middleware's, or a clone in a RoundTripper).
func (g Gateway) Apply(r *http.Request) {
	for k, v := range g.Headers {
		if r.Header.Get(k) == "" {
			r.Header.Set(k, v)
		}
	}
	if len(g.Query) == 0 {
		return
	}
	q := r.URL.Query()
	changed := false
	for k, v := range g.Query {
		if !q.Has(k) {
			q.Set(k, v)
			changed = true
		}
	}
	if changed {
		r.URL.RawQuery = q.Encode()
	}
}

// reserved are the headers a gateway setting may not name: the key's
// headers and what the SDKs set themselves.
var reserved = map[string]bool{
	"Authorization": true, "X-Api-Key": true, "Api-Key": true, "X-Goog-Api-Key": true,
	"Anthropic-Version": true, "Anthropic-Beta": true, "Content-Type": true, "Content-Length": true,
	"Accept": true, "Host": true, "User-Agent": true, "Idempotency-Key": true,
	"Openai-Organization": true, "Openai-Project": true,
}

// ReservedHeader reports a header name that the key or the SDK owns
// (Authorization, X-Api-Key, x-goog-api-key, Content-Type, User-Agent,
// X-Stainless-*, ...): a config that sets one is refused rather than
// letting it replace the key or the SDK's header by accident.
func ReservedHeader(name string) bool {
	c := http.CanonicalHeaderKey(strings.TrimSpace(name))
	return reserved[c] || strings.HasPrefix(c, "X-Stainless-") || strings.HasPrefix(c, "X-Goog-")
}

// envRef is a "${VAR}" reference in a header or query value.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// EnvRefs are the variables a header or query value names ("${VAR}"), in
// order.
func EnvRefs(v string) []string {
	var names []string
	for _, m := range envRef.FindAllStringSubmatch(v, -1) {
		names = append(names, m[1])
	}
	return names
}

// ErrUnsetVar is the cause of a gateway value naming a variable that is not set.
var ErrUnsetVar = errors.New("variable not set")

// ResolveGateway reads each "${VAR}" of the headers' and query's values
// from the environment. It returns the gateway, and the secrets to redact
// wherever a key would be: every value that named a variable, and each
// variable's value. The error names the header and the variable, never a
// value.
func ResolveGateway(headers, query map[string]string) (Gateway, []string, error) {
	var g Gateway
	var secrets []string
	resolve := func(what string, in map[string]string) (map[string]string, error) {
		if len(in) == 0 {
			return nil, nil
		}
		out := make(map[string]string, len(in))
		for _, k := range sortedNames(in) {
			v := in[k]
			var missing string
			refs := envRef.FindAllStringSubmatch(v, -1)
			resolved := envRef.ReplaceAllStringFunc(v, func(ref string) string {
				name := ref[2 : len(ref)-1]
				val, ok := os.LookupEnv(name)
				if !ok || val == "" {
					missing = name
				}
				if val != "" {
					secrets = append(secrets, val)
				}
				return val
			})
			if missing != "" {
				return nil, fmt.Errorf("%s %q: %w: %s", what, k, ErrUnsetVar, missing)
			}
			if len(refs) > 0 && resolved != "" {
				secrets = append(secrets, resolved)
			}
			out[k] = resolved
		}
		return out, nil
	}
	var err error
	if g.Headers, err = resolve("header", headers); err != nil {
		return Gateway{}, nil, err
	}
	if g.Query, err = resolve("query parameter", query); err != nil {
		return Gateway{}, nil, err
	}
	return g, secrets, nil
}

func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Redacting wraps p so that none of secrets (a gateway's "${VAR}" values)
// appears in any error it returns: the same treatment as a key, for
// values the vendor packages do not know to be secret. With no secrets it
// returns p.
func Redacting(p Provider, secrets []string) Provider {
	var keep []string
	for _, s := range secrets {
		if len(s) >= 4 { // shorter values would redact ordinary words
			keep = append(keep, s)
		}
	}
	if len(keep) == 0 {
		return p
	}
	return &redacting{p: p, secrets: keep}
}

type redacting struct {
	p       Provider
	secrets []string
}

func (r *redacting) Stream(ctx context.Context, req Request) (Stream, error) {
	s, err := r.p.Stream(ctx, req)
	if err != nil {
		return nil, r.redact(err)
	}
	return &redactingStream{Stream: s, r: r}, nil
}

// redact returns err with the secrets removed from its text: an *Error
// keeps its kind, status and hint; its cause stays reachable only when
// its text held no secret.
func (r *redacting) redact(err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		out := *pe
		out.Message = Redact(pe.Message, r.secrets...)
		if pe.Err != nil {
			if msg := pe.Err.Error(); Redact(msg, r.secrets...) != msg {
				out.Err = redactedErr{msg: Redact(msg, r.secrets...)}
			}
		}
		return &out
	}
	if msg := err.Error(); Redact(msg, r.secrets...) != msg {
		return redactedErr{msg: Redact(msg, r.secrets...)}
	}
	return err
}

type redactingStream struct {
	Stream
	r *redacting
}

func (s *redactingStream) Err() error { return s.r.redact(s.Stream.Err()) }
