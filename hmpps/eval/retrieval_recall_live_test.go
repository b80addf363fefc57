package eval

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/ollamacall"
	"hmpps/internal/ollamalive"
	"hmpps/retrieval"
)

// memoEmbedder remembers the vectors of an embedder by text, so that the
// engines of every retrieval mode and depth embed the catalog once. The
// vectors are the inner embedder's, unchanged.
type memoEmbedder struct {
	inner retrieval.Embedder
	mu    sync.Mutex
	vecs  map[string][]float32
}

func (m *memoEmbedder) Dimension() int { return m.inner.Dimension() }

func (m *memoEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	m.mu.Lock()
	var missing []string
	for _, t := range texts {
		if _, ok := m.vecs[t]; !ok {
			missing = append(missing, t)
		}
	}
	m.mu.Unlock()
	if len(missing) > 0 {
		vecs, err := m.inner.Embed(ctx, missing)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		for i, t := range missing {
			m.vecs[t] = vecs[i]
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = m.vecs[t]
	}
	return out, nil
}

// catalogRecall is the share of tasks whose target is among the k
// candidates an engine with opts finds in catalog for the task's query.
func catalogRecall(t *testing.T, catalog []hmpps.Product, tasks []Task, k int, opts ...hmpps.Option) float64 {
	t.Helper()
	ctx := context.Background()
	e, err := hmpps.New(append([]hmpps.Option{hmpps.WithRetrieveK(k), hmpps.WithSummarizer(nil)}, opts...)...)
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, e.Upsert(ctx, catalog...))
	found := 0
	for _, task := range tasks {
		resp, err := e.Search(ctx, hmpps.Request{Query: task.Query, TopN: k})
		require.NoError(t, err)
		for _, r := range resp.Results {
			if r.ID == task.Target {
				found++
				break
			}
		}
	}
	return float64(found) / float64(len(tasks))
}

// TestRealEmbedderRetrievalRecallLive measures how often the purchased
// product is among the k candidates retrieved from the whole Magazine
// catalog (2,320 products, not only the 157 the reviews name) for the
// purchase's query, by vector, lexical and hybrid retrieval, with the
// offline hashing embedder and with the real embedding model
// (HMPPS_OLLAMA_EMBED_MODEL, as scripts/ollama.sh runs it). Validation
// tasks only: the test split stays unread.
//
//	scripts/ollama.sh run go test -count=1 -v -run RealEmbedderRetrievalRecallLive ./hmpps/eval/
func TestRealEmbedderRetrievalRecallLive(t *testing.T) {
	env := ollamalive.RequireEmbed(t)
	d := loadMagazine(t)
	catalog, err := LoadAmazonCatalog(context.Background(), amazonDir(t))
	require.NoError(t, err)
	s, err := BuildSplit(d, SplitConfig{Seed: 1})
	require.NoError(t, err)
	tasks := s.Tasks(Validation)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	model, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: ollamacall.NewClient(env.Host, nil),
		Model: env.EmbedModel, Timeout: 10 * time.Minute})
	require.NoError(t, err)
	embedders := []struct {
		name string
		opt  hmpps.Option
	}{
		{"hashing", nil},
		{env.EmbedModel, hmpps.WithTextEmbedder(&memoEmbedder{inner: model, vecs: make(map[string][]float32)})},
	}
	modes := []hmpps.Retrieval{hmpps.RetrieveVector, hmpps.RetrieveLexical, hmpps.RetrieveHybrid}
	var table strings.Builder
	fmt.Fprintf(&table, "recall@k of the purchased product, %d validation targets, whole catalog of %d products\n", len(tasks), len(catalog))
	for _, emb := range embedders {
		for _, k := range []int{10, 100} {
			fmt.Fprintf(&table, "%-24s k=%3d", emb.name, k)
			for _, m := range modes {
				opts := []hmpps.Option{hmpps.WithRetrieval(m)}
				if emb.opt != nil {
					opts = append(opts, emb.opt)
				}
				fmt.Fprintf(&table, "  %s %.3f", m, catalogRecall(t, catalog, tasks, k, opts...))
			}
			table.WriteString("\n")
		}
	}
	t.Log(table.String())
}
