package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
)

// Names of the trained methods as the report prints them.
const (
	nameTrained        = "hmpps, trained"
	nameTrainedNoOne   = "hmpps, trained − learned stage one"
	nameTrainedNoTwo   = "hmpps, trained − learned stage two"
	trainedModelsLabel = "two-stage model"
)

// trainedModels are the models of one split: the full one and the one
// trained with stage one off (stage two off needs no training of its own:
// it is the full model's stage one with the default reranker).
type trainedModels struct {
	Mode        eval.CandidateMode
	Full, NoOne *hmpps.Model
	// NoCollab is trained without the co-purchase features (the
	// whole-catalog protocol only; nil otherwise).
	NoCollab *hmpps.Model
}

// train learns the split's models on its training purchases, early-stopped
// on its validation targets: the test targets are never read.
func train(ctx context.Context, d *eval.Dataset, s *eval.Split, seed uint64, bar *progressBar) (*trainedModels, error) {
	examples, err := eval.TrainingExamples(s, d)
	if err != nil {
		return nil, err
	}
	e, err := eval.NewEngine(ctx, d.Products)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	tm := &trainedModels{Mode: s.Mode}
	for _, off := range []bool{false, true} {
		label := fmt.Sprintf("train/%s", s.Mode)
		if off {
			label += " − stage one"
		}
		m, err := hmpps.Train(ctx, e, examples, hmpps.TrainOptions{
			Validation: eval.ValidationExamples(s), Seed: seed, DisableStageOne: off,
			Progress: prefixWriter{w: bar.w, prefix: label + " ", terminal: bar.terminal},
		})
		if err != nil {
			return nil, err
		}
		if off {
			tm.NoOne = m
		} else {
			tm.Full = m
		}
	}
	return tm, nil
}

// prefixWriter writes each line of Train's progress after a label, keeping
// the carriage return that redraws it in front on a terminal; elsewhere
// (make, CI logs) it keeps only the finished line.
type prefixWriter struct {
	w        io.Writer
	prefix   string
	terminal bool
}

func (p prefixWriter) Write(b []byte) (int, error) {
	s := string(b)
	if !p.terminal && !strings.HasSuffix(s, "\n") {
		return len(b), nil
	}
	cr := strings.HasPrefix(s, "\r")
	s = p.prefix + strings.TrimPrefix(s, "\r")
	if cr && p.terminal {
		s = "\r\033[K" + s
	}
	if _, err := io.WriteString(p.w, s); err != nil {
		return 0, err
	}
	return len(b), nil
}

// trainedMethods returns the engines with the split's models: the full
// model and its two ablations.
func trainedMethods(ctx context.Context, s *suite, d *eval.Dataset, tm *trainedModels) ([]eval.Method, error) {
	noTwo := *tm.Full
	noTwo.DisableStageTwo = true
	var out []eval.Method
	for _, x := range []struct {
		label string
		m     *hmpps.Model
	}{{nameTrained, tm.Full}, {nameTrainedNoOne, tm.NoOne}, {nameTrainedNoTwo, &noTwo}} {
		e, err := s.engine(ctx, d, hmpps.WithModel(x.m))
		if err != nil {
			return nil, err
		}
		out = append(out, &eval.EngineMethod{Label: x.label, Engine: e, MeasurePrompt: true})
	}
	return out, nil
}

// writeTraining writes the training section: per split, what each model was
// trained on, how long it took, its curve's best point and its weights.
func writeTraining(w *strings.Builder, models []*trainedModels) {
	w.WriteString("| split | model | examples | validation | epochs (best) | training time | best validation NDCG@10 |\n")
	w.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, tm := range models {
		for _, x := range []struct {
			label string
			m     *hmpps.Model
		}{{"full", tm.Full}, {"stage one off", tm.NoOne}} {
			st, curve := x.m.Summary(), x.m.Curve()
			fmt.Fprintf(w, "| %s | %s | %d | %d | %d (%d) | %s | %.3f |\n", tm.Mode, x.label, st.Examples, st.ValidationExamples,
				len(curve), x.m.BestEpoch(), st.Took.Round(time.Millisecond), curve[x.m.BestEpoch()-1].ValidationNDCG10)
		}
	}
	w.WriteString("\nLearned weights of the full models, on standardized features (stage 1: the history attention; stage 2: the ranker):\n\n")
	w.WriteString("| stage | feature |")
	for _, tm := range models {
		fmt.Fprintf(w, " %s |", tm.Mode)
	}
	w.WriteString("\n| ---: | --- |")
	for range models {
		w.WriteString(" ---: |")
	}
	w.WriteString("\n")
	weights := make([][]hmpps.FeatureWeight, len(models))
	for i, tm := range models {
		weights[i] = tm.Full.FeatureWeights()
	}
	for j, fw := range weights[0] {
		fmt.Fprintf(w, "| %d | %s |", fw.Stage, fw.Name)
		for i := range models {
			fmt.Fprintf(w, " %+.3f |", weights[i][j].Weight)
		}
		w.WriteString("\n")
	}
}

// trainingDoc is one split's full model in results.json.
type trainingDoc struct {
	Mode       eval.CandidateMode    `json:"mode"`
	Summary    hmpps.TrainingSummary `json:"summary"`
	BestEpoch  int                   `json:"best_epoch"`
	Curve      []curvePoint          `json:"curve"`
	Weights    []hmpps.FeatureWeight `json:"weights"`
	NoStageOne hmpps.TrainingSummary `json:"stage_one_off_summary"`
}

// curvePoint is a TrainingEpoch that JSON can hold (no NaN).
type curvePoint struct {
	Epoch      int      `json:"epoch"`
	Loss       float64  `json:"loss"`
	Validation *float64 `json:"validation_ndcg10,omitempty"`
}

func newTrainingDoc(tm *trainedModels) trainingDoc {
	d := trainingDoc{Mode: tm.Mode, Summary: tm.Full.Summary(), BestEpoch: tm.Full.BestEpoch(),
		Weights: tm.Full.FeatureWeights(), NoStageOne: tm.NoOne.Summary()}
	for _, ep := range tm.Full.Curve() {
		p := curvePoint{Epoch: ep.Epoch, Loss: ep.Loss}
		if !math.IsNaN(ep.ValidationNDCG10) {
			v := ep.ValidationNDCG10
			p.Validation = &v
		}
		d.Curve = append(d.Curve, p)
	}
	return d
}
