package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
)

// scripted plays the vision model with fixed answers; the example's job is
// the plumbing and the messages, not the model's judgement.
func scripted() ollamatest.ChatFunc {
	judge := ollamatest.YesNo(func(req *api.ChatRequest) float64 {
		if strings.Contains(strings.ToLower(req.Messages[len(req.Messages)-1].Content), "leather") {
			return 0.8
		}
		return 0.3
	})
	text := ollamatest.Text(func(req *api.ChatRequest) string {
		if req.Format != nil {
			return `{"perspectives": ["waterproofing", "style"]}`
		}
		return "A scripted summary."
	})
	return func(ctx context.Context, req *api.ChatRequest) (api.ChatResponse, error) {
		if req.Logprobs {
			return judge(ctx, req)
		}
		return text(ctx, req)
	}
}

func testConfig(host string) config {
	return config{Host: host, Vision: "qwen2.5vl:3b", Query: "waterproof boots", Top: 3, Candidates: 6, Timeout: 5 * time.Second}
}

func TestRunAgainstAServer(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"qwen2.5vl:3b"}, Chat: scripted()})
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, testConfig(srv.URL)))
	text := out.String()
	assert.Contains(t, text, "Alex (classic leather goods)")
	assert.Contains(t, text, "Sam (trail running, ultralight hiking)")
	assert.Contains(t, text, "P(yes) 0.800")
	assert.Contains(t, text, "A scripted summary.")
	assert.Contains(t, text, "model calls")
	assert.NotContains(t, text, "fallback")
}

func TestRunExplainsWhatIsWrong(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := ln.Addr().String()
	require.NoError(t, ln.Close())
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"qwen2.5vl:3b"}, Chat: scripted()})

	tests := []struct {
		name    string
		cfg     func() config
		wantMsg []string
	}{
		{"server down", func() config { return testConfig(refused) }, []string{"cannot reach Ollama at http://" + refused, "ollama serve"}},
		{"vision model missing", func() config { c := testConfig(srv.URL); c.Vision = "llava:7b"; return c }, []string{`"llava:7b" is not on the Ollama server`, "ollama pull llava:7b"}},
		{"embed model missing", func() config { c := testConfig(srv.URL); c.Embed = "nomic-embed-text"; return c }, []string{"ollama pull nomic-embed-text"}},
		{"bad flags", func() config { c := testConfig(srv.URL); c.Top = 0; return c }, []string{"-top"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), &out, tt.cfg())
			require.Error(t, err)
			for _, m := range tt.wantMsg {
				assert.Contains(t, err.Error(), m)
			}
		})
	}
}

func TestRunNotesAModelWithoutVision(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: scripted(), Capabilities: []string{"completion"}})
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, testConfig(srv.URL)))
	assert.Contains(t, out.String(), "does not report the vision capability")
}
