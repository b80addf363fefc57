package eval

import (
	"context"
	"runtime/metrics"
	"testing"
	"time"

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

// BenchmarkTrainScientific trains the two-stage model as make eval does on
// the Amazon Scientific data: every training purchase of the leave-one-out
// split (about 33,000 with a query and a purchase before them) among 99
// random negatives, early-stopped on the validation targets among theirs.
// It reports the epochs run and the peak of the live heap while training
// (peak-heap-MB, sampled every 20 ms), on top of the catalog and examples
// held before; run it with -benchtime 1x.
func BenchmarkTrainScientific(b *testing.B) {
	ctx := context.Background()
	d := loadScientific(b)
	s, err := BuildLeaveOneOut(d, LeaveOneOutConfig{Query: func(p hmpps.Product) string { return CategoryWords(p.Category, nil) }})
	require.NoError(b, err)
	catalog := Catalog(d)
	examples := s.TrainingExamples(catalog, DefaultNegatives, 1)
	opts := hmpps.TrainOptions{Validation: s.ValidationExamples(catalog, DefaultNegatives, 1), Seed: 1}
	e, err := NewEngine(ctx, d.Products, hmpps.WithSummarizer(nil))
	require.NoError(b, err)
	defer e.Close()
	b.ResetTimer()
	for b.Loop() {
		base := liveHeap()
		peak := watchHeap()
		m, err := hmpps.Train(ctx, e, examples, opts)
		require.NoError(b, err)
		b.ReportMetric(float64(len(m.Curve())), "epochs")
		b.ReportMetric(float64(len(examples)), "examples")
		b.ReportMetric(float64(peak()-base)/(1<<20), "peak-heap-MB")
	}
}

// watchHeap samples the heap's live and not yet collected objects every 20
// ms until the returned function is called, which returns the highest
// sample.
func watchHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		return <-done
	}
}
