// Package gemini puts Google's Gemini API behind [providers.Provider], using
// the official SDK (google.golang.org/genai) against the Gemini API backend
// with its retries and automatic stream continuation turned off: the
// engine, not the SDK, decides what to retry.
//
// A completion is one POST models/{model}:streamGenerateContent?alt=sse.
// Candidate text parts become [providers.Chunk] texts; usage comes from
// usageMetadata. A stream that ends before a candidate carries a
// finishReason is a [providers.KindInvalid] failure. Every failure is a
// *[providers.Error] whose message never contains the key.
package gemini

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/genai"

	"github.com/council-dev/council/providers"
)

// DefaultBaseURL is the Gemini API root. It is always set explicitly so that
// the SDK's GOOGLE_GEMINI_BASE_URL variable does not silently redirect calls.
const DefaultBaseURL = "https://generativelanguage.googleapis.com/"

// KeyEnvs are the variables read, in order, when neither the Options' APIKey
// nor KeyEnv is set.
var KeyEnvs = []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}

// Options configures a [Client]: the provider's [providers.Settings] (of
// them, BaseURL empty means [DefaultBaseURL]; an empty APIKey means the
// variable KeyEnv is read, else GEMINI_API_KEY, else GOOGLE_API_KEY;
// Limits bound what is read of each response, zero fields taking their
// defaults; Gateway's headers and query parameters go on every request,
// the key's header and the SDK's own winning over them; Kind and the
// simulated kinds' Model, Seed and Sim are not read), and the HTTP
// client.
type Options struct {
	providers.Settings
	// HTTPClient is optional; nil means a client of this package's own, whose
	// idle connections [Client.CloseIdleConnections] closes.
	HTTPClient *http.Client
}

// Client streams completions from the Gemini API.
type Client struct {
	name   string
	keyEnv string
	key    string
	http   *http.Client // the caller's (or ours), for CloseIdleConnections
	models *genai.Models
}

var _ providers.Provider = (*Client)(nil)

// New returns a client. It fails with a [providers.KindAuth] error when no
// key is given or found in the environment.
func New(o Options) (*Client, error) {
	c := &Client{name: o.Name, keyEnv: o.KeyEnv, key: strings.TrimSpace(o.APIKey), http: o.HTTPClient}
	if c.name == "" {
		c.name = "gemini"
	}
	if c.key == "" {
		envs := KeyEnvs
		if c.keyEnv != "" {
			envs = []string{c.keyEnv}
		}
		for _, env := range envs {
			if k := strings.TrimSpace(os.Getenv(env)); k != "" {
				c.key, c.keyEnv = k, env
				break
			}
		}
	}
	if c.keyEnv == "" {
		c.keyEnv = KeyEnvs[0]
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
	// The SDK gets a copy of the client whose transport records each
	// response (see transport), so that the caller's client is not changed.
	watched := *c.http
	watched.Transport = &transport{base: c.http.Transport, provider: c.name, limits: o.Limits.OrDefaults(), gateway: o.Gateway}
	base := o.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	gc, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:     c.key,
		Backend:    genai.BackendGeminiAPI,
		HTTPClient: &watched,
		HTTPOptions: genai.HTTPOptions{
			BaseURL: base,
			// One attempt: no retries. (nil also means none today, but
			// the field's documentation promises a default of 5.)
			RetryOptions: &genai.HTTPRetryOptions{Attempts: genai.Ptr[int32](1)},
		},
	})
	if err != nil {
		// The SDK's messages print its whole config, key included.
		return nil, &providers.Error{Kind: providers.KindInvalid, Provider: c.name,
			Message: providers.Clean(err.Error(), c.key)}
	}
	c.models = gc.Models
	return c, nil
}

// CloseIdleConnections closes the idle connections of the client's HTTP
// client (tests call it before checking for leaked goroutines).
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// String describes the client without its key.
func (c *Client) String() string { return fmt.Sprintf("gemini(%s)", c.name) }

// request builds the contents and config of a call.
func request(req providers.Request) ([]*genai.Content, *genai.GenerateContentConfig) {
	contents := make([]*genai.Content, 0, len(req.Messages))
	for _, m := range req.Messages {
		role := genai.RoleUser
		if m.Role == "assistant" {
			role = genai.RoleModel
		}
		contents = append(contents, genai.NewContentFromText(m.Content, genai.Role(role)))
	}
	config := &genai.GenerateContentConfig{
		// On by default: it would send the request again, out of the
		// engine's sight, whenever a stream ends with a continuation token.
		AutomaticContinuation: genai.Ptr(false),
	}
	if req.System != "" {
		config.SystemInstruction = genai.NewContentFromText(req.System, genai.RoleUser)
	}
	if req.MaxTokens > 0 {
		config.MaxOutputTokens = int32(req.MaxTokens)
	}
	if req.Temperature != nil {
		config.Temperature = genai.Ptr(float32(*req.Temperature))
	}
	config.StopSequences = req.StopSequences()
	if f := req.ResponseFormat(); f != nil {
		config.ResponseMIMEType = "application/json"
		if f.Type == providers.FormatJSONSchema {
			config.ResponseJsonSchema = f.Schema
		}
	}
	return contents, config
}

// errClosed is the cause of a stream's context after Close, and the error
// of a Next that Close interrupted.
var errClosed = errors.New("stream closed")

// Stream starts a streamed completion. The SDK's iterator is lazy: the
// request is sent by the first Next, and its errors come from Err.
func (c *Client) Stream(ctx context.Context, req providers.Request) (providers.Stream, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	ex := &exchange{}
	contents, config := request(req)
	seq := c.models.GenerateContentStream(withExchange(sctx, ex), req.Model, contents, config)
	next, stop := iter.Pull2(seq)
	return &stream{c: c, ctx: ctx, cancel: cancel, ex: ex, model: req.Model, next: next, stop: stop}, nil
}

// stream adapts the SDK's push iterator to [providers.Stream] with
// iter.Pull2. Every way out (the end, an error, the caller's context,
// Close) calls stop, which ends the iterator and closes the body.
type stream struct {
	c      *Client
	ctx    context.Context // the caller's, for the cause of a cancellation
	cancel context.CancelCauseFunc
	ex     *exchange
	model  string

	closed atomic.Bool // Close was called

	mu    sync.Mutex // Next against Close; iter.Pull forbids concurrent calls
	next  func() (*genai.GenerateContentResponse, error, bool)
	stop  func()
	cur   providers.Chunk
	final bool // a candidate carried a finishReason
	done  bool
	err   error
}

func (s *stream) Next() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = providers.Chunk{}
	if s.done {
		return false
	}
	if s.final {
		// The final chunk has been handed out; the server has nothing after it.
		s.finish(nil)
		return false
	}
	for {
		if s.ctx.Err() != nil {
			s.finish(providers.ContextError(s.ctx, s.c.name))
			return false
		}
		resp, err, ok := s.next()
		switch {
		case !ok:
			s.finish(s.endError())
			return false
		case err != nil && s.closed.Load() && s.ctx.Err() == nil:
			s.finish(errClosed)
			return false
		case err != nil:
			s.finish(s.c.classify(s.ctx, s.ex, s.model, err))
			return false
		}
		chunk, err := s.convert(resp)
		if err != nil {
			s.finish(err)
			return false
		}
		if chunk.Text != "" || chunk.Reasoning != "" || chunk.Usage != nil || chunk.Finish != providers.FinishNone {
			s.cur = chunk
			return true
		}
		if s.final {
			s.finish(nil)
			return false
		}
	}
}

// convert reads one response of the stream.
func (s *stream) convert(resp *genai.GenerateContentResponse) (providers.Chunk, error) {
	var chunk providers.Chunk
	if resp == nil {
		return chunk, nil
	}
	if pf := resp.PromptFeedback; pf != nil && pf.BlockReason != "" && len(resp.Candidates) == 0 {
		msg := "prompt blocked: " + string(pf.BlockReason)
		if pf.BlockReasonMessage != "" {
			msg += ": " + providers.Clean(pf.BlockReasonMessage, s.c.key)
		}
		return chunk, &providers.Error{Kind: providers.KindInvalid, Provider: s.c.name, Message: providers.Redact(msg, s.c.key)}
	}
	if len(resp.Candidates) > 0 && resp.Candidates[0] != nil {
		cand := resp.Candidates[0]
		if cand.Content != nil {
			var b, r strings.Builder
			for _, p := range cand.Content.Parts {
				switch {
				case p == nil:
				case p.Thought:
					r.WriteString(p.Text)
				default:
					b.WriteString(p.Text)
				}
			}
			chunk.Text, chunk.Reasoning = b.String(), r.String()
		}
		switch cand.FinishReason {
		case "", genai.FinishReasonUnspecified:
		case genai.FinishReasonContinuation:
			// More would come from a second request with the token,
			// which automatic continuation (off) would send.
			return chunk, &providers.Error{Kind: providers.KindInvalid, Provider: s.c.name,
				Message: "stream ended with finishReason CONTINUATION: the answer is incomplete"}
		default:
			s.final = true
			chunk.Finish = providers.FinishOf(string(cand.FinishReason))
		}
	}
	if u := resp.UsageMetadata; u != nil {
		// Thinking tokens are billed as output; cached tokens are part of
		// the prompt's count.
		chunk.Usage = &providers.Usage{
			InputTokens:       int(u.PromptTokenCount),
			OutputTokens:      int(u.CandidatesTokenCount + u.ThoughtsTokenCount),
			CachedInputTokens: int(u.CachedContentTokenCount),
			ReasoningTokens:   int(u.ThoughtsTokenCount),
		}
	}
	return chunk, nil
}

// endError says why an iterator that ended without an error ended: the
// caller's context, a broken connection (which the body wrapper kept from
// the SDK), or no final event.
func (s *stream) endError() error {
	if s.ctx.Err() != nil {
		return providers.ContextError(s.ctx, s.c.name)
	}
	if s.closed.Load() {
		return errClosed
	}
	if err := s.ex.readErr(); err != nil {
		return s.c.classify(s.ctx, s.ex, s.model, err)
	}
	if !s.final {
		return &providers.Error{Kind: providers.KindInvalid, Provider: s.c.name,
			Message: "stream ended without its final event"}
	}
	return nil
}

// finish ends the stream with err (nil for a clean end), stops the
// iterator and releases the connection. Called with mu held.
func (s *stream) finish(err error) {
	s.done = true
	s.err = err
	s.cur = providers.Chunk{}
	s.cancel(errClosed)
	s.stop()
}

func (s *stream) Chunk() providers.Chunk { return s.cur }

func (s *stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close releases the stream. It may be called from another goroutine while
// Next is blocked: cancelling the request's context unblocks it first.
func (s *stream) Close() error {
	s.closed.Store(true)
	s.cancel(errClosed)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done = true
		s.stop()
	}
	return nil
}
