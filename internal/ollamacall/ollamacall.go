// Package ollamacall is how hmpps talks to an Ollama server through the
// official client: where the server is (OLLAMA_HOST semantics), one call with
// streaming off and a timeout, what a call cost (Usage), and the client's
// errors mapped to sentinels. It is the leaf every model-backed stage shares:
// the public packages re-export Usage and the sentinels, so that one
// errors.Is test works whichever stage failed.
package ollamacall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/envconfig"
)

// Sentinel errors of every model-backed stage. They are re-exported by the
// retrieval, rerank and summarize packages.
var (
	// ErrModelNotFound reports a model the server does not have; the error
	// text names the `ollama pull` command that fixes it.
	ErrModelNotFound = errors.New("ollama: model not found")
	// ErrUnavailable reports a server that cannot be reached, failed (5xx),
	// or did not answer within the timeout.
	ErrUnavailable = errors.New("ollama: server unavailable")
	// ErrBadAnswer reports an answer that arrived but cannot be used: not
	// JSON, empty, or not in the shape that was asked for.
	ErrBadAnswer = errors.New("ollama: unusable answer")
)

// defaultPort is Ollama's port when a host names none.
const defaultPort = "11434"

// Host resolves an Ollama address the way the official client reads
// OLLAMA_HOST: "host", "host:port", "scheme://host:port/path"; a missing
// scheme is http and a missing port 11434 (80 or 443 when the scheme is
// given). An empty s reads OLLAMA_HOST itself, which defaults to
// http://127.0.0.1:11434.
func Host(s string) *url.URL {
	s = strings.TrimSpace(s)
	if s == "" {
		return envconfig.Host()
	}
	port := defaultPort
	scheme, hostport, ok := strings.Cut(s, "://")
	switch {
	case !ok:
		scheme, hostport = "http", s
		if s == "ollama.com" {
			scheme, hostport = "https", "ollama.com:443"
		}
	case scheme == "http":
		port = "80"
	case scheme == "https":
		port = "443"
	}
	hostport, path, _ := strings.Cut(hostport, "/")
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		host, p = "127.0.0.1", port
		if ip := net.ParseIP(strings.Trim(hostport, "[]")); ip != nil {
			host = ip.String()
		} else if hostport != "" {
			host = hostport
		}
	}
	if n, err := strconv.ParseInt(p, 10, 32); err != nil || n < 0 || n > 65535 {
		p = port
	}
	return &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, p), Path: path}
}

// NewClient returns a client for the server at host (see Host) that sends
// its requests through hc, or http.DefaultClient when hc is nil. Chat calls
// on it skip the official client's per-call 8 MB buffer (see direct.go);
// make one client and reuse it.
func NewClient(host string, hc *http.Client) *api.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	base := Host(host)
	c := api.NewClient(base, hc)
	register(c, base, hc)
	return c
}

// Chat sends req with streaming off and returns the whole answer. The call
// gets at most timeout (none if timeout <= 0) on top of ctx. If the server
// streams anyway, the chunks are joined: content and thinking concatenated,
// log-probabilities appended, metrics from the last chunk. Errors are
// classified as Classify does.
func Chat(ctx context.Context, c *api.Client, req *api.ChatRequest, timeout time.Duration) (api.ChatResponse, error) {
	stream := false
	req.Stream = &stream
	send := c.Chat
	if ep := endpointOf(c); ep != nil {
		send = ep.chat
	}
	var (
		out               api.ChatResponse
		content, thinking strings.Builder
		logprobs          []api.Logprob
	)
	err := call(ctx, req.Model, timeout, func(ctx context.Context, fn func(api.ChatResponse) error) error {
		return send(ctx, req, fn)
	}, func(r api.ChatResponse) {
		content.WriteString(r.Message.Content)
		thinking.WriteString(r.Message.Thinking)
		logprobs = append(logprobs, r.Logprobs...)
		out = r
	})
	if err != nil {
		return api.ChatResponse{}, err
	}
	out.Message.Content = content.String()
	out.Message.Thinking = thinking.String()
	out.Logprobs = logprobs
	return out, nil
}

// call is what Chat and Generate share: one call through send with at most
// timeout on top of ctx, every answer chunk handed to add, errors classified
// as Classify does, and an answer without a chunk an ErrBadAnswer (the
// client returns no error for an empty body, whatever the status).
func call[Resp any](ctx context.Context, model string, timeout time.Duration, send func(context.Context, func(Resp) error) error, add func(Resp)) error {
	callCtx, cancel := withTimeout(ctx, timeout)
	defer cancel()
	got := false
	err := send(callCtx, func(r Resp) error {
		got = true
		add(r)
		return nil
	})
	if err != nil {
		return Classify(ctx, err, model, timeout)
	}
	if !got {
		return fmt.Errorf("%w: model %q: the server sent an empty response", ErrBadAnswer, model)
	}
	return nil
}

// Embed sends one /api/embed request with at most timeout on top of ctx.
func Embed(ctx context.Context, c *api.Client, req *api.EmbedRequest, timeout time.Duration) (*api.EmbedResponse, error) {
	callCtx, cancel := withTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.Embed(callCtx, req)
	if err != nil {
		return nil, Classify(ctx, err, req.Model, timeout)
	}
	return resp, nil
}

func withTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return context.WithCancel(ctx)
}

// Classify wraps an error of the official client for model: the caller's
// own cancellation stays a context error; a timeout, an unreachable server,
// a 5xx status or a connection that breaks mid-answer wraps ErrUnavailable;
// a 404 wraps ErrModelNotFound; a 400 about the context length wraps
// ErrTooLong; another 4xx wraps the api.StatusError; anything else (a body
// that is not JSON, an error line in the stream) wraps ErrBadAnswer. ctx is
// the caller's context, without the per-call timeout, so that the two can
// be told apart.
func Classify(ctx context.Context, err error, model string, timeout time.Duration) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("ollama: model %q: %w", model, cerr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: model %q gave no answer within %v: %w", ErrUnavailable, model, timeout, err)
	}
	var serr api.StatusError
	if errors.As(err, &serr) {
		msg := serr.ErrorMessage
		if msg == "" {
			msg = serr.Status
		}
		switch {
		case serr.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w: %q is not on the server; run: ollama pull %s (server said: %s)", ErrModelNotFound, model, model, msg)
		case serr.StatusCode == http.StatusNotImplemented:
			// The server works; the model cannot do this (an embedding
			// asked of a generative model: "this model does not support
			// embeddings").
			return fmt.Errorf("%w: model %q: %s", ErrUnsupported, model, msg)
		case serr.StatusCode == http.StatusBadRequest && strings.Contains(msg, "context length"):
			// "the input length exceeds the context length", and the
			// server's own truncation failing ("input exceeds maximum
			// context length and cannot be truncated further").
			return fmt.Errorf("%w: model %q: %s", ErrTooLong, model, msg)
		case serr.StatusCode >= 500:
			return fmt.Errorf("%w: model %q: HTTP %d: %s", ErrUnavailable, model, serr.StatusCode, msg)
		default:
			return fmt.Errorf("ollama: model %q refused the request: HTTP %d: %w", model, serr.StatusCode, serr)
		}
	}
	var aerr api.AuthorizationError
	if errors.As(err, &aerr) {
		return fmt.Errorf("ollama: model %q: unauthorized: %w", model, aerr)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		// The answer began and the connection broke: the server went
		// away (the client reads the body after the request returned).
		return fmt.Errorf("%w: model %q: the connection broke mid-answer: %w", ErrUnavailable, model, err)
	}
	return fmt.Errorf("%w: model %q: %w", ErrBadAnswer, model, err)
}

// IsFatal reports whether err means that no call to this model can succeed
// for now (the model is missing, the server is unreachable), so that a stage
// making many calls can stop early instead of failing each one.
func IsFatal(err error) bool {
	if errors.Is(err, ErrModelNotFound) || errors.Is(err, ErrUnsupported) {
		return true
	}
	var uerr *url.Error
	if errors.As(err, &uerr) && !uerr.Timeout() {
		var operr *net.OpError
		return errors.As(err, &operr) && operr.Op == "dial"
	}
	return false
}

// KeepAlive converts a keep-alive setting to the request field: zero leaves
// the server's default (5 minutes), a negative duration keeps the model
// loaded until the server stops, a positive one keeps it that long.
func KeepAlive(d time.Duration) *api.Duration {
	switch {
	case d == 0:
		return nil
	case d < 0:
		return &api.Duration{Duration: -1}
	default:
		return &api.Duration{Duration: d}
	}
}
