package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
)

// byTable scores a candidate by its entry in scores (0 when absent).
func byTable(scores map[string]float64) Method {
	return MethodFunc{Label: "table", Func: func(_ context.Context, t Task) (Scored, error) {
		out := make([]float64, len(t.Candidates))
		for i, id := range t.Candidates {
			out[i] = scores[id]
		}
		return Scored{Scores: out}, nil
	}}
}

func TestEvaluateCatalog(t *testing.T) {
	catalog := []string{"a", "b", "c", "d", "e"}
	tasks := []Task{
		{User: "u1", Query: "q", History: []string{"b"}, Target: "c"},                  // b left out: c ranks 1 ... unless tied
		{User: "u2", Query: "q", History: []string{"e"}, Target: "d"},                  // below depth 3
		{User: "u3", Query: "q", History: []string{"a"}, Target: "a"},                  // a repeat purchase: a miss
		{User: "u4", Query: "q", History: nil, Target: "e", Candidates: []string{"e"}}, // own candidates ignored
	}
	var seen [][]string
	m := MethodFunc{Label: "table", Func: func(ctx context.Context, t Task) (Scored, error) {
		seen = append(seen, t.Candidates)
		return byTable(map[string]float64{"a": 5, "b": 9, "c": 4, "d": 1, "e": 4}).Score(ctx, t)
	}}
	rep, err := EvaluateCatalog(context.Background(), catalog, tasks, []Method{m}, Options{Depth: 3, Concurrency: 1, BootstrapSamples: 10})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Depth)
	// u1: a 5 above c 4, e ties c: rank 3. u2: a, c, e above d: rank 4 >
	// 3, a miss. u3: a is history. u4: b, a above e, c ties: rank 4, a miss.
	assert.Equal(t, []int{3, 0, 0, 0}, rep.Methods[0].Ranks)
	assert.Equal(t, [][]string{{"a", "c", "d", "e"}, {"a", "b", "c", "d"}, {"b", "c", "d", "e"}, catalog}, seen)
	assert.InDelta(t, 0.25, rep.Methods[0].Metrics[Recall100].Mean, 1e-12)
	assert.InDelta(t, 0.25/3, rep.Methods[0].Metrics[MRR].Mean, 1e-12)

	_, err = EvaluateCatalog(context.Background(), catalog, []Task{{User: "u", Query: "q", Target: "z"}}, []Method{m}, Options{})
	assert.ErrorIs(t, err, ErrInvalidSplit)
	_, err = EvaluateCatalog(context.Background(), catalog, nil, []Method{m}, Options{})
	assert.ErrorIs(t, err, ErrInvalidSplit)

	var b strings.Builder
	require.NoError(t, rep.WriteCatalogMarkdown(&b))
	assert.Contains(t, b.String(), "4 tasks, the whole catalog ranked to depth 3")
	assert.Contains(t, b.String(), "| table | 0.250 [")
	assert.Contains(t, b.String(), "Recall@100 [95% CI]")
}

// TestEngineMethodWholeCatalog checks the whole-catalog mode against the
// engine's own search: the target's rank is its place in the results,
// which leave the history out.
func TestEngineMethodWholeCatalog(t *testing.T) {
	ctx := context.Background()
	d := leakyDataset()
	e, err := NewEngine(ctx, d.Products)
	require.NoError(t, err)
	defer e.Close()
	s, err := BuildLeaveOneOut(d, LeaveOneOutConfig{})
	require.NoError(t, err)
	tasks := s.Tasks(Test)
	catalog := Catalog(d)
	methods := []Method{
		&EngineMethod{Label: "hmpps", Engine: e, Depth: 10},
		&EngineMethod{Label: "no history", Engine: e, Depth: 10, History: NoHistory},
	}
	rep, err := EvaluateCatalog(ctx, catalog, tasks, methods, Options{Depth: 10, BootstrapSamples: 10})
	require.NoError(t, err)
	hits := 0
	for i, task := range tasks {
		for mi, req := range []hmpps.Request{
			{Query: task.Query, HistoryIDs: task.History, ExcludeHistory: true, TopN: 10},
			{Query: task.Query, TopN: 10},
		} {
			resp, err := e.Search(ctx, req)
			require.NoError(t, err)
			want := 0
			place := 0
			for _, r := range resp.Results {
				if contains(task.History, r.ID) {
					require.Equal(t, 1, mi, "a history item in the results of a search that excludes history")
					continue // passed over
				}
				place++
				if r.ID == task.Target {
					want = place
				}
			}
			if contains(task.History, task.Target) {
				want = 0
			}
			assert.Equal(t, want, rep.Methods[mi].Ranks[i], "%s, user %s", methods[mi].Name(), task.User)
			if want > 0 {
				hits++
			}
		}
	}
	assert.Positive(t, hits, "some targets are found, so the test compares ranks")
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
