package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
)

// trainedRetrieveK is how many candidates each index gives a trained
// engine of the whole-catalog protocol: twice the default, chosen on the
// validation targets (retrieval recall 0.943 → 0.978, NDCG@10 0.548 →
// 0.552; docs/evaluation.md). The untrained engine keeps the default.
const trainedRetrieveK = 2 * hmpps.DefaultRetrieveK

// trainCatalog trains the model of a whole-catalog evaluation and its
// ablations (stage one, the co-purchase features) on the split's training
// purchases, each among the engine's own candidates for its query,
// early-stopped on the validation targets ranked the same way, and then
// refit on the training and validation purchases together for the best
// epoch's passes (hmpps.TrainOptions.Refit): the validation purchases are
// each shopper's latest before the test target. The ablations are trained
// as that refit, with the full model's number of passes. The test targets
// are never read. It measures each training's peak heap.
func trainCatalog(ctx context.Context, d *eval.Dataset, s *eval.LeaveOneOut, catalog []string, seed uint64, bar *progressBar) (*trainedModels, []catalogTraining, error) {
	// No negatives of their own: Train ranks each purchase among the
	// engine's own candidates for its query, what a search will rank, and
	// early-stops on the validation purchases ranked the same way.
	examples := s.TrainingExamples(catalog, 0, seed)
	validation := s.ValidationExamples(catalog, 0, seed)
	e, err := eval.NewEngine(ctx, d.Products, hmpps.WithSummarizer(nil), hmpps.WithRetrieveK(trainedRetrieveK))
	if err != nil {
		return nil, nil, err
	}
	defer e.Close()
	tm := &trainedModels{Mode: eval.RandomNegatives}
	var out []catalogTraining
	for _, v := range []struct {
		suffix string
		opts   hmpps.TrainOptions
		into   **hmpps.Model
	}{
		{"", hmpps.TrainOptions{}, &tm.Full},
		{" − stage one", hmpps.TrainOptions{DisableStageOne: true}, &tm.NoOne},
		{" − co-purchase features", hmpps.TrainOptions{DisableCollaborative: true}, &tm.NoCollab},
	} {
		label := "train/" + d.Name + v.suffix
		opts := v.opts
		opts.Seed = seed
		opts.Progress = prefixWriter{w: bar.w, prefix: label + " ", terminal: bar.terminal}
		train := examples
		if tm.Full == nil {
			opts.Validation, opts.Refit = validation, true
		} else {
			// An ablation is the full model's recipe without one part:
			// trained as its refit, on the same purchases for the same
			// passes, which spares the early-stopped training.
			train = append(slices.Clip(examples), validation...)
			opts.Epochs = tm.Full.BestEpoch()
		}
		base := liveHeap()
		peak := watchHeap()
		m, err := hmpps.Train(ctx, e, train, opts)
		top := peak()
		if err != nil {
			return nil, nil, err
		}
		out = append(out, catalogTraining{Label: label, Summary: m.Summary(), PeakHeapMB: float64(top-min(top, base)) / (1 << 20),
			Epochs: len(m.Curve()), BestEpoch: m.BestEpoch()})
		*v.into = m
	}
	return tm, out, nil
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// watchHeap samples the bytes of heap objects (live, and dead ones not yet
// swept) every 20 ms until the returned function is called, which returns
// the highest sample: an upper bound of what the work in between needed.
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

// writeCatalogTraining writes the training table of a whole-catalog
// evaluation.
func writeCatalogTraining(w *strings.Builder, ts []catalogTraining) {
	w.WriteString("| model | training examples | validation | epochs (best) | training time | peak heap |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, t := range ts {
		fmt.Fprintf(w, "| %s | %d | %d | %d (%d) | %s | %.0f MB |\n", t.Label, t.Summary.Examples, t.Summary.ValidationExamples,
			t.Epochs, t.BestEpoch, t.Summary.Took.Round(100*time.Millisecond), t.PeakHeapMB)
	}
}
