package ollamacall

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
)

func TestContextLength(t *testing.T) {
	bert := map[string]any{"general.architecture": "bert", "bert.context_length": float64(512)}
	tests := []struct {
		name       string
		info       map[string]any
		parameters string
		want       int
	}{
		{"trained only", bert, "", 512},
		{"smaller num_ctx", bert, "num_ctx                        256\n", 256},
		// The server clamps num_ctx to the trained length.
		{"larger num_ctx", bert, "num_ctx 4096", 512},
		{"other parameters", bert, "stop \"<end>\"\ntemperature 0.1\nnum_ctx 480\n", 480},
		{"num_ctx only", nil, "num_ctx 2048", 2048},
		{"neither", nil, "", 0},
		{"no architecture", map[string]any{"bert.context_length": float64(512)}, "", 0},
		{"other architecture's length", map[string]any{"general.architecture": "gemma3", "bert.context_length": float64(512)}, "", 0},
		{"not a number", map[string]any{"general.architecture": "bert", "bert.context_length": "512"}, "", 0},
		{"negative", map[string]any{"general.architecture": "bert", "bert.context_length": float64(-1)}, "num_ctx -4", 0},
		{"garbage num_ctx", bert, "num_ctx many", 512},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, contextLength(tt.info, tt.parameters))
		})
	}
}

func TestShow(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{
		Models:       []string{"minilm"},
		Capabilities: []string{"embedding"},
		ModelInfo:    map[string]any{"general.architecture": "bert", "bert.context_length": 512},
		Parameters:   "num_ctx                        256",
	})
	info, err := Show(context.Background(), srv.APIClient(), "minilm", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, Info{Capabilities: []string{"embedding"}, ContextLength: 256}, info)

	_, err = Show(context.Background(), srv.APIClient(), "absent", time.Minute)
	require.ErrorIs(t, err, ErrModelNotFound)
	assert.Contains(t, err.Error(), "ollama pull absent")
}

// The real server's answers to an input longer than the context: the
// runner's refusal, and its own truncation giving up.
func TestEmbedTooLong(t *testing.T) {
	for _, msg := range []string{
		"the input length exceeds the context length",
		"input exceeds maximum context length and cannot be truncated further",
		"input after truncation exceeds maximum context length",
	} {
		t.Run(msg, func(t *testing.T) {
			srv := ollamatest.New(t, ollamatest.Config{Embed: func(context.Context, *api.EmbedRequest) (api.EmbedResponse, error) {
				return api.EmbedResponse{}, &ollamatest.Error{Status: 400, Message: msg}
			}})
			_, err := Embed(context.Background(), srv.APIClient(), &api.EmbedRequest{Model: "m", Input: []string{"x"}}, time.Minute)
			require.ErrorIs(t, err, ErrTooLong)
			assert.Contains(t, err.Error(), msg)
			assert.False(t, IsFatal(err), "another, shorter text can succeed")
		})
	}
	// Other refusals are not about length.
	srv := ollamatest.New(t, ollamatest.Config{Embed: func(context.Context, *api.EmbedRequest) (api.EmbedResponse, error) {
		return api.EmbedResponse{}, &ollamatest.Error{Status: 400, Message: "invalid input type"}
	}})
	_, err := Embed(context.Background(), srv.APIClient(), &api.EmbedRequest{Model: "m", Input: []string{"x"}}, time.Minute)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrTooLong)
}

// A server that dies while it sends an answer: the client has the status
// and part of the body. That is an unavailable server, not a bad answer.
func TestEmbedConnectionBrokenMidAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"model":"m","embeddings":[[0.1,`)
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	_, err := Embed(context.Background(), NewClient(srv.URL, nil), &api.EmbedRequest{Model: "m", Input: []string{"x"}}, time.Minute)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.NotErrorIs(t, err, ErrBadAnswer)
	assert.Contains(t, err.Error(), "mid-answer")
}
