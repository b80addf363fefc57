package eval

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/promptsize"
	"hmpps/retrieval"
)

func mustHashing(t *testing.T) retrieval.Embedder {
	t.Helper()
	e, err := retrieval.NewHashingEmbedder(retrieval.DefaultTextDimension)
	require.NoError(t, err)
	return e
}

// shopCatalog is a small catalog where the query "leather boots" cannot tell
// two boots apart and the user's history can.
func shopCatalog() []hmpps.Product {
	return []hmpps.Product{
		{ID: "boot-leather", Title: "Leather boots", Category: []string{"Shoes", "Boots"},
			Description: "Classic brown waxed leather boots. Goodyear welted. Resoleable."},
		{ID: "boot-trail", Title: "Leather boots", Category: []string{"Shoes", "Boots"},
			Description: "Lightweight trail boots with a leather upper. Breathable mesh lining. Grippy sole."},
		{ID: "wax", Title: "Brown leather wax", Category: []string{"Care"}, Description: "Keeps waxed leather supple. Brown."},
		{ID: "belt", Title: "Brown leather belt", Category: []string{"Accessories"}, Description: "Waxed brown leather, brass buckle."},
		{ID: "poles", Title: "Trail poles", Category: []string{"Hiking"}, Description: "Lightweight carbon poles for trail running."},
		{ID: "grinder", Title: "Coffee grinder", Category: []string{"Kitchen"}, Description: "Burr grinder for espresso."},
	}
}

func TestEngineMethod(t *testing.T) {
	ctx := context.Background()
	products := shopCatalog()
	full, err := NewEngine(ctx, products)
	require.NoError(t, err)
	defer full.Close()
	noSums, err := NewEngine(ctx, products, hmpps.WithSummarizer(nil))
	require.NoError(t, err)
	defer noSums.Close()
	all, err := NewEngine(ctx, products, hmpps.WithHistoryFilter(retrieval.HistoryFilter{}))
	require.NoError(t, err)
	defer all.Close()

	task := Task{User: "u", Query: "leather boots", History: []string{"wax", "belt", "grinder"},
		Candidates: []string{"boot-trail", "boot-leather"}, Target: "boot-leather"}
	score := func(m *EngineMethod) Scored {
		s, err := m.Score(ctx, task)
		require.NoError(t, err)
		require.Len(t, s.Scores, 2)
		return s
	}

	personal := score(&EngineMethod{Label: "hmpps", Engine: full, MeasurePrompt: true})
	assert.Greater(t, personal.Scores[1], personal.Scores[0], "the leather buyer's history favours the leather boots")
	require.NotNil(t, personal.Prompt)
	assert.Equal(t, 2, personal.Prompt.HistoryItems, "stage one drops the grinder")
	assert.Positive(t, personal.Prompt.HistoryTokens)
	assert.Positive(t, personal.Prompt.CandidateTokens)
	assert.Equal(t, promptsize.Tokens("leather boots"), personal.Prompt.QueryTokens)

	none := score(&EngineMethod{Label: "none", Engine: full, History: NoHistory, MeasurePrompt: true})
	assert.NotEqual(t, personal.Scores, none.Scores)
	assert.Zero(t, none.Prompt.HistoryItems)
	assert.Zero(t, none.Prompt.HistoryTokens)

	everything := score(&EngineMethod{Label: "all", Engine: all, History: AllHistory, MeasurePrompt: true})
	assert.Equal(t, 3, everything.Prompt.HistoryItems)

	// Without summaries the reranker reads full text: more tokens, and the
	// offline reranker's scores do not change, since it reads vectors.
	long := score(&EngineMethod{Label: "long", Engine: noSums, MeasurePrompt: true})
	assert.Equal(t, personal.Scores, long.Scores)
	assert.GreaterOrEqual(t, long.Prompt.PerCandidate(), personal.Prompt.PerCandidate())

	plain := score(&EngineMethod{Label: "plain", Engine: full})
	assert.Nil(t, plain.Prompt)

	_, err = (&EngineMethod{Label: "x", Engine: full}).Score(ctx, Task{Query: "boots", Candidates: []string{"nope"}})
	assert.ErrorIs(t, err, hmpps.ErrNotFound)
}
