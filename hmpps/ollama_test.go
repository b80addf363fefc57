package hmpps

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
	"hmpps/rerank"
	"hmpps/retrieval"
	"hmpps/summarize"
)

// largePNG is a w×h picture of one colour: large enough that the engine
// must downscale it for the vision model.
func largePNG(t testing.TB, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// bigPictureCatalog is testCatalog with 600×400 pictures.
func bigPictureCatalog(t testing.TB) []Product {
	products := testCatalog()
	for i := range products {
		c := grey
		switch {
		case strings.Contains(products[i].Description, "leather"):
			c = brown
		case strings.Contains(products[i].Description, "ynthetic"):
			c = neon
		}
		products[i].Images = []Image{{Data: largePNG(t, 600, 400, c)}}
	}
	return products
}

var (
	productLine   = regexp.MustCompile(`Product: (.*)\n`)
	candidateLine = regexp.MustCompile(`^Candidate product: \[picture \d+\] (.+?) \(.+?\)\. Model summary of (.+?)\.\n`)
)

// fakeModel plays the three roles of a vision model for the engine: the
// perspectives (requests with a Format), the yes/no judge (requests asking
// for logprobs: leather candidates 0.9, others 0.2) and the summaries and
// captions (anything else).
func fakeModel() ollamatest.ChatFunc {
	judge := ollamatest.YesNo(func(req *api.ChatRequest) float64 {
		if strings.Contains(strings.ToLower(req.Messages[len(req.Messages)-1].Content), "leather") {
			return 0.9
		}
		return 0.2
	})
	return func(ctx context.Context, req *api.ChatRequest) (api.ChatResponse, error) {
		switch {
		case req.Format != nil:
			return ollamatest.Text(func(*api.ChatRequest) string {
				return `{"perspectives": ["waterproofing", "material", "style"]}`
			})(ctx, req)
		case req.Logprobs:
			return judge(ctx, req)
		}
		return ollamatest.Text(func(req *api.ChatRequest) string {
			if m := productLine.FindStringSubmatch(req.Messages[0].Content); m != nil {
				return "Model summary of " + m[1] + "."
			}
			return "A product in a single colour."
		})(ctx, req)
	}
}

func ollamaEngine(t *testing.T, srv *ollamatest.Server, cfg OllamaConfig, opts ...Option) *Engine {
	t.Helper()
	cfg.Host = srv.URL
	if cfg.VisionModel == "" {
		cfg.VisionModel = "vision"
	}
	e, err := New(append([]Option{WithOllama(cfg)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

func TestOllamaSearch(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: fakeModel()})
	e := ollamaEngine(t, srv, OllamaConfig{})
	ctx := context.Background()
	require.NoError(t, e.Upsert(ctx, bigPictureCatalog(t)...))

	resp, err := e.Search(ctx, Request{Query: "waterproof boots", HistoryIDs: leatherFan, ExcludeHistory: true, TopN: 4})
	require.NoError(t, err)
	assert.False(t, resp.Degraded)
	require.NotEmpty(t, resp.History)
	require.Len(t, resp.Results, 4)
	// The model's judgement decides: leather candidates (0.9) first.
	for i, r := range resp.Results {
		want := 0.2
		if strings.Contains(strings.ToLower(r.Summary+r.Product.Title), "leather") {
			want = 0.9
		}
		assert.InDelta(t, want, r.Score, 1e-9, r.ID)
		assert.Equal(t, "Model summary of "+r.Product.Title+".", r.Summary)
		if i > 0 {
			assert.LessOrEqual(t, r.Score, resp.Results[i-1].Score)
		}
	}
	assert.Equal(t, []string{"boot-leather-1", "boot-leather-2"}, ids(resp.Results[:2]))

	// Every model call is counted: one perspectives call, one summary per
	// kept history item and candidate, one judgement per candidate.
	n := resp.Candidates
	assert.Equal(t, 1+len(resp.History)+n+n, resp.Usage.ModelCalls)
	assert.Len(t, srv.Chats(), resp.Usage.ModelCalls)
	assert.Positive(t, resp.Usage.PromptTokens)
	assert.Equal(t, len(resp.History)+n-1, resp.Usage.CacheHits,
		"every summary but the first reused the one perspectives call")

	var judged []api.ChatRequest
	for _, c := range srv.Chats() {
		if c.Request.Logprobs {
			judged = append(judged, c.Request)
		}
	}
	require.Len(t, judged, n)
	for _, r := range judged {
		assert.Equal(t, judged[0].Messages[:2], r.Messages[:2], "the shared prefix is identical")
		images := ollamatest.Images(&r)
		require.Len(t, images, len(resp.History)+1, "a picture for each kept history item and the candidate")
		for _, im := range images {
			cfg, format, err := image.DecodeConfig(bytes.NewReader(im))
			require.NoError(t, err)
			assert.Equal(t, "jpeg", format)
			assert.Equal(t, DefaultImageMaxSide, max(cfg.Width, cfg.Height), "downscaled from 600×400")
		}
		// The candidate's text leads with its header (title, brand,
		// category), then its summary.
		m := candidateLine.FindStringSubmatch(r.Messages[2].Content)
		require.NotNil(t, m, r.Messages[2].Content)
		assert.Equal(t, m[1], m[2])
	}

	// A second search reuses the perspectives, summaries and pictures.
	before := len(srv.Chats())
	again, err := e.Search(ctx, Request{Query: "waterproof boots", HistoryIDs: leatherFan, ExcludeHistory: true, TopN: 4})
	require.NoError(t, err)
	assert.Equal(t, ids(resp.Results), ids(again.Results))
	assert.Equal(t, n, again.Usage.ModelCalls, "only the judgements are made again")
	assert.Equal(t, before+n, len(srv.Chats()))
}

func TestOllamaFallsBackWhenTheServerFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := ln.Addr().String()
	require.NoError(t, ln.Close())
	tests := []struct {
		name    string
		host    string
		wantMsg string
	}{
		{"connection refused", refused, "connection refused"},
	}
	offline := newTestEngine(t)
	want, err := offline.Search(context.Background(), Request{Query: "waterproof boots", HistoryIDs: leatherFan, TopN: 5})
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(WithOllama(OllamaConfig{Host: tt.host, VisionModel: "vision", Timeout: 2 * time.Second}))
			require.NoError(t, err)
			t.Cleanup(func() { e.Close() })
			require.NoError(t, e.Upsert(context.Background(), testCatalog()...))
			resp, err := e.Search(context.Background(), Request{Query: "waterproof boots", HistoryIDs: leatherFan, TopN: 5})
			require.NoError(t, err, "a failing model never fails the search")
			assert.True(t, resp.Degraded)
			assert.Equal(t, ids(want.Results), ids(resp.Results), "the offline ranking")
			for i, r := range resp.Results {
				assert.True(t, r.Degraded)
				assert.Contains(t, r.DegradedReason, tt.wantMsg)
				assert.Contains(t, r.DegradedReason, "summarize: ")
				assert.Contains(t, r.DegradedReason, "rerank: ")
				assert.Equal(t, want.Results[i].Summary, r.Summary, "the extractive summary")
				assert.InDelta(t, want.Results[i].Score, r.Score, 1e-9, "the preference score")
			}
		})
	}
}

// A model the server does not have is a configuration error: Search
// returns it, wrapping the sentinel, instead of a degraded search that hides
// it; the catalog is untouched and the offline engine is unaffected.
func TestOllamaMissingModelFailsTheSearch(t *testing.T) {
	missing := ollamatest.New(t, ollamatest.Config{Models: []string{"another"}})
	tests := []struct {
		name string
		cfg  OllamaConfig
		want string
	}{
		{"reranker and summarizer", OllamaConfig{VisionModel: "vision"}, "hmpps: summarize: "},
		{"reranker", OllamaConfig{VisionModel: "vision", SummarizerModel: "another"}, "hmpps: rerank: "},
		{"summarizer", OllamaConfig{VisionModel: "another", SummarizerModel: "vision"}, "hmpps: summarize: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Host = missing.URL
			tt.cfg.Timeout = 2 * time.Second
			e, err := New(WithOllama(tt.cfg))
			require.NoError(t, err)
			t.Cleanup(func() { e.Close() })
			require.NoError(t, e.Upsert(context.Background(), testCatalog()...))
			resp, err := e.Search(context.Background(), Request{Query: "waterproof boots", HistoryIDs: leatherFan, TopN: 5})
			require.ErrorIs(t, err, rerank.ErrModelNotFound)
			require.ErrorIs(t, err, summarize.ErrModelNotFound, "one sentinel for every stage")
			assert.Nil(t, resp)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "ollama pull vision")
			assert.Equal(t, len(testCatalog()), e.Len(), "nothing lost")
		})
	}
}

// A reranking model without vision gets no pictures, and the response says
// so instead of leaving it silent.
func TestOllamaTextOnlyModelIsNoted(t *testing.T) {
	tests := []struct {
		name      string
		caps      []string
		wantNotes bool
	}{
		{"vision model", []string{"completion", "vision"}, false},
		{"text-only model", []string{"completion"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: fakeModel(), Capabilities: tt.caps})
			e := ollamaEngine(t, srv, OllamaConfig{})
			require.NoError(t, e.Upsert(context.Background(), testCatalog()...))
			resp, err := e.Search(context.Background(), Request{Query: "waterproof boots", HistoryIDs: leatherFan, TopN: 3})
			require.NoError(t, err)
			assert.False(t, resp.Degraded)
			if !tt.wantNotes {
				assert.Empty(t, resp.Notes)
				return
			}
			require.Len(t, resp.Notes, 1)
			assert.Contains(t, resp.Notes[0], "has no vision")
			judged := 0
			for _, c := range srv.Chats() {
				if c.Request.Format != nil {
					continue // the perspectives
				}
				judged++
				for _, m := range c.Request.Messages {
					if strings.Contains(m.Content, "Search query:") || strings.Contains(m.Content, "Candidate") {
						assert.Empty(t, m.Images, "no pictures for a model without vision")
					}
				}
			}
			assert.Positive(t, judged)
		})
	}
}

func TestOllamaPictures(t *testing.T) {
	var fetches atomic.Int32
	pictures := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if r.URL.Path == "/broken.jpg" {
			w.Write([]byte("this is not a JPEG"))
			return
		}
		w.Write(largePNG(t, 500, 500, brown))
	}))
	t.Cleanup(pictures.Close)
	srv := ollamatest.New(t, ollamatest.Config{Chat: fakeModel()})
	catalog := func() []Product {
		products := testCatalog()
		for i := range products {
			switch products[i].ID {
			case "boot-leather-1":
				products[i].Images = []Image{{URI: pictures.URL + "/broken.jpg"}}
			case "boot-leather-2":
				products[i].Images = []Image{{URI: pictures.URL + "/good.png"}}
			}
		}
		return products
	}
	ctx := context.Background()
	req := Request{Query: "waterproof boots", CandidateIDs: []string{"boot-leather-1", "boot-leather-2", "boot-trail-1"}}

	t.Run("fetched with the caller's client", func(t *testing.T) {
		e := ollamaEngine(t, srv, OllamaConfig{ImageHTTPClient: pictures.Client(), ImageMaxSide: 64})
		require.NoError(t, e.Upsert(ctx, catalog()...))
		for range 2 {
			resp, err := e.Search(ctx, req)
			require.NoError(t, err)
			byID := map[string]Result{}
			for _, r := range resp.Results {
				byID[r.ID] = r
			}
			broken := byID["boot-leather-1"]
			assert.True(t, broken.Degraded)
			assert.Contains(t, broken.DegradedReason, "image: ")
			assert.InDelta(t, 0.9, broken.Score, 1e-9, "still judged by the model, on its text")
			assert.False(t, byID["boot-leather-2"].Degraded)
			assert.False(t, byID["boot-trail-1"].Degraded)
		}
		assert.EqualValues(t, 2, fetches.Load(), "each picture fetched once, then cached")
		var withPicture int
		for _, c := range srv.Chats() {
			if c.Request.Logprobs && strings.Contains(c.Request.Messages[len(c.Request.Messages)-1].Content, "Classic Leather") {
				assert.Empty(t, ollamatest.Images(&c.Request), "the broken picture is not sent")
			}
			for _, im := range ollamatest.Images(&c.Request) {
				cfg, _, err := image.DecodeConfig(bytes.NewReader(im))
				require.NoError(t, err)
				assert.LessOrEqual(t, max(cfg.Width, cfg.Height), 64)
				if cfg.Width == 64 {
					withPicture++ // the fetched 500×500 one
				}
			}
		}
		assert.Positive(t, withPicture)
	})

	t.Run("not fetched without a client", func(t *testing.T) {
		fetches.Store(0)
		e := ollamaEngine(t, srv, OllamaConfig{})
		require.NoError(t, e.Upsert(ctx, catalog()...))
		resp, err := e.Search(ctx, req)
		require.NoError(t, err)
		for _, r := range resp.Results {
			assert.False(t, r.Degraded, "%s: a picture not fetched by choice is not a failure", r.ID)
		}
		assert.Zero(t, fetches.Load())
	})
}

func TestOllamaEmbedder(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision", "embed"}, Chat: fakeModel(), Embed: ollamatest.HashEmbed(32)})
	e := ollamaEngine(t, srv, OllamaConfig{EmbedModel: "embed"})
	require.NoError(t, e.Upsert(context.Background(), testCatalog()...))
	assert.Equal(t, 32, e.cfg.textEmbedder.Dimension(), "probed from the server")
	resp, err := e.Search(context.Background(), Request{Query: "waterproof boots", HistoryIDs: leatherFan, TopN: 3})
	require.NoError(t, err)
	assert.Len(t, resp.Results, 3)
	assert.GreaterOrEqual(t, len(srv.Embeds()), 3, "probe, catalog, query")

	_, err = New(WithOllama(OllamaConfig{Host: srv.URL, EmbedModel: "absent"}))
	require.ErrorIs(t, err, retrieval.ErrModelNotFound)
	assert.Contains(t, err.Error(), "ollama pull absent")
}

func TestOllamaCaptions(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: fakeModel()})
	e := ollamaEngine(t, srv, OllamaConfig{Captions: true, CaptionWords: 8})
	ctx := context.Background()
	products := testCatalog()
	products[0].Caption = "Given by the caller."
	products[1].Images = nil
	require.NoError(t, e.Upsert(ctx, products...))
	assert.Empty(t, products[2].Caption, "the caller's products are not modified")

	p0, err := e.Get(ctx, products[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "Given by the caller.", p0.Caption)
	p1, err := e.Get(ctx, products[1].ID)
	require.NoError(t, err)
	assert.Empty(t, p1.Caption, "no picture, no caption")
	p2, err := e.Get(ctx, products[2].ID)
	require.NoError(t, err)
	assert.Equal(t, "A product in a single colour.", p2.Caption)
	assert.Contains(t, e.products[products[2].ID].text(), "Picture: A product in a single colour.", "the caption is embedded")

	captions := 0
	for _, c := range srv.Chats() {
		if len(ollamatest.Images(&c.Request)) == 1 && strings.Contains(c.Request.Messages[0].Content, "at most 8 words") {
			captions++
		}
	}
	assert.Equal(t, len(products)-2, captions)

	// The summarizer reads the caption too.
	_, err = e.Search(ctx, Request{Query: "waterproof boots", CandidateIDs: []string{products[2].ID}})
	require.NoError(t, err)
	last := srv.Chats()[len(srv.Chats())-2].Request // the summary, before the judgement
	assert.Contains(t, last.Messages[0].Content, "Picture: A product in a single colour.")

	missing := ollamatest.New(t, ollamatest.Config{Models: []string{"other"}})
	e2, err := New(WithOllama(OllamaConfig{Host: missing.URL, VisionModel: "vision", Captions: true}))
	require.NoError(t, err)
	t.Cleanup(func() { e2.Close() })
	err = e2.Upsert(ctx, testCatalog()...)
	require.ErrorIs(t, err, retrieval.ErrModelNotFound)
	assert.Zero(t, e2.Len(), "the batch is all or nothing")
}

func TestOllamaCanceledSearch(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Delay: 10 * time.Second, Chat: fakeModel()})
	e := ollamaEngine(t, srv, OllamaConfig{})
	require.NoError(t, e.Upsert(context.Background(), testCatalog()...))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := e.Search(ctx, Request{Query: "waterproof boots", HistoryIDs: leatherFan})
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestWithOllamaConfiguration(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: fakeModel()})
	broken := rerank.PromptTemplate{Candidate: "{{.Nope"}
	tests := []struct {
		name    string
		cfg     OllamaConfig
		wantMsg string
	}{
		{"no model", OllamaConfig{Host: srv.URL}, "names no model"},
		{"captions without a vision model", OllamaConfig{Host: srv.URL, SummarizerModel: "s", Captions: true}, "captions need a VisionModel"},
		{"negative", OllamaConfig{Host: srv.URL, VisionModel: "v", Timeout: -1}, "must not be negative"},
		{"negative embed concurrency", OllamaConfig{Host: srv.URL, EmbedModel: "e", EmbedConcurrency: -1}, "must not be negative"},
		{"broken template", OllamaConfig{Host: srv.URL, VisionModel: "v", PromptTemplate: &broken}, "prompt template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(WithOllama(tt.cfg))
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}

	// Explicit options win over the stages WithOllama would build, in any
	// order.
	e, err := New(WithReranker(rerank.Preference{}), WithOllama(OllamaConfig{Host: srv.URL, VisionModel: "v"}), WithSummarizer(summarize.Extractive{}))
	require.NoError(t, err)
	defer e.Close()
	assert.IsType(t, rerank.Preference{}, e.cfg.reranker)
	assert.IsType(t, summarize.Extractive{}, e.cfg.summarizer)

	// A summarizer model alone leaves the reranker offline.
	e2, err := New(WithOllama(OllamaConfig{Host: srv.URL, SummarizerModel: "s", Concurrency: 3}))
	require.NoError(t, err)
	defer e2.Close()
	assert.IsType(t, rerank.Preference{}, e2.cfg.reranker)
	assert.IsType(t, &summarize.Perspective{}, e2.cfg.summarizer)
	assert.Equal(t, 3, e2.cfg.concurrency)
	m, ok := func() (rerank.MLLM, bool) {
		e3, err := New(WithOllama(OllamaConfig{Host: srv.URL, VisionModel: "v", KeepAlive: time.Hour}))
		require.NoError(t, err)
		defer e3.Close()
		m, ok := e3.cfg.reranker.(rerank.MLLM)
		return m, ok
	}()
	require.True(t, ok)
	assert.Equal(t, "v", m.Model)
	assert.Equal(t, time.Hour, m.KeepAlive)
}

// TestOllamaWithModel checks how a trained model and a model reranker
// combine: the learned score picks the candidates the model judges, and
// when the server fails the results fall back to the learned ranking, not
// to the untrained preference reranker.
// TestOllamaSummarizesWhatIsRead checks that with RerankCandidates the
// model summarizes only what it reads, the kept history and the candidates
// it judges, and then the results it did not judge: not every candidate.
func TestOllamaSummarizesWhatIsRead(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: fakeModel()})
	e := ollamaEngine(t, srv, OllamaConfig{RerankCandidates: 3})
	ctx := context.Background()
	require.NoError(t, e.Upsert(ctx, testCatalog()...))
	resp, err := e.Search(ctx, Request{Query: "waterproof boots", HistoryIDs: leatherFan, ExcludeHistory: true, TopN: 5})
	require.NoError(t, err)
	assert.False(t, resp.Degraded)
	require.NotEmpty(t, resp.History)
	require.Len(t, resp.Results, 5)
	require.Greater(t, resp.Candidates, 5, "more candidates than results, more results than judged")

	var perspectives, judgements int
	summarized := map[string]int{}
	for _, c := range srv.Chats() {
		switch r := c.Request; {
		case r.Format != nil:
			perspectives++
		case r.Logprobs:
			judgements++
			// A judged candidate comes with its summary.
			m := candidateLine.FindStringSubmatch(r.Messages[len(r.Messages)-1].Content)
			require.NotNil(t, m, r.Messages[len(r.Messages)-1].Content)
		default:
			m := productLine.FindStringSubmatch(r.Messages[0].Content)
			require.NotNil(t, m)
			summarized[m[1]]++
		}
	}
	assert.Equal(t, 1, perspectives)
	assert.Equal(t, 3, judgements)
	// The kept history, the three judged candidates (the best three
	// results) and the two results below them.
	assert.Len(t, summarized, len(resp.History)+5)
	for _, n := range summarized {
		assert.Equal(t, 1, n, "each product is summarized once")
	}
	for _, r := range resp.Results {
		assert.Equal(t, "Model summary of "+r.Product.Title+".", r.Summary, r.ID)
	}
	assert.Equal(t, 1+len(resp.History)+5+3, resp.Usage.ModelCalls)
}

func TestOllamaWithModel(t *testing.T) {
	ctx := context.Background()
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 10})
	req := Request{Query: "waterproof boots", HistoryIDs: trailFan, TopN: 6}
	learned, err := newTestEngine(t, WithModel(m)).Search(ctx, req)
	require.NoError(t, err)

	t.Run("the learned top is judged", func(t *testing.T) {
		srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: fakeModel()})
		e := ollamaEngine(t, srv, OllamaConfig{RerankCandidates: 2}, WithModel(m))
		require.NoError(t, e.Upsert(ctx, testCatalog()...))
		resp, err := e.Search(ctx, req)
		require.NoError(t, err)
		judged := ids(resp.Results[:2])
		assert.ElementsMatch(t, ids(learned.Results[:2]), judged, "the learned score's best two")
		assert.Equal(t, ids(learned.Results[2:]), ids(resp.Results[2:]), "the rest in the learned order")
	})

	t.Run("a failing server falls back to the learned ranking", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		refused := ln.Addr().String()
		require.NoError(t, ln.Close())
		e, err := New(WithOllama(OllamaConfig{Host: refused, VisionModel: "vision", Timeout: 2 * time.Second}), WithModel(m))
		require.NoError(t, err)
		t.Cleanup(func() { e.Close() })
		require.NoError(t, e.Upsert(ctx, testCatalog()...))
		resp, err := e.Search(ctx, req)
		require.NoError(t, err)
		assert.True(t, resp.Degraded)
		assert.Equal(t, ids(learned.Results), ids(resp.Results))
		for i, r := range resp.Results {
			assert.Equal(t, learned.Results[i].Score, r.Score)
			assert.Contains(t, r.DegradedReason, "rerank: ")
		}
	})
}
