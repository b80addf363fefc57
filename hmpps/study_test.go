//go:build study

package hmpps_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/ltr"
)

// TestStudy is the validation study of the whole-catalog model: lists built
// once, learners and feature sets tried on them, validation NDCG@10 only.
func TestStudy(t *testing.T) {
	ctx := context.Background()
	d, err := eval.LoadRecBole(ctx, "../../shared/data/amazon-scientific")
	if err != nil {
		t.Skip(err)
	}
	s, err := eval.BuildLeaveOneOut(d, eval.LeaveOneOutConfig{Query: func(p hmpps.Product) string { return eval.CategoryWords(p.Category, nil) }})
	if err != nil {
		t.Fatal(err)
	}
	catalog := eval.Catalog(d)
	examples := s.TrainingExamples(catalog, 0, 1)
	validation := s.ValidationExamples(catalog, 0, 1)
	if n := os.Getenv("STUDY_LASTN"); n != "" {
		// Only each user's last N training examples: the ones nearest the
		// validation target in time.
		var k int
		fmt.Sscan(n, &k)
		var kept []hmpps.TrainingExample
		for i, ex := range examples {
			later := 0
			for j := i + 1; j < len(examples) && examples[j].User == ex.User; j++ {
				later++
			}
			if later < k {
				kept = append(kept, ex)
			}
		}
		t.Logf("kept each user's last %d training examples: %d of %d", k, len(kept), len(examples))
		examples = kept
	}
	all := examples
	if os.Getenv("STUDY_DROPLAST") != "" {
		// Each user's last training purchase left out: what a model
		// trained without the validation purchases is to the test.
		var kept []hmpps.TrainingExample
		for i, ex := range examples {
			if i+1 < len(examples) && examples[i+1].User == ex.User {
				kept = append(kept, ex)
			}
		}
		t.Logf("dropped each user's last training example: %d of %d kept", len(kept), len(examples))
		examples = kept
	}
	k := hmpps.DefaultRetrieveK
	fmt.Sscan(os.Getenv("STUDY_K"), &k)
	mode := hmpps.RetrieveHybrid
	if os.Getenv("STUDY_LEXICAL") != "" {
		mode = hmpps.RetrieveLexical
	}
	e, err := eval.NewEngine(ctx, d.Products, hmpps.WithSummarizer(nil), hmpps.WithRetrieveK(k), hmpps.WithRetrieval(mode))
	if err != nil {
		t.Fatal(err)
	}
	opts := hmpps.TrainOptions{Validation: validation, Seed: 1, Candidates: hmpps.TrainRetrieved}
	fmt.Sscan(os.Getenv("STUDY_NEIGHBORS"), &opts.Neighbors)
	fmt.Sscan(os.Getenv("STUDY_WINDOW"), &opts.CoPurchaseWindow)
	fmt.Sscan(os.Getenv("STUDY_NEGATIVES"), &opts.Negatives)
	t0 := time.Now()
	m, train, val, err := hmpps.StudyLists(ctx, e, examples, opts)
	if err != nil {
		t.Fatal(err)
	}
	found, size := 0, 0
	for _, l := range val {
		if l.Positive >= 0 {
			found++
		}
		size += l.C
	}
	t.Logf("validation candidates: recall %.4f, %.1f per list", float64(found)/float64(len(val)), float64(size)/float64(len(val)))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("lists built in %s, heap %d MB; neighbours %d window %d negatives %d", time.Since(t0), ms.HeapAlloc>>20, opts.Neighbors, opts.CoPurchaseWindow, opts.Negatives)
	var recounted []ltr.List
	if os.Getenv("STUDY_RECOUNT") != "" {
		recounted, err = hmpps.StudyRecountedValidation(ctx, e, m, examples, all, opts)
		if err != nil {
			t.Fatal(err)
		}
	}
	cand, pair, hist := hmpps.StudyNames()
	for _, v := range variants(cand, pair, hist) {
		if f := os.Getenv("STUDY_ONLY"); f != "" && !slices.Contains(strings.Split(f, "|"), v.name) {
			continue
		}
		d := ltr.Dims{Cand: len(cand), Pair: len(pair), Hist: len(hist), Units: v.units}
		lo := ltr.Options{Epochs: 40, Patience: v.patience, LearningRate: v.lr, L2: v.l2, BatchSize: v.batch, Seed: 1, Workers: 2, Average: v.average,
			Validate: func(w ltr.Weights) float64 { return hmpps.StudyNDCG(w, val) }}
		if v.drop != nil {
			m := ltr.NewWeights(d)
			for _, g := range [][]float64{m.Cand, m.Pair, m.Attn, m.U, m.B, m.V} {
				for i := range g {
					g[i] = 1
				}
			}
			for i, n := range cand {
				if v.drop(n) {
					m.Cand[i] = 0
				}
			}
			for i, n := range pair {
				if v.drop(n) {
					m.Pair[i] = 0
				}
			}
			for i, n := range hist {
				if v.drop(n) {
					m.Attn[i] = 0
				}
			}
			if v.units > 0 {
				// A dropped feature feeds no hidden unit either.
				in := len(cand) + len(pair)
				for k := range v.units {
					for i := range cand {
						m.U[k*in+i] = m.Cand[i]
					}
					for i := range pair {
						m.U[k*in+len(cand)+i] = m.Pair[i]
					}
				}
			}
			lo.Mask = &m
		}
		seeds := 1
		fmt.Sscan(os.Getenv("STUDY_SEEDS"), &seeds)
		var ensemble, ensembleRe []ltr.Weights
		for seed := 2; seed <= seeds; seed++ {
			so := lo
			so.Seed = uint64(seed)
			res, err := ltr.Train(ctx, d, train, so)
			if err != nil {
				t.Fatal(err)
			}
			ensemble = append(ensemble, res.Weights)
			t.Logf("%-50s seed %d val %.4f", v.name, seed, res.Curve[res.Best].Validation)
		}
		t1 := time.Now()
		res, err := ltr.Train(ctx, d, train, lo)
		if err != nil {
			t.Fatal(err)
		}
		if seeds > 1 {
			ensemble = append(ensemble, res.Weights)
			ensembleRe = ensemble
			t.Logf("%-50s ensemble of %d val %.4f", v.name, seeds, hmpps.StudyEnsembleNDCG(ensemble, val))
			if recounted != nil {
				t.Logf("%-50s ensemble of %d recounted val %.4f", v.name, seeds, hmpps.StudyEnsembleNDCG(ensembleRe, recounted))
			}
		}
		var curve []string
		for _, ep := range res.Curve {
			curve = append(curve, fmt.Sprintf("%.4f", ep.Validation))
		}
		t.Logf("%-50s val %.4f epoch %2d/%2d  %6.1fs  [%s]", v.name, res.Curve[res.Best].Validation, res.Best+1, len(res.Curve),
			time.Since(t1).Seconds(), strings.Join(curve, " "))
		if recounted != nil {
			t.Logf("%-50s recounted val %.4f", v.name, hmpps.StudyNDCG(res.Weights, recounted))
		}
	}
}

type variant struct {
	name     string
	units    int
	lr, l2   float64
	average  float64
	batch    int
	patience int
	drop     func(name string) bool
}

func variants(cand, pair, hist []string) []variant {
	base := variant{name: "linear, all", lr: 0.05, l2: 1e-3, batch: 32, patience: 4}
	with := func(name string, f func(v *variant)) variant {
		v := base
		v.name = name
		f(&v)
		return v
	}
	has := func(words ...string) func(string) bool {
		return func(n string) bool {
			for _, w := range words {
				if strings.Contains(n, w) {
					return true
				}
			}
			return false
		}
	}
	_ = slices.Contains[[]string]
	_ = has
	return []variant{
		with("linear", func(v *variant) { v.lr = 0.01 }),
		with("mlp 16 lr 0.003", func(v *variant) { v.lr = 0.003; v.units = 16 }),
		with("mlp 32 lr 0.003", func(v *variant) { v.lr = 0.003; v.units = 32 }),
		with("mlp 64 lr 0.002", func(v *variant) { v.lr = 0.002; v.units = 64 }),
		with("mlp 16 lr 0.003 l2 1e-4", func(v *variant) { v.lr = 0.003; v.units = 16; v.l2 = 1e-4 }),
		with("mlp 16 lr 0.003 avg 0.99", func(v *variant) { v.lr = 0.003; v.units = 16; v.average = 0.99 }),
		with("mlp 16 lr 0.001 batch 16", func(v *variant) { v.lr = 0.001; v.units = 16; v.batch = 16 }),
	}
}
