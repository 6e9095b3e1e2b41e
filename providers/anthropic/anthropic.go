// Package anthropic puts Anthropic's Messages API behind [providers.Provider],
// using the official SDK (github.com/anthropics/anthropic-sdk-go/v2) with its
// retries turned off: the engine, not the SDK, decides what to retry.
//
// A completion is one streamed POST /v1/messages. Text deltas become
// [providers.Chunk] texts; usage comes from message_start (input tokens) and
// message_delta (output tokens, cumulative). A stream that ends without
// message_stop is a [providers.KindInvalid] failure. Every failure is a
// *[providers.Error] whose message never contains the key.
package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/ssestream"

	"github.com/council-dev/council/providers"
)

// DefaultKeyEnv is the environment variable read when neither
// the Options' APIKey nor KeyEnv is set.
const DefaultKeyEnv = "ANTHROPIC_API_KEY"

// DefaultMaxTokens is sent when [providers.Request.MaxTokens] is 0: the
// Messages API requires max_tokens.
const DefaultMaxTokens = 1024

// Options configures a [Client]: the provider's [providers.Settings] (of
// them, BaseURL empty means Anthropic's, and the SDK's ANTHROPIC_BASE_URL
// variable is deliberately not honoured: the config is the only source;
// an empty APIKey means the variable KeyEnv, else ANTHROPIC_API_KEY, is
// read; Limits bound what is read of each response, zero fields taking
// their defaults; Gateway's headers and query parameters go on every
// request, the key's header and the SDK's own winning over them; Kind and
// the simulated kinds' Model, Seed and Sim are not read), and the HTTP
// client.
type Options struct {
	providers.Settings
	// HTTPClient is optional; nil means a client of this package's own, whose
	// idle connections [Client.CloseIdleConnections] closes.
	HTTPClient *http.Client
}

// Client streams completions from the Messages API.
type Client struct {
	name   string
	keyEnv string
	key    string
	http   *http.Client
	api    sdk.Client
}

var _ providers.Provider = (*Client)(nil)

// New returns a client. It fails with a [providers.KindAuth] error when no
// key is given or found in the environment.
func New(o Options) (*Client, error) {
	c := &Client{name: o.Name, keyEnv: o.KeyEnv, key: strings.TrimSpace(o.APIKey), http: o.HTTPClient}
	if c.name == "" {
		c.name = "anthropic"
	}
	if c.keyEnv == "" {
		c.keyEnv = DefaultKeyEnv
	}
	if c.key == "" {
		c.key = strings.TrimSpace(os.Getenv(c.keyEnv))
	}
	if c.key == "" {
		return nil, providers.NoKey(c.name, c.keyEnv)
	}
	if o.BaseURL != "" {
		if _, err := providers.ParseBaseURL(c.name, o.BaseURL, c.key); err != nil {
			return nil, err
		}
	}
	if c.http == nil {
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	limits := o.Limits.OrDefaults()
	opts := []option.RequestOption{
		// Nothing from the environment (ANTHROPIC_BASE_URL, profiles,
		// ANTHROPIC_CUSTOM_HEADERS): the config decides.
		option.WithoutEnvironmentDefaults(),
		option.WithHTTPClient(c.http),
		option.WithMaxRetries(0),
		// The Messages API's documented key header. The v2 SDK's
		// WithAPIKey sends "Authorization: Bearer" instead, which
		// Anthropic-compatible proxies do not all accept.
		option.WithHeader("X-Api-Key", c.key),
		// Bounds every event of a stream and the body of an error
		// response, which the SDK would otherwise read without end.
		option.WithMiddleware(func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
			o.Gateway.Apply(req) // after the SDK's headers: adds only what is missing
			res, err := next(req)
			if err == nil {
				limits.LimitResponse(c.name, res)
			}
			return res, err
		}),
	}
	if o.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(o.BaseURL))
	}
	c.api = sdk.NewClient(opts...)
	return c, nil
}

// CloseIdleConnections closes the idle connections of the client's HTTP
// client (tests call it before checking for leaked goroutines).
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// params builds the Messages request. Temperature is not sent: API version
// 2026-10-21, which the v2 SDK speaks, dropped the parameter. Nor is a
// response format: Messages has no JSON mode (the kind refuses it).
func params(req providers.Request) sdk.MessageNewParams {
	p := sdk.MessageNewParams{
		Model:         req.Model,
		MaxTokens:     int64(req.MaxTokens),
		StopSequences: req.StopSequences(),
	}
	if p.MaxTokens <= 0 {
		p.MaxTokens = DefaultMaxTokens
	}
	if req.System != "" {
		p.System = []sdk.TextBlockParam{{Text: req.System}}
	}
	for _, m := range req.Messages {
		block := sdk.NewTextBlock(m.Content)
		if m.Role == "assistant" {
			p.Messages = append(p.Messages, sdk.NewAssistantMessage(block))
		} else {
			p.Messages = append(p.Messages, sdk.NewUserMessage(block))
		}
	}
	return p
}

// errClosed is the cause of a stream's context after Close, and the error
// of a Next that Close interrupted.
var errClosed = errors.New("stream closed")

// Stream starts a streamed completion. The request is sent before Stream
// returns, so an HTTP error (401, 404, 429, 5xx) or an unreachable server
// is returned here, classified.
func (c *Client) Stream(ctx context.Context, req providers.Request) (providers.Stream, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	s := c.api.Messages.NewStreaming(sctx, params(req))
	if err := s.Err(); err != nil {
		s.Close()
		cancel(errClosed)
		return nil, c.classify(ctx, req.Model, err)
	}
	return &stream{c: c, ctx: ctx, cancel: cancel, sdk: s, model: req.Model}, nil
}

// stream adapts the SDK's event stream to [providers.Stream].
type stream struct {
	c      *Client
	ctx    context.Context // the caller's, for the cause of a cancellation
	cancel context.CancelCauseFunc
	model  string

	closed atomic.Bool // Close was called

	mu    sync.Mutex // Next against Close
	sdk   *ssestream.Stream[sdk.MessageStreamEventUnion]
	cur   providers.Chunk
	usage providers.Usage
	done  bool
	err   error
}

func (s *stream) Next() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return false
	}
	s.cur = providers.Chunk{}
	for s.sdk.Next() {
		ev := s.sdk.Current()
		switch ev.Type {
		case "message_start":
			u := ev.Message.Usage
			s.usage = usageOf(u.InputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens,
				u.OutputTokens, u.OutputTokensDetails.ThinkingTokens)
			s.cur.Usage = &providers.Usage{}
			*s.cur.Usage = s.usage
			return true
		case "content_block_delta":
			switch {
			case ev.Delta.Type == "text_delta" && ev.Delta.Text != "":
				s.cur.Text = ev.Delta.Text
				return true
			case ev.Delta.Type == "thinking_delta" && ev.Delta.Thinking != "":
				s.cur.Reasoning = ev.Delta.Thinking
				return true
			}
		case "message_delta":
			// output_tokens is cumulative; input_tokens (and the cache
			// counts) are repeated by newer API versions, absent from
			// older ones.
			u := ev.Usage
			in, read, created := u.InputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens
			if in == 0 && read == 0 && created == 0 {
				read, created = int64(s.usage.CachedInputTokens), int64(s.usage.CacheWriteTokens)
				in = int64(s.usage.InputTokens) - read - created
			}
			thinking := u.OutputTokensDetails.ThinkingTokens
			if thinking == 0 {
				thinking = int64(s.usage.ReasoningTokens)
			}
			s.usage = usageOf(in, read, created, u.OutputTokens, thinking)
			s.cur.Usage = &providers.Usage{}
			*s.cur.Usage = s.usage
			s.cur.Finish = providers.FinishOf(string(ev.Delta.StopReason))
			return true
		case "message_stop":
			s.finish(nil)
			return false
		}
	}
	err := s.sdk.Err()
	switch {
	case s.ctx.Err() != nil:
		err = providers.ContextError(s.ctx, s.c.name)
	case s.closed.Load():
		err = errClosed
	case err != nil:
		err = s.c.classify(s.ctx, s.model, err)
	default:
		err = &providers.Error{Kind: providers.KindInvalid, Provider: s.c.name,
			Message: "stream ended without its final event"}
	}
	s.finish(err)
	return false
}

// finish ends the stream with err (nil for a clean end) and releases the
// connection. Called with mu held.
func (s *stream) finish(err error) {
	s.done = true
	s.err = err
	s.cur = providers.Chunk{}
	s.sdk.Close()
	s.cancel(errClosed)
}

func (s *stream) Chunk() providers.Chunk { return s.cur }

func (s *stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close releases the connection. It may be called from another goroutine
// while Next is blocked: cancelling the request's context unblocks it.
func (s *stream) Close() error {
	s.closed.Store(true)
	s.cancel(errClosed)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done = true
		s.sdk.Close()
	}
	return nil
}

// usageOf converts the Messages API's counts. Its input_tokens leaves out
// the tokens read from the cache and those written to it; council counts
// every input token, with the cache reads and writes apart.
func usageOf(input, cacheRead, cacheCreated, output, thinking int64) providers.Usage {
	return providers.Usage{
		InputTokens:       int(input + cacheRead + cacheCreated),
		OutputTokens:      int(output),
		CachedInputTokens: int(cacheRead),
		CacheWriteTokens:  int(cacheCreated),
		ReasoningTokens:   int(min(thinking, output)),
	}
}

// String describes the client without its key.
func (c *Client) String() string { return fmt.Sprintf("anthropic(%s)", c.name) }
