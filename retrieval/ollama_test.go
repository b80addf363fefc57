package retrieval_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamacall"
	"hmpps/internal/ollamatest"
	"hmpps/retrieval"
)

func TestOllamaEmbedderProbesAndBatches(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"nomic-embed-text"}, Embed: ollamatest.HashEmbed(16)})
	ctx := context.Background()
	e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "nomic-embed-text", BatchSize: 4})
	require.NoError(t, err)
	assert.Equal(t, 16, e.Dimension(), "probed")
	assert.Equal(t, "nomic-embed-text", e.Model())

	texts := make([]string, 10)
	for i := range texts {
		texts[i] = fmt.Sprintf("product number %d", i)
	}
	vecs, err := e.Embed(ctx, texts)
	require.NoError(t, err)
	require.Len(t, vecs, len(texts))
	single, err := e.Embed(ctx, texts[7:8])
	require.NoError(t, err)
	assert.Equal(t, single[0], vecs[7], "vectors come back in order")

	calls := srv.Embeds()
	require.Len(t, calls, 1+3+1, "probe, three batches of at most 4, then one")
	for _, c := range calls[1:4] {
		in, err := ollamatest.EmbedInputs(&c.Request)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(in), 4)
	}
	u := e.Usage()
	assert.Equal(t, 5, u.ModelCalls)
	assert.Positive(t, u.PromptTokens)

	empty, err := e.Embed(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func TestOllamaEmbedderConfiguredDimensionSkipsProbe(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Embed: ollamatest.HashEmbed(8)})
	e, err := retrieval.NewOllamaEmbedder(context.Background(), retrieval.OllamaEmbedderConfig{
		Client: srv.APIClient(), Model: "m", Dimension: 8, KeepAlive: -1})
	require.NoError(t, err)
	assert.Empty(t, srv.Embeds())
	_, err = e.Embed(context.Background(), []string{"x"})
	require.NoError(t, err)
	require.Len(t, srv.Embeds(), 1)
	assert.Contains(t, string(srv.Embeds()[0].Body), `"keep_alive":-1`)
}

func TestOllamaEmbedderFaults(t *testing.T) {
	ctx := context.Background()
	answer := func(vecs ...[]float32) ollamatest.EmbedFunc {
		return func(context.Context, *api.EmbedRequest) (api.EmbedResponse, error) {
			return api.EmbedResponse{Embeddings: vecs}, nil
		}
	}
	tests := []struct {
		name    string
		embed   ollamatest.EmbedFunc
		wantErr []error
	}{
		{"wrong dimension", answer([]float32{1, 2, 3}), []error{retrieval.ErrBadModelAnswer, retrieval.ErrDimensionMismatch}},
		{"too few vectors", answer(), []error{retrieval.ErrBadModelAnswer}},
		{"empty vector", answer([]float32{}), []error{retrieval.ErrBadModelAnswer, retrieval.ErrInvalidVector}},
		{"server error", func(context.Context, *api.EmbedRequest) (api.EmbedResponse, error) {
			return api.EmbedResponse{}, &ollamatest.Error{Status: 500, Message: "boom"}
		}, []error{retrieval.ErrModelUnavailable}},
		// What a real Ollama answers when the model is generative only.
		{"model cannot embed", func(context.Context, *api.EmbedRequest) (api.EmbedResponse, error) {
			return api.EmbedResponse{}, &ollamatest.Error{Status: 501, Message: "this model does not support embeddings"}
		}, []error{retrieval.ErrModelUnsupported}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ollamatest.New(t, ollamatest.Config{Embed: tt.embed})
			e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "m", Dimension: 4})
			require.NoError(t, err)
			_, err = e.Embed(ctx, []string{"a"})
			for _, want := range tt.wantErr {
				assert.ErrorIs(t, err, want)
			}
		})
	}
}

func TestNewOllamaEmbedderErrors(t *testing.T) {
	ctx := context.Background()
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"present"}, Embed: ollamatest.HashEmbed(4)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := ln.Addr().String()
	require.NoError(t, ln.Close())

	tests := []struct {
		name    string
		cfg     retrieval.OllamaEmbedderConfig
		wantErr error
		wantMsg string
	}{
		{"no client", retrieval.OllamaEmbedderConfig{Model: "m"}, retrieval.ErrInvalidConfig, "client"},
		{"no model", retrieval.OllamaEmbedderConfig{Client: srv.APIClient()}, retrieval.ErrInvalidConfig, "model"},
		{"negative dimension", retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "m", Dimension: -1}, retrieval.ErrInvalidConfig, "dimension"},
		{"missing model", retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "absent"}, retrieval.ErrModelNotFound, "ollama pull absent"},
		{"connection refused", retrieval.OllamaEmbedderConfig{Client: ollamacall.NewClient(refused, nil), Model: "m", Timeout: time.Second}, retrieval.ErrModelUnavailable, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := retrieval.NewOllamaEmbedder(ctx, tt.cfg)
			require.ErrorIs(t, err, tt.wantErr)
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}
