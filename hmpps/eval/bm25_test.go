package eval

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/tokenize"
)

// okapiBM25 is Okapi BM25 over productText written out the textbook way,
// as the baseline computed it before it moved onto lexical.Index: the
// reference that keeps the baseline's numbers what they were.
func okapiBM25(products []hmpps.Product) func(query string, ids []string) []float64 {
	const k1, b = 1.2, 0.75
	tfs := make(map[string]map[string]int, len(products))
	lens := make(map[string]int, len(products))
	df := make(map[string]int)
	var total int
	for _, p := range products {
		words := tokenize.Words(productText(p))
		tf := make(map[string]int)
		for _, w := range words {
			if tf[w] == 0 {
				df[w]++
			}
			tf[w]++
		}
		tfs[p.ID], lens[p.ID] = tf, len(words)
		total += len(words)
	}
	n := float64(len(products))
	avg := math.Max(float64(total)/n, 1)
	return func(query string, ids []string) []float64 {
		scores := make([]float64, len(ids))
		for i, id := range ids {
			tf, ok := tfs[id]
			if !ok {
				continue
			}
			norm := k1 * (1 - b + b*float64(lens[id])/avg)
			for _, w := range tokenize.Words(query) {
				if f := float64(tf[w]); f > 0 {
					idf := math.Log(1 + (n-float64(df[w])+0.5)/(float64(df[w])+0.5))
					scores[i] += idf * f * (k1 + 1) / (f + norm)
				}
			}
		}
		return scores
	}
}

// TestBM25Params checks the constant NewBM25 builds its index with.
func TestBM25Params(t *testing.T) {
	require.NoError(t, bm25Params.Validate())
}

func TestBM25MatchesOkapi(t *testing.T) {
	products := tinyDataset().Products
	b, okapi := NewBM25(products), okapiBM25(products)
	for _, query := range []string{"dept shelf 1 product", "b", "store store", "nothing here", ""} {
		ids := []string{"a0", "a1", "b3", "c9", "x", "unknown"}
		s, err := b.Score(context.Background(), Task{Query: query, Candidates: ids})
		require.NoError(t, err)
		want := okapi(query, ids)
		for i := range want {
			assert.InDelta(t, want[i], s.Scores[i], 1e-12, "%q, %s", query, ids[i])
		}
	}
}

// TestBM25MatchesOkapiOnTheData checks, task by task of both candidate
// modes, that the baseline ranks every target where textbook BM25 does:
// the eval's bm25 rows did not move when the baseline became the engine's
// lexical scorer.
func TestBM25MatchesOkapiOnTheData(t *testing.T) {
	d := loadMagazine(t)
	b, okapi := NewBM25(d.Products), okapiBM25(d.Products)
	for _, mode := range []CandidateMode{RandomNegatives, HardNegatives} {
		s, err := BuildSplit(d, SplitConfig{Mode: mode, Seed: 1})
		require.NoError(t, err)
		for _, part := range []Part{Validation, Test} {
			for _, task := range s.Tasks(part) {
				got, err := b.Score(context.Background(), task)
				require.NoError(t, err)
				want := okapi(task.Query, task.Candidates)
				target := -1
				for i, id := range task.Candidates {
					require.InDelta(t, want[i], got.Scores[i], 1e-9*math.Max(1, want[i]))
					if id == task.Target {
						target = i
					}
				}
				wantRank, err := Rank(want, target)
				require.NoError(t, err)
				gotRank, err := Rank(got.Scores, target)
				require.NoError(t, err)
				require.Equal(t, wantRank, gotRank, "%s %s user %s", mode, part, task.User)
			}
		}
	}
}

// TestBM25AgreesWithTheEngine is the no-drift check: an engine given the
// baseline's parameters scores each candidate's text (Result.LexicalScore)
// exactly as the baseline does. The text is all in the description, the
// one field both read the same way.
func TestBM25AgreesWithTheEngine(t *testing.T) {
	ctx := context.Background()
	var products []hmpps.Product
	for _, p := range tinyDataset().Products {
		products = append(products, hmpps.Product{ID: p.ID, Description: productText(p)})
	}
	e, err := hmpps.New(hmpps.WithLexical(bm25Params))
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, e.Upsert(ctx, products...))
	b := NewBM25(products)
	ids := []string{"a0", "a1", "b3", "c9", "x"}
	for _, query := range []string{"dept shelf 1 product", "b", "store store"} {
		resp, err := e.Search(ctx, hmpps.Request{Query: query, CandidateIDs: ids, TopN: len(ids)})
		require.NoError(t, err)
		s, err := b.Score(ctx, Task{Query: query, Candidates: ids})
		require.NoError(t, err)
		want := make(map[string]float64)
		for i, id := range ids {
			want[id] = s.Scores[i]
		}
		require.Len(t, resp.Results, len(ids))
		for _, r := range resp.Results {
			assert.Equal(t, want[r.ID], r.LexicalScore, "%q, %s", query, r.ID)
		}
	}
}
