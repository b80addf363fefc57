package ollamatest

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/types/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChatStreamedAndNot(t *testing.T) {
	srv := New(t, Config{Chat: Text(func(*api.ChatRequest) string { return "hello" })})
	c := srv.APIClient()
	for _, stream := range []*bool{nil, new(bool)} {
		var chunks []api.ChatResponse
		err := c.Chat(context.Background(), &api.ChatRequest{Model: "m", Stream: stream,
			Messages: []api.Message{{Role: "user", Content: "hi"}}}, func(r api.ChatResponse) error {
			chunks = append(chunks, r)
			return nil
		})
		require.NoError(t, err)
		if stream == nil {
			require.Len(t, chunks, 2, "streamed: content, then the final chunk")
			assert.Equal(t, "hello", chunks[0].Message.Content)
			assert.False(t, chunks[0].Done)
			assert.True(t, chunks[1].Done)
		} else {
			require.Len(t, chunks, 1, "not streamed: one object")
			assert.Equal(t, "hello", chunks[0].Message.Content)
			assert.True(t, chunks[0].Done)
			assert.Positive(t, chunks[0].PromptEvalCount)
		}
	}
	calls := srv.Chats()
	require.Len(t, calls, 2)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(calls[1].Body, &raw))
	assert.Equal(t, false, raw["stream"])
}

func TestUnknownModel(t *testing.T) {
	srv := New(t, Config{Models: []string{"known"}, Chat: Text(func(*api.ChatRequest) string { return "x" })})
	c := srv.APIClient()
	err := c.Chat(context.Background(), &api.ChatRequest{Model: "known:latest"}, func(api.ChatResponse) error { return nil })
	require.NoError(t, err, "name and name:latest are one model")
	err = c.Chat(context.Background(), &api.ChatRequest{Model: "other"}, func(api.ChatResponse) error { return nil })
	var serr api.StatusError
	require.ErrorAs(t, err, &serr)
	assert.Equal(t, 404, serr.StatusCode)
	_, err = c.Show(context.Background(), &api.ShowRequest{Model: "other"})
	require.ErrorAs(t, err, &serr)
	assert.Equal(t, 404, serr.StatusCode)
	show, err := c.Show(context.Background(), &api.ShowRequest{Model: "known"})
	require.NoError(t, err)
	assert.Contains(t, show.Capabilities, model.Capability("vision"))
	require.NoError(t, c.Heartbeat(context.Background()))
}

func TestYesNoLogprobs(t *testing.T) {
	tests := []struct {
		p      float64
		top    int
		chosen string
	}{{0.8, 20, "Yes"}, {0.3, 20, "No"}, {1, 20, "Yes"}, {0, 20, "No"}, {0.5, 2, "Yes"}, {0.9, 0, "Yes"}}
	for _, tt := range tests {
		lp := YesNoLogprob(tt.p, tt.chosen, tt.top)
		assert.Equal(t, tt.chosen, lp.Token)
		assert.LessOrEqual(t, len(lp.TopLogprobs), tt.top)
		if tt.top < 8 {
			continue
		}
		var yes, no float64
		for _, alt := range lp.TopLogprobs {
			require.False(t, math.IsInf(alt.Logprob, 0) || math.IsNaN(alt.Logprob))
			switch alt.Token {
			case "Yes", "yes", " Yes":
				yes += math.Exp(alt.Logprob)
			case "No", "no", " NO":
				no += math.Exp(alt.Logprob)
			}
		}
		assert.InDelta(t, tt.p, yes/(yes+no), 1e-9, "p=%v", tt.p)
	}
}

func TestHashEmbed(t *testing.T) {
	srv := New(t, Config{Embed: HashEmbed(8)})
	resp, err := srv.APIClient().Embed(context.Background(), &api.EmbedRequest{Model: "e", Input: []string{"a b", "a b", ""}})
	require.NoError(t, err)
	require.Len(t, resp.Embeddings, 3)
	assert.Equal(t, resp.Embeddings[0], resp.Embeddings[1])
	assert.Len(t, resp.Embeddings[2], 8)
	require.Len(t, srv.Embeds(), 1)
}
