package hmpps

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
	"hmpps/rerank"
	"hmpps/retrieval"
	"hmpps/summarize"
)

// serverUsage is what the fake server did, in the engine's terms: one model
// call per request, the prompt tokens it reported (HashEmbed counts words,
// Text counts PromptTokens) and the tokens it generated (Text's one per four
// characters of the answer, which fakeModel gives captions).
func serverUsage(t *testing.T, embeds []ollamatest.Call[api.EmbedRequest], chats []ollamatest.Call[api.ChatRequest]) retrieval.Usage {
	t.Helper()
	var u retrieval.Usage
	for _, c := range embeds {
		texts, err := ollamatest.EmbedInputs(&c.Request)
		require.NoError(t, err)
		u.ModelCalls++
		for _, s := range texts {
			u.PromptTokens += len(strings.Fields(s))
		}
	}
	const caption = "A product in a single colour."
	for _, c := range chats {
		u.ModelCalls++
		u.PromptTokens += ollamatest.PromptTokens(&c.Request)
		u.GeneratedTokens += max(1, utf8.RuneCountInString(caption)/4)
	}
	return u
}

func TestUsageAtIndexAndSearch(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision", "embed"},
		Chat: fakeModel(), Embed: ollamatest.HashEmbed(32)})
	// The offline reranker and summarizer, so that at search only the query
	// embedding calls the server.
	e, err := New(WithOllama(OllamaConfig{Host: srv.URL, VisionModel: "vision", EmbedModel: "embed", Captions: true}),
		WithReranker(rerank.Preference{}), WithSummarizer(summarize.Extractive{}))
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	ctx := context.Background()

	require.Len(t, srv.Embeds(), 1, "New probes the dimension")
	assert.Equal(t, UsageReport{Index: serverUsage(t, srv.Embeds(), nil)}, e.Usage())

	products := testCatalog()
	products[1].Images = nil // no picture, no caption
	require.NoError(t, e.Upsert(ctx, products...))
	embeds, chats := srv.Embeds(), srv.Chats()
	require.Len(t, chats, len(products)-1, "one caption per picture")
	require.Len(t, embeds, 2, "the probe, then the catalog in one batch")
	index := serverUsage(t, embeds, chats)
	assert.Equal(t, UsageReport{Index: index}, e.Usage(), "captions and embeddings at Upsert are counted exactly")

	resp, err := e.Search(ctx, Request{Query: "waterproof leather boots", HistoryIDs: leatherFan,
		History: []Product{{ID: "adhoc", Title: "Suede chukka boots"}}})
	require.NoError(t, err)
	query := serverUsage(t, srv.Embeds()[2:], nil)
	assert.Equal(t, 2, query.ModelCalls, "the query, then the ad-hoc history")
	assert.Equal(t, query, resp.Usage, "the search's embeddings are in its response")
	assert.Equal(t, UsageReport{Index: index, Search: query}, e.Usage())

	// A failed batch still cost its calls.
	before := len(srv.Embeds())
	bad := testCatalog()[0]
	bad.ID = "bad"
	bad.ImageVector = []float32{1} // refused after the text was embedded
	require.Error(t, e.Upsert(ctx, bad))
	require.Len(t, srv.Embeds(), before+1)
	index = index.Add(serverUsage(t, srv.Embeds()[before:], srv.Chats()[len(chats):]))
	assert.Equal(t, UsageReport{Index: index, Search: query}, e.Usage())
}

func TestUsageOfModelSearch(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: fakeModel()})
	e := ollamaEngine(t, srv, OllamaConfig{})
	ctx := context.Background()
	require.NoError(t, e.Upsert(ctx, testCatalog()...))
	assert.Equal(t, UsageReport{}, e.Usage(), "offline indexing calls no model")

	var total retrieval.Usage
	for _, q := range []string{"waterproof boots", "leather boots"} {
		resp, err := e.Search(ctx, Request{Query: q, HistoryIDs: leatherFan, TopN: 3})
		require.NoError(t, err)
		require.Positive(t, resp.Usage.ModelCalls)
		total = total.Add(resp.Usage)
	}
	assert.Equal(t, UsageReport{Search: total}, e.Usage(), "the engine adds up every response's usage")
	assert.Equal(t, len(srv.Chats()), e.Usage().Search.ModelCalls)
}
