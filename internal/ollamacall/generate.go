package ollamacall

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

// ErrUnsupported reports a model that cannot do what was asked of it, such
// as embeddings from a model without the embedding capability (the server
// answers 501).
var ErrUnsupported = errors.New("ollama: model does not support this request")

// Generate sends one /api/generate request with streaming off and returns
// the whole answer, with at most timeout (none if timeout <= 0) on top of
// ctx. Streamed chunks are joined as Chat joins them; errors are classified
// as Classify does.
func Generate(ctx context.Context, c *api.Client, req *api.GenerateRequest, timeout time.Duration) (api.GenerateResponse, error) {
	stream := false
	req.Stream = &stream
	send := c.Generate
	if ep := endpointOf(c); ep != nil {
		send = ep.generate
	}
	var (
		out      api.GenerateResponse
		text     strings.Builder
		logprobs []api.Logprob
	)
	err := call(ctx, req.Model, timeout, func(ctx context.Context, fn func(api.GenerateResponse) error) error {
		return send(ctx, req, fn)
	}, func(r api.GenerateResponse) {
		text.WriteString(r.Response)
		logprobs = append(logprobs, r.Logprobs...)
		out = r
	})
	if err != nil {
		return api.GenerateResponse{}, err
	}
	out.Response = text.String()
	out.Logprobs = logprobs
	return out, nil
}

// Capabilities asks the server what model can do (/api/show): "completion",
// "vision", "embedding", "thinking", ... A model the server does not have
// gives an error wrapping ErrModelNotFound.
func Capabilities(ctx context.Context, c *api.Client, model string, timeout time.Duration) ([]string, error) {
	info, err := Show(ctx, c, model, timeout)
	return info.Capabilities, err
}

// HasCapability reports whether caps, as Capabilities returns them, holds
// want.
func HasCapability(caps []string, want string) bool {
	return slices.Contains(caps, want)
}
