package ollamacall

import (
	"context"
	"slices"
	"time"

	"github.com/ollama/ollama/api"
)

// Capabilities asks the server what model can do (/api/show): "completion",
// "vision", "embedding", "thinking", ... It asks once per client and model
// and remembers the answer for as long as the client lives; a failure is
// not remembered. A model the server does not have gives an error wrapping
// ErrModelNotFound.
func Capabilities(ctx context.Context, c *api.Client, model string, timeout time.Duration) ([]string, error) {
	s := stateOf(c)
	if caps, ok := s.caps.Load(model); ok {
		return caps.([]string), nil
	}
	callCtx, cancel := withTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.Show(callCtx, &api.ShowRequest{Model: model})
	if err != nil {
		return nil, Classify(ctx, err, model, timeout)
	}
	caps := make([]string, len(resp.Capabilities))
	for i, cp := range resp.Capabilities {
		caps[i] = string(cp)
	}
	s.caps.Store(model, caps)
	return caps, nil
}

// HasCapability reports whether caps, as Capabilities returns them, holds
// want.
func HasCapability(caps []string, want string) bool {
	return slices.Contains(caps, want)
}
