package summarize

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
)

// fakeModel answers perspectives requests (those with a Format) with views
// and every other request with summary.
func fakeModel(views []string, summary string) ollamatest.ChatFunc {
	return ollamatest.Text(func(req *api.ChatRequest) string {
		if req.Format != nil {
			b, _ := json.Marshal(map[string][]string{"perspectives": views})
			return string(b)
		}
		return summary
	})
}

var bootDoc = Document{ID: "boot-1", Title: "Ridge Mid <b>boot</b>", Text: "<p>Waterproof membrane. Vibram sole grips wet rock.</p>"}

func newPerspective(t *testing.T, srv *ollamatest.Server, cfg PerspectiveConfig) *Perspective {
	t.Helper()
	cfg.Client = srv.APIClient()
	if cfg.Model == "" {
		cfg.Model = "summarizer"
	}
	p, err := NewPerspective(cfg)
	require.NoError(t, err)
	return p
}

func TestPerspectiveSummarizes(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: fakeModel([]string{"waterproofing", "sole grip"}, "Summary: A waterproof hiking boot whose Vibram sole grips wet rock.")})
	p := newPerspective(t, srv, PerspectiveConfig{KeepAlive: time.Hour})
	ctx := context.Background()

	s, err := p.Summarize(ctx, "waterproof hiking boots", bootDoc, 12)
	require.NoError(t, err)
	assert.Equal(t, "A waterproof hiking boot whose Vibram sole grips wet rock.", s.Text)
	assert.Equal(t, 2, s.Usage.ModelCalls, "perspectives, then the summary")
	assert.Positive(t, s.Usage.PromptTokens)
	assert.Positive(t, s.Usage.GeneratedTokens)

	calls := srv.Chats()
	require.Len(t, calls, 2)
	views, summary := calls[0].Request, calls[1].Request
	// The perspectives call constrains the answer with a JSON schema.
	var schema map[string]any
	require.NoError(t, json.Unmarshal(views.Format, &schema))
	assert.Equal(t, "object", schema["type"])
	assert.Equal(t, []any{"perspectives"}, schema["required"])
	list := schema["properties"].(map[string]any)["perspectives"].(map[string]any)
	assert.Equal(t, "array", list["type"])
	assert.Equal(t, map[string]any{"type": "string"}, list["items"])
	assert.EqualValues(t, DefaultMaxPerspectives, list["maxItems"])
	assert.Contains(t, views.Messages[0].Content, `"waterproof hiking boots"`)

	assert.Nil(t, summary.Format)
	prompt := summary.Messages[0].Content
	assert.Contains(t, prompt, "waterproofing; sole grip")
	assert.Contains(t, prompt, "Product: Ridge Mid boot\nWaterproof membrane. Vibram sole grips wet rock.", "HTML stripped")
	assert.Contains(t, prompt, "at most 12 words")
	assert.Empty(t, summary.Messages[0].Images, "no picture unless UseImage")
	for _, c := range calls {
		var raw map[string]any
		require.NoError(t, json.Unmarshal(c.Body, &raw))
		assert.Equal(t, false, raw["stream"])
		assert.Equal(t, false, raw["think"])
		assert.Equal(t, "1h0m0s", raw["keep_alive"])
		assert.EqualValues(t, 0, c.Request.Options["temperature"])
	}
	got, usage, err := p.Perspectives(ctx, "waterproof hiking boots")
	require.NoError(t, err)
	assert.Equal(t, []string{"waterproofing", "sole grip"}, got)
	assert.Equal(t, Usage{CacheHits: 1}, usage)
}

func TestPerspectiveCache(t *testing.T) {
	var views atomic.Value
	views.Store([]string{"waterproofing"})
	srv := ollamatest.New(t, ollamatest.Config{Chat: ollamatest.Text(func(req *api.ChatRequest) string {
		if req.Format != nil {
			b, _ := json.Marshal(views.Load())
			return string(b)
		}
		return "A boot."
	})})
	p := newPerspective(t, srv, PerspectiveConfig{CacheSize: 2})
	ctx := context.Background()
	summarize := func(query string, doc Document) Usage {
		s, err := p.Summarize(ctx, query, doc, 20)
		require.NoError(t, err)
		return s.Usage
	}
	u := summarize("boots", bootDoc)
	assert.Equal(t, 2, u.ModelCalls)

	u = summarize("boots", bootDoc)
	assert.Equal(t, Usage{CacheHits: 2}, u, "perspectives and summary both cached")

	changed := bootDoc
	changed.Text += " Now in black."
	u = summarize("boots", changed)
	assert.Equal(t, 1, u.ModelCalls, "new content, new summary")

	views.Store([]string{"price"})
	u = summarize("cheap boots", bootDoc)
	assert.Equal(t, 2, u.ModelCalls, "new perspectives, new summary")

	// The cache holds two summaries: the first one was evicted.
	u = summarize("boots", bootDoc)
	assert.Equal(t, 1, u.ModelCalls)
	assert.Equal(t, 1, u.CacheHits)

	other := newPerspective(t, srv, PerspectiveConfig{Model: "other-model"})
	s, err := other.Summarize(ctx, "boots", bootDoc, 20)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Usage.ModelCalls, "another model has its own cache")
}

func TestPerspectiveConcurrentCallsShareOneModelCall(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Delay: 50 * time.Millisecond, Chat: fakeModel([]string{"fit"}, "A boot.")})
	p := newPerspective(t, srv, PerspectiveConfig{})
	var wg sync.WaitGroup
	var calls, hits atomic.Int32
	for range 16 {
		wg.Go(func() {
			s, err := p.Summarize(context.Background(), "boots", bootDoc, 20)
			assert.NoError(t, err)
			assert.Equal(t, "A boot.", s.Text)
			calls.Add(int32(s.Usage.ModelCalls))
			hits.Add(int32(s.Usage.CacheHits))
		})
	}
	wg.Wait()
	assert.Len(t, srv.Chats(), 2, "one perspectives call and one summary call for sixteen identical requests")
	assert.EqualValues(t, 2, calls.Load())
	assert.EqualValues(t, 30, hits.Load())
}

func TestPerspectiveBudgetAndImage(t *testing.T) {
	long := strings.Repeat("word ", 100)
	srv := ollamatest.New(t, ollamatest.Config{Chat: fakeModel([]string{"fit"}, long)})
	p := newPerspective(t, srv, PerspectiveConfig{UseImage: true})
	doc := bootDoc
	doc.Image = []byte("picture")
	s, err := p.Summarize(context.Background(), "boots", doc, 10)
	require.NoError(t, err)
	assert.Len(t, strings.Fields(s.Text), 10)
	assert.True(t, strings.HasSuffix(s.Text, "…"))
	last := srv.Chats()[1].Request
	assert.Equal(t, []api.ImageData{[]byte("picture")}, last.Messages[0].Images)
	assert.Contains(t, last.Messages[0].Content, "product text and picture")
	assert.EqualValues(t, 10*2+32, last.Options["num_predict"])
}

func TestPerspectiveFaults(t *testing.T) {
	text := func(s string) ollamatest.ChatFunc { return ollamatest.Text(func(*api.ChatRequest) string { return s }) }
	tests := []struct {
		name    string
		cfg     ollamatest.Config
		wantErr error
		wantMsg string
	}{
		{"perspectives not JSON", ollamatest.Config{Chat: text("waterproofing, grip")}, ErrBadModelAnswer, "not a JSON list"},
		{"no perspectives", ollamatest.Config{Chat: text(`{"perspectives": []}`)}, ErrBadModelAnswer, "no perspectives"},
		{"empty summary", ollamatest.Config{Chat: fakeModel([]string{"fit"}, "  ")}, ErrBadModelAnswer, "empty summary"},
		{"model not found", ollamatest.Config{Models: []string{"other"}}, ErrModelNotFound, "ollama pull summarizer"},
		{"500", ollamatest.Config{Chat: func(context.Context, *api.ChatRequest) (api.ChatResponse, error) {
			return api.ChatResponse{}, &ollamatest.Error{Status: 500, Message: "boom"}
		}}, ErrModelUnavailable, "boom"},
		{"slow past the timeout", ollamatest.Config{Delay: 5 * time.Second, Chat: fakeModel([]string{"fit"}, "x")}, ErrModelUnavailable, "within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ollamatest.New(t, tt.cfg)
			p := newPerspective(t, srv, PerspectiveConfig{Timeout: 100 * time.Millisecond})
			start := time.Now()
			_, err := p.Summarize(context.Background(), "boots", bootDoc, 10)
			require.ErrorIs(t, err, tt.wantErr)
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.Less(t, time.Since(start), 2*time.Second)
		})
	}
}

func TestPerspectiveCanceled(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Delay: 5 * time.Second, Chat: fakeModel([]string{"fit"}, "x")})
	p := newPerspective(t, srv, PerspectiveConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	_, err := p.Summarize(ctx, "boots", bootDoc, 10)
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = p.Perspectives(context.Background(), " \n ")
	require.ErrorContains(t, err, "empty query")
}

func TestPerspectiveCaption(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: ollamatest.Text(func(*api.ChatRequest) string {
		return "A tall brown leather boot with a black rubber sole."
	})})
	p := newPerspective(t, srv, PerspectiveConfig{})
	doc := bootDoc
	doc.Image = []byte("picture")
	s, err := p.Caption(context.Background(), doc, 0)
	require.NoError(t, err)
	assert.Equal(t, "A tall brown leather boot with a black rubber sole.", s.Text)
	assert.Equal(t, 1, s.Usage.ModelCalls)
	req := srv.Chats()[0].Request
	assert.Equal(t, []api.ImageData{[]byte("picture")}, req.Messages[0].Images)
	assert.Contains(t, req.Messages[0].Content, `"Ridge Mid boot"`)
	assert.Contains(t, req.Messages[0].Content, fmt.Sprintf("at most %d words", DefaultCaptionWords))

	again, err := p.Caption(context.Background(), doc, 0)
	require.NoError(t, err)
	assert.Equal(t, Usage{CacheHits: 1}, again.Usage)

	_, err = p.Caption(context.Background(), bootDoc, 0)
	require.ErrorIs(t, err, ErrNoImage)
}

func TestNewPerspectiveErrors(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{})
	for _, cfg := range []PerspectiveConfig{
		{Model: "m"},
		{Client: srv.APIClient()},
		{Client: srv.APIClient(), Model: "m", CacheSize: -1},
	} {
		_, err := NewPerspective(cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig)
	}
}

func TestClipInput(t *testing.T) {
	assert.Equal(t, "short", clipInput("short", 10))
	assert.Equal(t, "one two…", clipInput("one two three", 9))
	assert.Equal(t, "abcdefghij…", clipInput("abcdefghijklmnop", 10))
	assert.Equal(t, "é…", clipInput("éé", 3), "never cut inside a rune")
}
