package retrieval_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

// bertInfo is what /api/show reports for all-MiniLM-L6-v2 as
// scripts/ollama.sh registers it.
var bertInfo = ollamatest.Config{
	Capabilities: []string{"embedding"},
	ModelInfo: map[string]any{"general.architecture": "bert", "bert.context_length": 512,
		"tokenizer.ggml.model": "bert"},
	Parameters: "num_ctx                        256",
}

func TestOllamaEmbedderLearnsTheModel(t *testing.T) {
	ctx := context.Background()
	cfg := bertInfo
	cfg.Embed = ollamatest.HashEmbed(8)
	srv := ollamatest.New(t, cfg)
	tests := []struct {
		name      string
		dimension int
		configure int
		before    int // ContextLength before the first Embed
		want      int
	}{
		{"asked at construction", 0, 0, 256, 256},
		{"asked at the first Embed", 8, 0, 0, 256},
		{"configured", 8, 100, 100, 100},
		{"texts sent whole", 8, -1, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shows, embeds := srv.Shows(), len(srv.Embeds())
			e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "m",
				Dimension: tt.dimension, ContextLength: tt.configure})
			require.NoError(t, err)
			if tt.dimension != 0 {
				assert.Equal(t, shows, srv.Shows(), "a configured dimension: no call at construction")
				assert.Len(t, srv.Embeds(), embeds)
			}
			assert.Equal(t, tt.before, e.ContextLength())
			_, err = e.Embed(ctx, []string{"Condé Nast’s “Traveler”", "x"})
			require.NoError(t, err)
			_, err = e.Embed(ctx, []string{"y"})
			require.NoError(t, err)
			assert.Equal(t, tt.want, e.ContextLength())
			assert.Equal(t, shows+1, srv.Shows(), "asked once")
			in, err := ollamatest.EmbedInputs(&srv.Embeds()[len(srv.Embeds())-2].Request)
			require.NoError(t, err)
			assert.Equal(t, []string{`Conde Nast's "Traveler"`, "x"}, in, "folded for the server's WordPiece")
		})
	}
}

func TestOllamaEmbedderFirstEmbedNeedsTheServer(t *testing.T) {
	ctx := context.Background()
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"present"}, Embed: ollamatest.HashEmbed(4)})
	e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "absent", Dimension: 4})
	require.NoError(t, err, "a configured dimension: no call")
	_, err = e.Embed(ctx, []string{"x"})
	require.ErrorIs(t, err, retrieval.ErrModelNotFound)
	assert.Contains(t, err.Error(), "ollama pull absent")
}

// words returns n distinct words.
func words(prefix string, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return strings.Join(w, " ")
}

func TestOllamaEmbedderCutsTextsToTheContext(t *testing.T) {
	ctx := context.Background()
	srv := ollamatest.New(t, ollamatest.Config{Embed: ollamatest.HashEmbed(8)})
	e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "m", Dimension: 8, ContextLength: 5})
	require.NoError(t, err)
	long := "Title.  Brand\tcategory  " + words("w", 20)
	_, err = e.Embed(ctx, []string{long, "two words", ""})
	require.NoError(t, err)
	require.Len(t, srv.Embeds(), 1)
	in, err := ollamatest.EmbedInputs(&srv.Embeds()[0].Request)
	require.NoError(t, err)
	assert.Equal(t, []string{"Title.  Brand\tcategory  w0 w1", "two words", ""}, in, "the head, five words; short texts whole")
	assert.Contains(t, string(srv.Embeds()[0].Body), `"truncate":true`, "the server cuts the rest in tokens")
}

// The real server fails a whole batch for one text it cannot fit: the
// others embed, and that text is sent again shorter until it fits.
func TestOllamaEmbedderRetriesARefusedTextShorter(t *testing.T) {
	ctx := context.Background()
	const limit = 10 // words the server takes
	srv := ollamatest.New(t, ollamatest.Config{Embed: ollamatest.RefuseLong(limit, ollamatest.HashEmbed(16))})
	e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "m", Dimension: 16,
		ContextLength: 64, BatchSize: 8})
	require.NoError(t, err)
	texts := make([]string, 12)
	for i := range texts {
		texts[i] = fmt.Sprintf("short product %d", i)
	}
	texts[5] = words("long", 40)
	texts[10] = words("longer", 100) // cut to 64 words first, still refused
	vecs, err := e.Embed(ctx, texts)
	require.NoError(t, err)
	require.Len(t, vecs, len(texts))

	// Every vector is the fake's answer for the text the server took.
	accepted := make(map[string][]float32)
	for _, c := range srv.Embeds() {
		in, err := ollamatest.EmbedInputs(&c.Request)
		require.NoError(t, err)
		resp, err := ollamatest.HashEmbed(16)(ctx, &c.Request)
		if err != nil || slices.ContainsFunc(in, func(s string) bool { return len(strings.Fields(s)) > limit }) {
			continue
		}
		for i, s := range in {
			accepted[s] = resp.Embeddings[i]
		}
	}
	for i, text := range texts {
		if i == 5 || i == 10 {
			continue
		}
		assert.Equal(t, accepted[text], vecs[i], "text %d embedded whole", i)
	}
	for _, i := range []int{5, 10} {
		var took string
		for s := range accepted {
			if strings.HasPrefix(texts[i], s) && len(s) > len(took) {
				took = s
			}
		}
		require.NotEmpty(t, took, "text %d", i)
		n := len(strings.Fields(took))
		assert.LessOrEqual(t, n, limit, "text %d", i)
		assert.Greater(t, n, limit*3/4-1, "text %d: cut a quarter at a time, not more", i)
		assert.Equal(t, accepted[took], vecs[i], "text %d: the vector of its head", i)
	}
	assert.Equal(t, len(srv.Embeds()), e.Usage().ModelCalls)
}

func TestOllamaEmbedderGivesUpOnATextThatNeverFits(t *testing.T) {
	ctx := context.Background()
	srv := ollamatest.New(t, ollamatest.Config{Embed: ollamatest.RefuseLong(0, ollamatest.HashEmbed(4))})
	e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "m", Dimension: 4})
	require.NoError(t, err)
	vecs, err := e.Embed(ctx, []string{words("w", 30)})
	require.ErrorIs(t, err, ollamacall.ErrTooLong)
	assert.Contains(t, err.Error(), ollamatest.TooLongMessage)
	assert.Nil(t, vecs)
	assert.Less(t, len(srv.Embeds()), 40, "a quarter shorter each time: few calls")
}

// Batches go out concurrently, up to the limit and no more: each answer
// waits until the limit is reached, so a sequential embedder would never
// see a second batch in flight.
func TestOllamaEmbedderSendsBatchesConcurrently(t *testing.T) {
	ctx := context.Background()
	const limit = 3
	var inFlight, most atomic.Int32
	var mu sync.Mutex
	full := make(chan struct{})
	hash := ollamatest.HashEmbed(4)
	srv := ollamatest.New(t, ollamatest.Config{Embed: func(ctx context.Context, req *api.EmbedRequest) (api.EmbedResponse, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		mu.Lock()
		if n > most.Load() {
			most.Store(n)
		}
		if n == limit {
			select {
			case <-full:
			default:
				close(full)
			}
		}
		mu.Unlock()
		select {
		case <-full:
		case <-time.After(10 * time.Second):
			return api.EmbedResponse{}, &ollamatest.Error{Status: 500, Message: "the batches never overlapped"}
		}
		return hash(ctx, req)
	}})
	e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "m", Dimension: 4,
		BatchSize: 2, Concurrency: limit})
	require.NoError(t, err)
	texts := make([]string, 20)
	for i := range texts {
		texts[i] = fmt.Sprintf("product %d", i)
	}
	vecs, err := e.Embed(ctx, texts)
	require.NoError(t, err)
	assert.Equal(t, int32(limit), most.Load())
	for i, text := range texts {
		one, err := hash(ctx, &api.EmbedRequest{Input: []any{text}})
		require.NoError(t, err)
		assert.Equal(t, one.Embeddings[0], vecs[i], "text %d in its place", i)
	}
	assert.Equal(t, 10, e.Usage().ModelCalls)
}

func TestOllamaEmbedderFailedBatchReturnsNothing(t *testing.T) {
	ctx := context.Background()
	hash := ollamatest.HashEmbed(4)
	srv := ollamatest.New(t, ollamatest.Config{Embed: func(ctx context.Context, req *api.EmbedRequest) (api.EmbedResponse, error) {
		in, _ := ollamatest.EmbedInputs(req)
		if slices.Contains(in, "product 9") {
			return api.EmbedResponse{}, &ollamatest.Error{Status: 500, Message: "runner crashed"}
		}
		return hash(ctx, req)
	}})
	e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: srv.APIClient(), Model: "m", Dimension: 4, BatchSize: 4})
	require.NoError(t, err)
	texts := make([]string, 16)
	for i := range texts {
		texts[i] = fmt.Sprintf("product %d", i)
	}
	vecs, usage, err := e.EmbedUsage(ctx, texts)
	require.ErrorIs(t, err, retrieval.ErrModelUnavailable)
	assert.Contains(t, err.Error(), "runner crashed")
	assert.Nil(t, vecs, "no vectors when a batch failed")
	assert.Positive(t, usage.ModelCalls)
}
