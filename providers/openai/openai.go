// Package openai is the provider for OpenAI and for every server that speaks
// OpenAI's Chat Completions wire format: OpenRouter, Groq, vLLM, llama.cpp,
// Ollama's /v1, and so on.
//
// It streams with the official SDK (github.com/openai/openai-go/v3) and
// reports every failure as a classified *[providers.Error]. The SDK's own
// retries are off: the engine owns retries, hedges and breakers. The SDK's
// environment defaults (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID, ...)
// are never read, so a key meant for OpenAI never travels to another server.
package openai

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tidwall/gjson"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/respjson"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/council-dev/council/providers"
)

// The provider kinds this package serves.
const (
	KindOpenAI     = "openai"
	KindCompatible = "openai-compatible"
)

// Options configures a [Client]: the provider's [providers.Settings] (of
// them, Name prefixes every error; Kind is [KindOpenAI] or
// [KindCompatible], empty meaning [KindOpenAI]; BaseURL includes any /v1,
// "http://localhost:8080/v1", empty meaning https://api.openai.com/v1;
// APIKey may be empty for local servers, and no Authorization header is
// sent then; Limits bound what is read of each response, zero fields
// taking their defaults; Gateway's headers and query parameters go on
// every request, the key's header and the SDK's own winning over them;
// the simulated kinds' Model, Seed and Sim are not read), and the HTTP
// client.
type Options struct {
	providers.Settings
	// HTTPClient is optional; nil shares one pooled client.
	HTTPClient *http.Client
}

// Client is a Chat Completions provider. It is safe for concurrent use.
type Client struct {
	name    string
	kind    string
	baseURL string // for messages: scheme, host and path only
	apiKey  string
	keyEnv  string
	limits  providers.Limits // with their defaults
	// hc sends the requests (request.go), behind originGuard; chatURL is
	// where they go, auth their Authorization (nil without a key) and
	// gateway what the gateway adds to them.
	hc      *http.Client
	chatURL string
	auth    []string
	gateway providers.Gateway

	// noStreamOptions is set once a compatible server has rejected
	// stream_options; later requests leave it out.
	noStreamOptions atomic.Bool
}

var _ providers.Provider = (*Client)(nil)

// sharedHTTPClient is the default pool: a clone of the default transport so
// that nobody else's changes to http.DefaultClient reach us.
var sharedHTTPClient = sync.OnceValue(func() *http.Client {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return &http.Client{Transport: t.Clone()}
	}
	return &http.Client{Transport: http.DefaultTransport}
})

// New returns a client for o. It makes no request.
func New(o Options) (*Client, error) {
	kind := o.Kind
	if kind == "" {
		kind = KindOpenAI
	}
	if kind != KindOpenAI && kind != KindCompatible {
		return nil, fmt.Errorf("provider %s: kind %q is not %q or %q", o.Name, o.Kind, KindOpenAI, KindCompatible)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = sharedHTTPClient()
	}
	base := defaultBaseURL
	shown := "https://api.openai.com/v1"
	if o.BaseURL != "" {
		u, err := providers.ParseBaseURL(o.Name, o.BaseURL, o.APIKey)
		if err != nil {
			return nil, err
		}
		base = o.BaseURL
		shown = u.Scheme + "://" + u.Host + u.Path
	}
	chat, err := chatURL(base)
	if err != nil {
		return nil, fmt.Errorf("provider %s: base_url: %w", o.Name, err)
	}
	var auth []string
	if o.APIKey != "" {
		auth = []string{"Bearer " + o.APIKey}
	}
	return &Client{
		name:    o.Name,
		kind:    kind,
		baseURL: strings.TrimSuffix(shown, "/"),
		apiKey:  o.APIKey,
		keyEnv:  o.KeyEnv,
		limits:  o.Limits.OrDefaults(),
		hc:      guarded(hc, chat),
		chatURL: chat.String(),
		auth:    auth,
		gateway: o.Gateway,
	}, nil
}

// Stream starts a streamed chat completion. Failures before the first byte
// (auth, 404, 429, refused, deadline) are returned here as *providers.Error,
// or as the context's cause when ctx was cancelled.
//
// For an openai-compatible server that answers 400 naming stream_options
// (older servers do not know include_usage), the request is sent once more
// without it, and the client leaves it out from then on: the answer matters
// more than its token count.
func (c *Client) Stream(ctx context.Context, req providers.Request) (providers.Stream, error) {
	if c.kind == KindOpenAI && c.apiKey == "" && c.baseURL == "https://api.openai.com/v1" {
		return nil, &providers.Error{Kind: providers.KindAuth, Provider: c.name,
			Message: "no API key: " + c.keyHint(), Err: providers.ErrNoKey}
	}
	withUsage := !c.noStreamOptions.Load()
	s, err := c.start(ctx, req, withUsage)
	if err != nil && withUsage && c.kind == KindCompatible && s.wire.rejectsStreamOptions() && ctx.Err() == nil {
		c.noStreamOptions.Store(true)
		s, err = c.start(ctx, req, false)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// start sends one request. On error the returned stream is closed and
// only its wire record is of use.
func (c *Client) start(ctx context.Context, req providers.Request, withUsage bool) (*stream, error) {
	w := &wire{model: req.Model, provider: c.name, limits: c.limits}
	body, err := c.body(req, withUsage)
	if err != nil {
		return &stream{wire: w}, err
	}
	raw, err := c.send(ctx, w, body)
	s := &stream{c: c, ctx: ctx, wire: w}
	if err != nil {
		if raw != nil {
			_ = raw.Body.Close()
		}
		return s, c.classify(ctx, w, err, false)
	}
	s.dec = ssestream.NewDecoder(raw)
	return s, nil
}

// body encodes the request's JSON as NewStreaming's params would (the
// SDK's reflection-based encoder cost ~20 us a call; encoding/json of
// requestBody is several times cheaper).
func (c *Client) body(req providers.Request, withUsage bool) ([]byte, error) {
	p := requestBody{Model: req.Model, Stream: true}
	if req.Model == "" {
		return nil, &providers.Error{Kind: providers.KindInvalid, Provider: c.name, Message: "no model name in the request"}
	}
	p.Messages = make([]message, 0, len(req.Messages)+1)
	if req.System != "" {
		p.Messages = append(p.Messages, message{Role: "system", Content: req.System})
	}
	for _, m := range req.Messages {
		switch m.Role {
		case "user", "":
			p.Messages = append(p.Messages, message{Role: "user", Content: m.Content})
		case "assistant", "system":
			p.Messages = append(p.Messages, message{Role: m.Role, Content: m.Content})
		default:
			return nil, &providers.Error{Kind: providers.KindInvalid, Provider: c.name,
				Message: fmt.Sprintf("message role %q is not user, assistant or system", m.Role)}
		}
	}
	if req.MaxTokens > 0 {
		// OpenAI deprecated max_tokens (reasoning models reject it); most
		// compatible servers know only max_tokens.
		if c.kind == KindOpenAI {
			p.MaxCompletionTokens = req.MaxTokens
		} else {
			p.MaxTokens = req.MaxTokens
		}
	}
	p.Temperature = req.Temperature
	if stop := req.StopSequences(); len(stop) > 0 {
		p.Stop = stop
	}
	if f := req.ResponseFormat(); f != nil {
		switch f.Type {
		case providers.FormatJSONObject:
			p.ResponseFormat = &responseFormat{Type: "json_object"}
		case providers.FormatJSONSchema:
			p.ResponseFormat = &responseFormat{Type: "json_schema",
				JSONSchema: &jsonSchema{Name: cmp.Or(f.Name, "answer"), Schema: f.Schema, Strict: f.Strict}}
		default:
			return nil, &providers.Error{Kind: providers.KindInvalid, Provider: c.name, Message: fmt.Sprintf("response format %q is not json_object or json_schema", f.Type)}
		}
	}
	if withUsage {
		p.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindInvalid, Provider: c.name, Message: "the request does not encode as JSON: " + err.Error()}
	}
	return b, nil
}

// requestBody is a streamed Chat Completions request.
type requestBody struct {
	Messages            []message       `json:"messages"`
	Model               string          `json:"model"`
	MaxCompletionTokens int             `json:"max_completion_tokens,omitempty"`
	MaxTokens           int             `json:"max_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	ResponseFormat      *responseFormat `json:"response_format,omitempty"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options,omitempty"`
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type responseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *jsonSchema `json:"json_schema,omitempty"`
}

type jsonSchema struct {
	Name   string         `json:"name"`
	Schema map[string]any `json:"schema,omitempty"`
	Strict bool           `json:"strict,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// keyHint says where the key should come from.
func (c *Client) keyHint() string {
	if c.keyEnv != "" {
		return "set " + c.keyEnv
	}
	return "set api_key_env for provider " + c.name
}

// stream adapts the SDK's event-stream decoder to [providers.Stream].
type stream struct {
	c    *Client
	ctx  context.Context
	dec  ssestream.Decoder // nil when the response had no body
	wire *wire

	cur       providers.Chunk
	err       error
	ended     bool
	finished  bool        // a choice carried a finish_reason
	refused   bool        // a delta carried a refusal
	closed    atomic.Bool // Close was called, perhaps from another goroutine
	decClosed atomic.Bool // dec is closed (closeDecoder)
}

// Next implements [providers.Stream].
func (s *stream) Next() bool {
	if s.ended {
		return false
	}
	for {
		if s.ctx.Err() != nil {
			return s.end(s.c.ctxErr(s.ctx, true))
		}
		ch, ok, err := s.read()
		if !ok {
			return s.end(s.finalErr(err))
		}
		var out providers.Chunk
		if ch.sdk != nil {
			out = s.fromSDK(*ch.sdk)
		} else {
			out = s.fromFast(&ch.fast)
		}
		if out.Text != "" || out.Reasoning != "" || out.Usage != nil || out.Finish != providers.FinishNone {
			s.cur = out
			return true
		}
	}
}

// fromSDK reads a chunk the SDK decoded.
func (s *stream) fromSDK(ch sdk.ChatCompletionChunk) providers.Chunk {
	var out providers.Chunk
	for _, choice := range ch.Choices {
		if choice.Index != 0 {
			continue
		}
		out.Text = choice.Delta.Content
		out.Reasoning = reasoningOf(choice.Delta.JSON.ExtraFields)
		s.choice(&out, choice.Delta.Refusal, choice.FinishReason)
	}
	out.Usage = usageOf(ch)
	return out
}

// fromFast reads a chunk decoded as fastChunk, the same way as fromSDK.
func (s *stream) fromFast(ch *fastChunk) providers.Chunk {
	var out providers.Chunk
	for _, choice := range ch.Choices {
		if choice.Index != 0 {
			continue
		}
		out.Text = choice.Delta.Content
		out.Reasoning = reasoningText(string(choice.Delta.ReasoningContent), string(choice.Delta.Reasoning))
		s.choice(&out, choice.Delta.Refusal, choice.FinishReason)
	}
	if ch.Usage != nil {
		out.Usage = convertUsage(ch.Usage.sdk())
	} else {
		out.Usage = groqUsage(string(ch.XGroq))
	}
	return out
}

// choice notes choice 0's refusal and finish reason.
func (s *stream) choice(out *providers.Chunk, refusal, finish string) {
	if refusal != "" {
		s.refused = true
	}
	if finish != "" {
		s.finished = true
		out.Finish = providers.FinishOf(finish)
		if s.refused && out.Finish == providers.FinishStop {
			// OpenAI streams a refusal as refusal deltas, then stop.
			out.Finish = providers.FinishContentFilter
		}
	}
}

// read decodes the stream's next chunk: what the SDK's ssestream.Stream
// does with its decoder's events (the end at [DONE], an error event as
// *ssestream.StreamError), except that a chunk's JSON is checked once, by
// gjson (providers.ValidJSON), where json.Unmarshal scanned it twice (to
// check it, then to skip it for chunk.UnmarshalJSON): that was a third of
// reading a chunk. A chunk found invalid goes through json.Unmarshal, for
// its error.
// ok is false at the end, with err nil when the stream ended well.
func (s *stream) read() (ch chunk, ok bool, err error) {
	if s.dec == nil || s.decClosed.Load() {
		return ch, false, nil
	}
	for {
		if !s.dec.Next() {
			return ch, false, s.dec.Err()
		}
		ev := s.dec.Event()
		if bytes.HasPrefix(ev.Data, []byte("[DONE]")) {
			return ch, false, nil
		}
		if ep := gjson.GetBytes(ev.Data, "error"); ep.Exists() {
			return ch, false, &ssestream.StreamError{Message: fmt.Sprintf("received error while streaming: %s", ep.String()), Event: ev}
		}
		if strings.HasPrefix(ev.Type, "thread.") {
			continue // the Assistants API's events, never a chat completion's chunk
		}
		if !providers.ValidJSON(ev.Data) {
			err = json.Unmarshal(ev.Data, &ch)
		} else {
			err = ch.UnmarshalJSON(ev.Data)
		}
		if err != nil {
			return ch, false, err
		}
		return ch, true, nil
	}
}

// closeDecoder closes the decoder, and with it the response body, once.
func (s *stream) closeDecoder() {
	if s.dec != nil && s.decClosed.CompareAndSwap(false, true) {
		_ = s.dec.Close()
	}
}

func (s *stream) end(err error) bool {
	s.ended = true
	s.err = err
	s.cur = providers.Chunk{}
	s.closeDecoder()
	return false
}

// finalErr decides whether the stream ended well.
func (s *stream) finalErr(err error) error {
	if s.closed.Load() && s.ctx.Err() == nil {
		return &providers.Error{Kind: providers.KindError, Provider: s.c.name,
			Message: "stream closed before its end", Err: net.ErrClosed}
	}
	if err != nil || s.ctx.Err() != nil {
		return s.c.classify(s.ctx, s.wire, err, true)
	}
	if s.wire.sawDone.Load() {
		return nil
	}
	// Some compatible servers omit [DONE]; a finish_reason is then the
	// only sign that the answer is whole. OpenAI always sends [DONE] after
	// the usage chunk, so without it the usage (and the cost) is lost.
	if s.c.kind == KindCompatible && s.finished {
		return nil
	}
	msg := "stream ended without its final event"
	if ct := s.wire.header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "text/event-stream") {
		// A server that ignored stream: true, or a proxy's error page.
		msg += fmt.Sprintf(" (the response was %s, not an event stream)", s.c.clean(ct))
	}
	return &providers.Error{Kind: providers.KindInvalid, Provider: s.c.name, Message: msg}
}

// Chunk implements [providers.Stream].
func (s *stream) Chunk() providers.Chunk { return s.cur }

// Err implements [providers.Stream].
func (s *stream) Err() error { return s.err }

// Close implements [providers.Stream]. It closes the response body, which
// ends a pending Next at once; safe to call twice and from any goroutine.
func (s *stream) Close() error {
	if s.dec == nil {
		return nil
	}
	s.closed.Store(true)
	s.closeDecoder()
	return nil
}

// reasoningOf returns a delta's reasoning: reasoning_content (DeepSeek,
// vLLM, llama.cpp, GLM, Qwen) or reasoning (OpenRouter, Groq, Ollama).
// Neither is in the SDK's types; the raw JSON of extra fields holds them.
func reasoningOf(extra map[string]respjson.Field) string {
	return reasoningText(extra["reasoning_content"].Raw(), extra["reasoning"].Raw())
}

// reasoningText returns the first of the raw JSON values given that is a
// non-empty string.
func reasoningText(raws ...string) string {
	for _, raw := range raws {
		if raw == "" || raw == "null" || raw[0] != '"' {
			continue
		}
		var text string
		if json.Unmarshal([]byte(raw), &text) == nil && text != "" {
			return text
		}
	}
	return ""
}

// usageOf returns the chunk's usage: the standard field (the final,
// choices-empty chunk when include_usage is set; every chunk on some
// servers), or Groq's x_groq.usage.
func usageOf(ch sdk.ChatCompletionChunk) *providers.Usage {
	if ch.JSON.Usage.Valid() {
		return convertUsage(ch.Usage)
	}
	// Unknown fields are never Valid in the SDK's metadata; Raw holds them.
	if x, ok := ch.JSON.ExtraFields["x_groq"]; ok {
		return groqUsage(x.Raw())
	}
	return nil
}

// groqUsage reads the usage in Groq's x_groq, given as raw JSON.
func groqUsage(raw string) *providers.Usage {
	if raw == "" || raw == "null" {
		return nil
	}
	var g struct {
		Usage *sdk.CompletionUsage `json:"usage"`
	}
	if err := json.Unmarshal([]byte(raw), &g); err == nil && g.Usage != nil {
		return convertUsage(*g.Usage)
	}
	return nil
}

// convertUsage reads a Chat Completions usage object. OpenAI, OpenRouter,
// DeepSeek and Groq count reasoning inside completion_tokens; xAI leaves it
// out (completion_tokens 2, reasoning_tokens 129, total_tokens = prompt +
// 2 + 129). Output is what the vendor bills, so reasoning is added to
// completion_tokens exactly when the total says it was left out of it.
func convertUsage(u sdk.CompletionUsage) *providers.Usage {
	out := &providers.Usage{
		InputTokens:       int(u.PromptTokens),
		OutputTokens:      int(u.CompletionTokens),
		CachedInputTokens: int(u.PromptTokensDetails.CachedTokens),
		ReasoningTokens:   int(u.CompletionTokensDetails.ReasoningTokens),
	}
	if r := out.ReasoningTokens; r > 0 {
		excluded := r > out.OutputTokens ||
			(u.TotalTokens > 0 && int(u.TotalTokens) == out.InputTokens+out.OutputTokens+r)
		if excluded {
			out.OutputTokens += r
		}
	}
	return out
}
