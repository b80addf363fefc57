package ollamacall

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

// ErrTooLong reports a text the server refused because it does not fit the
// model's context (HTTP 400 "the input length exceeds the context length"),
// even with the request's truncation on: see Classify.
var ErrTooLong = errors.New("ollama: input longer than the model's context")

// Info is what /api/show tells about a model that the stages use.
type Info struct {
	// Capabilities are what the model can do: "completion", "vision",
	// "embedding", "thinking", ...
	Capabilities []string
	// ContextLength is the most tokens the server lets the model read at
	// once: the num_ctx parameter of its Modelfile when that is set and
	// smaller, else the context length the model was trained with (the
	// server clamps num_ctx to it). Zero when the server reports neither.
	ContextLength int
	// Tokenizer is the tokenizer the server runs for the model
	// ("tokenizer.ggml.model"): "bert" (WordPiece), "gpt2" (byte-pair
	// encoding), "llama" (SentencePiece), ...; empty when not reported.
	Tokenizer string
}

// Show asks the server about model (/api/show). A model the server does
// not have gives an error wrapping ErrModelNotFound.
func Show(ctx context.Context, c *api.Client, model string, timeout time.Duration) (Info, error) {
	callCtx, cancel := withTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.Show(callCtx, &api.ShowRequest{Model: model})
	if err != nil {
		return Info{}, Classify(ctx, err, model, timeout)
	}
	info := Info{Capabilities: make([]string, len(resp.Capabilities))}
	for i, cp := range resp.Capabilities {
		info.Capabilities[i] = string(cp)
	}
	info.ContextLength = contextLength(resp.ModelInfo, resp.Parameters)
	info.Tokenizer, _ = resp.ModelInfo["tokenizer.ggml.model"].(string)
	return info, nil
}

// contextLength reads the trained context length from the model's metadata
// ("<architecture>.context_length") and lowers it to the num_ctx parameter
// when the Modelfile sets a smaller one.
func contextLength(modelInfo map[string]any, parameters string) int {
	var trained int
	if arch, ok := modelInfo["general.architecture"].(string); ok {
		// JSON numbers decode as float64.
		if n, ok := modelInfo[arch+".context_length"].(float64); ok && n > 0 && n < 1<<31 {
			trained = int(n)
		}
	}
	// Parameters are lines of "name value", padded with spaces.
	numCtx := 0
	for line := range strings.Lines(parameters) {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "num_ctx" {
			if n, err := strconv.Atoi(f[1]); err == nil && n > 0 {
				numCtx = n
			}
		}
	}
	switch {
	case trained == 0:
		return numCtx
	case numCtx == 0:
		return trained
	}
	return min(trained, numCtx)
}
