package ollamacall

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/envconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
)

// Host must read an address exactly as the official client reads
// OLLAMA_HOST.
func TestHostMatchesOllamaHost(t *testing.T) {
	for _, s := range []string{
		"example.com", "example.com:8080", "http://example.com", "https://example.com",
		"https://example.com:8443/ollama", "10.0.0.2", "[::1]:11434", "::1", "0.0.0.0",
		"ollama.com", "http://localhost:99999", "localhost:abc",
	} {
		t.Run(s, func(t *testing.T) {
			t.Setenv("OLLAMA_HOST", s)
			assert.Equal(t, envconfig.Host().String(), Host(s).String())
		})
	}
}

func TestHostDefaultsToEnvironment(t *testing.T) {
	t.Setenv("OLLAMA_HOST", "")
	assert.Equal(t, "http://127.0.0.1:11434", Host("").String())
	t.Setenv("OLLAMA_HOST", "gpu-box:1234")
	assert.Equal(t, "http://gpu-box:1234", Host(" ").String())
}

func chat(srv *ollamatest.Server, model string, timeout time.Duration) (api.ChatResponse, error) {
	return Chat(context.Background(), srv.APIClient(), &api.ChatRequest{Model: model,
		Messages: []api.Message{{Role: "user", Content: "hi"}}}, timeout)
}

func TestChatFaults(t *testing.T) {
	fail := func(err error) ollamatest.ChatFunc {
		return func(context.Context, *api.ChatRequest) (api.ChatResponse, error) { return api.ChatResponse{}, err }
	}
	tests := []struct {
		name    string
		cfg     ollamatest.Config
		timeout time.Duration
		wantErr error
		wantMsg string
	}{
		{"model not found", ollamatest.Config{Models: []string{"other"}}, 0, ErrModelNotFound, "ollama pull m"},
		{"500", ollamatest.Config{Chat: fail(&ollamatest.Error{Status: 500, Message: "runner crashed"})}, 0, ErrUnavailable, "runner crashed"},
		{"503 busy", ollamatest.Config{Chat: fail(&ollamatest.Error{Status: 503, Message: "server busy"})}, 0, ErrUnavailable, "503"},
		{"400", ollamatest.Config{Chat: fail(&ollamatest.Error{Status: 400, Message: "does not support vision"})}, 0, nil, "does not support vision"},
		{"empty 500", ollamatest.Config{Chat: fail(&ollamatest.Raw{Status: 500})}, 0, ErrBadAnswer, "empty response"},
		{"garbage 200", ollamatest.Config{Chat: fail(&ollamatest.Raw{Status: 200, Body: "<html>proxy</html>"})}, 0, ErrBadAnswer, "proxy"},
		{"error line in the stream", ollamatest.Config{Chat: fail(&ollamatest.Raw{Status: 200, Body: `{"error":"out of memory"}`})}, 0, ErrBadAnswer, "out of memory"},
		{"slow past the timeout", ollamatest.Config{Delay: time.Second, Chat: ollamatest.Text(func(*api.ChatRequest) string { return "late" })}, 50 * time.Millisecond, ErrUnavailable, "within 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ollamatest.New(t, tt.cfg)
			start := time.Now()
			_, err := chat(srv, "m", tt.timeout)
			require.Error(t, err)
			assert.Less(t, time.Since(start), 900*time.Millisecond, "must not wait for a slow server")
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestChatConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := NewClient(addr, nil)
	_, err = Chat(context.Background(), c, &api.ChatRequest{Model: "m"}, time.Second)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.True(t, IsFatal(err))
	assert.Contains(t, err.Error(), "connection refused")
}

func TestChatCanceled(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Delay: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(30 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := Chat(ctx, srv.APIClient(), &api.ChatRequest{Model: "m"}, 0)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrUnavailable, "the caller's cancellation is not the server's fault")
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestChatJoinsAnswer(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: ollamatest.YesNo(func(*api.ChatRequest) float64 { return 0.75 })})
	resp, err := Chat(context.Background(), srv.APIClient(), &api.ChatRequest{Model: "m", Logprobs: true, TopLogprobs: 20}, time.Second)
	require.NoError(t, err)
	assert.Equal(t, "Yes", resp.Message.Content)
	require.Len(t, resp.Logprobs, 1)
	assert.NotEmpty(t, resp.Logprobs[0].TopLogprobs)
	assert.Equal(t, 1, resp.EvalCount)
}

func TestIsFatal(t *testing.T) {
	assert.True(t, IsFatal(Classify(context.Background(), api.StatusError{StatusCode: 404}, "m", 0)))
	assert.False(t, IsFatal(Classify(context.Background(), api.StatusError{StatusCode: 500}, "m", 0)))
	assert.False(t, IsFatal(Classify(context.Background(), context.DeadlineExceeded, "m", time.Second)))
}

func TestEmbedFaults(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"e"}, Embed: ollamatest.HashEmbed(4)})
	_, err := Embed(context.Background(), srv.APIClient(), &api.EmbedRequest{Model: "missing", Input: "x"}, time.Second)
	require.ErrorIs(t, err, ErrModelNotFound)
	garbage := ollamatest.New(t, ollamatest.Config{Embed: func(context.Context, *api.EmbedRequest) (api.EmbedResponse, error) {
		return api.EmbedResponse{}, &ollamatest.Raw{Status: 200, Body: "not json"}
	}})
	_, err = Embed(context.Background(), garbage.APIClient(), &api.EmbedRequest{Model: "e", Input: "x"}, time.Second)
	require.ErrorIs(t, err, ErrBadAnswer)
}
