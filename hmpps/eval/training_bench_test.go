package eval

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
)

// BenchmarkTrainMagazine trains the two-stage model on the training
// purchases of the Amazon Magazine data, early-stopped on its validation
// targets, as make eval does for each candidate mode.
func BenchmarkTrainMagazine(b *testing.B) {
	ctx := context.Background()
	d := loadMagazine(b)
	s, err := BuildSplit(d, SplitConfig{Mode: HardNegatives, Seed: 1})
	require.NoError(b, err)
	examples, err := TrainingExamples(s, d)
	require.NoError(b, err)
	e, err := NewEngine(ctx, d.Products)
	require.NoError(b, err)
	defer e.Close()
	opts := hmpps.TrainOptions{Validation: ValidationExamples(s), Seed: 1}
	b.ResetTimer()
	for b.Loop() {
		m, err := hmpps.Train(ctx, e, examples, opts)
		require.NoError(b, err)
		b.ReportMetric(float64(len(m.Curve())), "epochs")
	}
}

// TestTrainedBeatsBM25OnValidation trains on the Amazon Magazine data and
// checks, on the validation targets only, that the trained engine ranks
// better than BM25 in both candidate modes.
func TestTrainedBeatsBM25OnValidation(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on the real data")
	}
	ctx := context.Background()
	d := loadMagazine(t)
	for _, mode := range []CandidateMode{RandomNegatives, HardNegatives} {
		s, err := BuildSplit(d, SplitConfig{Mode: mode, Seed: 1})
		require.NoError(t, err)
		examples, err := TrainingExamples(s, d)
		require.NoError(t, err)
		e, err := NewEngine(ctx, d.Products)
		require.NoError(t, err)
		m, err := hmpps.Train(ctx, e, examples, hmpps.TrainOptions{Validation: ValidationExamples(s), Seed: 1})
		e.Close()
		require.NoError(t, err)
		trained, err := NewEngine(ctx, d.Products, hmpps.WithModel(m))
		require.NoError(t, err)
		rep, err := Evaluate(ctx, s.Tasks(Validation), []Method{NewBM25(d.Products), &EngineMethod{Label: "trained", Engine: trained}},
			Options{BootstrapSamples: 200})
		trained.Close()
		require.NoError(t, err)
		c, err := rep.Compare("trained", "bm25", NDCG10)
		require.NoError(t, err)
		t.Logf("%s: validation NDCG@10 trained %.3f, bm25 %.3f, sign test p %.2g", mode,
			rep.Methods[1].Metrics[NDCG10].Mean, rep.Methods[0].Metrics[NDCG10].Mean, c.SignP)
		require.Greater(t, c.Diff.Low, 0.0, "%s: the trained engine beats BM25 on validation", mode)
	}
}
