package eval

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oracle scores the target 1 and every other candidate 0.
var oracle = MethodFunc{Label: "oracle", Func: func(_ context.Context, t Task) (Scored, error) {
	s := make([]float64, len(t.Candidates))
	for i, id := range t.Candidates {
		if id == t.Target {
			s[i] = 1
		}
	}
	return Scored{Scores: s, Prompt: &PromptSize{HistoryItems: 2, HistoryTokens: 10, CandidateTokens: 5, QueryTokens: 1}}, nil
}}

// constant scores every candidate alike: with pessimistic ties, the target
// ranks last.
var constant = MethodFunc{Label: "constant", Func: func(_ context.Context, t Task) (Scored, error) {
	return Scored{Scores: make([]float64, len(t.Candidates))}, nil
}}

func TestEvaluate(t *testing.T) {
	tasks := syntheticTasks(50)
	var calls int
	rep, err := Evaluate(context.Background(), tasks, []Method{oracle, constant}, Options{
		Label: "synthetic", Seed: 1, Concurrency: 3, BootstrapSamples: 100,
		Progress: func(p Progress) {
			calls++
			assert.LessOrEqual(t, p.Done, p.Total)
		},
	})
	require.NoError(t, err)
	assert.Equal(t, 100, calls)
	assert.Equal(t, 50, rep.Tasks)
	require.Len(t, rep.Methods, 2)

	o, ok := rep.Method("oracle")
	require.True(t, ok)
	assert.Equal(t, Estimate{1, 1, 1}, o.Metrics[MRR])
	assert.Equal(t, &PromptStats{Tasks: 50, HistoryItems: 2, HistoryTokens: 10, CandidateTokens: 5, PerCandidate: 16}, o.Prompt)
	c, _ := rep.Method("constant")
	for _, r := range c.Ranks {
		assert.Equal(t, 100, r)
	}
	assert.Nil(t, c.Prompt)

	cmp, err := rep.Compare("oracle", "constant", HR10)
	require.NoError(t, err)
	assert.Equal(t, 50, cmp.Wins)
	_, err = rep.Compare("oracle", "missing", HR10)
	assert.Error(t, err)

	var md bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	assert.Contains(t, md.String(), "| oracle | 1.000 | 1.000 | 1.000 [1.000, 1.000] |")
	assert.Contains(t, md.String(), "| constant | 0.000 |")
	md.Reset()
	require.NoError(t, rep.WritePromptMarkdown(&md))
	assert.Contains(t, md.String(), "| oracle | 2.0 | 10 | 5 | 16 |")
	assert.NotContains(t, md.String(), "constant")
	md.Reset()
	require.NoError(t, WriteComparisonMarkdown(&md, []NamedComparison{{A: "oracle", B: "constant", Comparison: cmp}}))
	assert.Contains(t, md.String(), "| oracle vs constant | HR@10 | +1.000 [+1.000, +1.000] | 50 / 0 / 0 | < 0.001 |")

	md.Reset()
	require.NoError(t, WriteJSON(&md, rep))
	assert.True(t, strings.Contains(md.String(), `"NDCG@10": {`))
}

func TestEvaluateCountsDegradedTasks(t *testing.T) {
	half := MethodFunc{Label: "half", Func: func(ctx context.Context, t Task) (Scored, error) {
		s, err := oracle.Score(ctx, t)
		s.Degraded = strings.HasSuffix(t.User, "0")
		return s, err
	}}
	rep, err := Evaluate(context.Background(), syntheticTasks(20), []Method{half}, Options{BootstrapSamples: 10})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Methods[0].Degraded) // u0 and u10
	var md bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	assert.Contains(t, md.String(), "| half (2 tasks degraded) |")
}

func TestEvaluateErrors(t *testing.T) {
	ctx := context.Background()
	tasks := syntheticTasks(3)
	short := MethodFunc{Label: "short", Func: func(context.Context, Task) (Scored, error) {
		return Scored{Scores: []float64{1}}, nil
	}}
	_, err := Evaluate(ctx, tasks, []Method{short}, Options{})
	assert.ErrorIs(t, err, ErrInvalidScores)

	boom := errors.New("boom")
	failing := MethodFunc{Label: "failing", Func: func(context.Context, Task) (Scored, error) { return Scored{}, boom }}
	_, err = Evaluate(ctx, tasks, []Method{failing}, Options{})
	assert.ErrorIs(t, err, boom)

	bad := syntheticTasks(1)
	bad[0].Target = "missing"
	_, err = Evaluate(ctx, bad, []Method{oracle}, Options{})
	assert.ErrorIs(t, err, ErrInvalidSplit)

	_, err = Evaluate(ctx, nil, []Method{oracle}, Options{})
	assert.ErrorIs(t, err, ErrInvalidSplit)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Evaluate(cancelled, tasks, []Method{Random{}}, Options{})
	assert.ErrorIs(t, err, context.Canceled)
}
