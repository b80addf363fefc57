package promptsize_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/democatalog"
	"hmpps/internal/promptsize"
	"hmpps/internal/tokenize"
	"hmpps/rerank"
	"hmpps/retrieval"
	"hmpps/summarize"
)

// The figures: the reranker's prompt per candidate, rendered by the
// reranker's own template (rerank.MLLM.Prompt), with and without stage one's
// history filter and with and without summaries. Rerun with
//
//	go test ./internal/promptsize -run Figures -v
//
// "Summaries" are the engine's offline extractive summaries under its
// 60-word budget: the Ollama perspective summarizer writes under the same
// budget, so its prompts are the same size or smaller, but it cannot run
// here. Pictures are counted per prompt and priced at ImageTokens each, the
// 256 tokens of a 448-pixel picture in Qwen2.5-VL.

// ImageTokens is what one picture costs in the "with pictures" column.
const ImageTokens = 256

// setting is one way of building the prompts.
type setting struct {
	name      string
	filter    bool // stage one keeps the relevant history; otherwise all of it
	summaries bool // items are summarized; otherwise their full text
	// k and words override the engine's defaults (5 history items, 60
	// words) when not zero.
	k, words int
}

// settings are measured in order; the first is the baseline, the fourth the
// engine's defaults, the fifth a tighter configuration.
var settings = []setting{
	{name: "all history, full text"},
	{name: "stage-one filter, full text", filter: true},
	{name: "all history, summaries", summaries: true},
	{name: "stage-one filter + summaries", filter: true, summaries: true},
	{name: "filter K=3 + 30-word summaries", filter: true, summaries: true, k: 3, words: 30},
}

// sizes are the means over all judged candidates.
type sizes struct {
	prompts            int
	history, pictures  float64 // history items and pictures per prompt
	chars, tokens      float64 // of the prompt's text
	tokensWithPictures float64
	// termsKept is the share of the query's words found in a candidate's
	// full text that its prompt text still holds: the facts the judgement
	// needs, kept or lost.
	termsKept float64
}

// search is one (user, query) of a dataset.
type search struct {
	query   string
	history []string
}

// measure runs every search under s and averages the prompt of each
// candidate the reranker was asked to judge.
func measure(t *testing.T, products []hmpps.Product, searches []search, s setting) sizes {
	t.Helper()
	hasPicture := make(map[string]bool, len(products))
	fullWords := make(map[string]map[string]bool, len(products))
	for _, p := range products {
		hasPicture[p.ID] = len(p.Images) > 0
		fullWords[p.ID] = words(strings.Join(append([]string{p.Title, p.Brand, p.Description, p.Caption}, p.Category...), " "))
	}
	var (
		mu                sync.Mutex
		sum               sizes
		termsIn, termsOut float64
	)
	capture := rerank.Func(func(ctx context.Context, req rerank.Request) (rerank.Result, error) {
		p, err := rerank.MLLM{}.Prompt(req)
		if err != nil {
			return rerank.Result{}, err
		}
		pictures := 0
		for _, h := range req.History {
			if hasPicture[h.ID] {
				pictures++
			}
		}
		query := words(req.Query)
		for w := range query {
			if stopwords[w] {
				delete(query, w)
			}
		}
		mu.Lock()
		for i, c := range req.Candidates {
			text := p.Text(i)
			inPrompt := words(p.Candidates[i].Text)
			for w := range query {
				if fullWords[c.ID][w] {
					termsIn++
					if inPrompt[w] {
						termsOut++
					}
				}
			}
			n := pictures
			if hasPicture[c.ID] {
				n++
			}
			tokens := promptsize.Tokens(text)
			sum.prompts++
			sum.history += float64(len(req.History))
			sum.pictures += float64(n)
			sum.chars += float64(utf8.RuneCountInString(text))
			sum.tokens += float64(tokens)
			sum.tokensWithPictures += float64(tokens + n*ImageTokens)
		}
		mu.Unlock()
		return rerank.Preference{}.Rerank(ctx, req)
	})
	opts := []hmpps.Option{hmpps.WithReranker(capture), hmpps.WithRetrieveK(20)}
	switch {
	case !s.filter:
		opts = append(opts, hmpps.WithHistoryFilter(retrieval.HistoryFilter{K: 1 << 20}))
	case s.k > 0:
		min := hmpps.DefaultHistoryMinScore
		opts = append(opts, hmpps.WithHistoryFilter(retrieval.HistoryFilter{K: s.k, MinScore: &min}))
	}
	if s.words > 0 {
		opts = append(opts, hmpps.WithSummaryWords(s.words))
	}
	if !s.summaries {
		opts = append(opts, hmpps.WithSummarizer(nil))
	}
	e, err := hmpps.New(opts...)
	require.NoError(t, err)
	defer e.Close()
	ctx := context.Background()
	require.NoError(t, e.Upsert(ctx, products...))
	for _, q := range searches {
		_, err := e.Search(ctx, hmpps.Request{Query: q.query, HistoryIDs: q.history, ExcludeHistory: true})
		require.NoError(t, err)
	}
	n := float64(sum.prompts)
	return sizes{prompts: sum.prompts, history: sum.history / n, pictures: sum.pictures / n,
		chars: sum.chars / n, tokens: sum.tokens / n, tokensWithPictures: sum.tokensWithPictures / n,
		termsKept: termsOut / max(termsIn, 1)}
}

// report measures every setting on a dataset, logs the table and returns
// the cut of the engine's default (filtered, summarized) prompt against the
// full one, in tokens of text.
func report(t *testing.T, name string, products []hmpps.Product, searches []search) (defaultCut float64) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s: %d searches, average prompt per candidate\n", name, len(searches))
	fmt.Fprintf(&b, "%-30s %7s %7s %8s %6s %6s %15s %7s %6s\n", "setting", "prompts", "history", "pictures", "chars", "tokens", "+pictures", "vs full", "terms")
	var full sizes
	for i, s := range settings {
		m := measure(t, products, searches, s)
		if i == 0 {
			full = m
		}
		cut := 1 - m.tokens/full.tokens
		cutWithPictures := 1 - m.tokensWithPictures/full.tokensWithPictures
		if i == 3 {
			defaultCut = cut
		}
		fmt.Fprintf(&b, "%-30s %7d %7.1f %8.1f %6.0f %6.0f %6.0f (%4.0f%%) %6.0f%% %5.0f%%\n", s.name, m.prompts, m.history, m.pictures,
			m.chars, m.tokens, m.tokensWithPictures, -100*cutWithPictures, -100*cut, 100*m.termsKept)
	}
	fmt.Fprintf(&b, "vs full: change in text tokens. +pictures: with %d tokens per picture, and its change.\n", ImageTokens)
	fmt.Fprintf(&b, "terms: share of the query's words in a candidate's full text that its prompt keeps.\n")
	t.Log(b.String())
	return defaultCut
}

func TestFiguresQuickstart(t *testing.T) {
	var searches []search
	for _, u := range democatalog.Shoppers() {
		searches = append(searches, search{query: democatalog.DefaultQuery, history: u.HistoryIDs})
	}
	// The demo's descriptions are already a few lines long, so summaries
	// have little to cut: the filter does most of the work here.
	cut := report(t, "quickstart catalog", democatalog.Products(), searches)
	assert.GreaterOrEqual(t, cut, 0.30)
}

// amazonDir returns the shared Amazon Magazine data, or skips: it lives
// beside the repository (../shared/data/amazon-magazine from its root) and
// is never copied into it; HMPPS_DATA_DIR overrides the location.
func amazonDir(t *testing.T) string {
	dir := os.Getenv("HMPPS_DATA_DIR")
	if dir == "" {
		// This package is internal/promptsize, two levels below the root.
		dir = filepath.Join("..", "..", "..", "shared", "data", "amazon-magazine")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("skipping: the Amazon Magazine data is not at %s (the repository root's ../shared/data/amazon-magazine; set HMPPS_DATA_DIR to point elsewhere): %v", dir, err)
	}
	return dir
}

func TestFiguresAmazonMagazine(t *testing.T) {
	d, err := eval.LoadAmazon(context.Background(), amazonDir(t))
	require.NoError(t, err)
	// Each user's last purchase is the target: its category path makes the
	// query (Ai et al., 2017) and everything bought before is the history.
	var searches []search
	for _, seq := range d.Sequences() {
		if len(seq.Purchases) < 2 {
			continue
		}
		last := seq.Purchases[len(seq.Purchases)-1]
		target, ok := d.Product(last.Product)
		if !ok {
			continue
		}
		query := eval.CategoryQuery(target.Category, nil)
		if query == "" {
			continue
		}
		s := search{query: query}
		for _, p := range seq.Purchases[:len(seq.Purchases)-1] {
			s.history = append(s.history, p.Product)
		}
		searches = append(searches, s)
	}
	require.NotEmpty(t, searches)
	name := d.Name
	if raceEnabled {
		// Every fourth user: the same code under the race detector, in a
		// quarter of the time. The figures come from a run without -race.
		var sample []search
		for i := 0; i < len(searches); i += 4 {
			sample = append(sample, searches[i])
		}
		searches, name = sample, name+" (every fourth user, under -race)"
	}
	cut := report(t, name, d.Products, searches)
	// The target is a 60% cut on the whole data (61% measured). The
	// sample of the race run lands just under it (59%); it guards against
	// regressions only.
	want := 0.60
	if raceEnabled {
		want = 0.55
	}
	assert.GreaterOrEqual(t, cut, want, "filtering and summaries should cut the prompt by 60% on real product text")
}

// stopwords are left out of the query's terms: keeping "for" proves nothing.
var stopwords = summarize.EnglishStopwords()

// words returns the set of lowercase words of s.
func words(s string) map[string]bool {
	out := make(map[string]bool)
	for _, w := range tokenize.Words(s) {
		out[w] = true
	}
	return out
}
