package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/ollamacall"
	"hmpps/summarize"
)

// perspectiveResult is the summarizer ablation of one judge: the judge
// replacing the learned order reading extractive summaries, and reading
// the summaries it wrote itself around the query's perspectives, on the
// same validation searches: whether the judge's summaries pay is a choice,
// made without the test split.
type perspectiveResult struct {
	Report     *eval.Report         `json:"report"`
	Comparison eval.NamedComparison `json:"comparison"`
	// Samples show what the judge made of a few queries: its
	// perspectives and one summary.
	Samples []perspectiveSample `json:"samples"`
	// SecondsPerSearch is the wall time of a search with its summaries.
	SecondsPerSearch float64 `json:"seconds_per_search"`
}

// perspectiveSample is what a model summarizer made of one query.
type perspectiveSample struct {
	Query        string   `json:"query"`
	Perspectives []string `json:"perspectives"`
	Product      string   `json:"product"`
	Summary      string   `json:"summary"`
	Error        string   `json:"error,omitempty"`
}

// ablationDepth is how deep the summaries ablation searches: every metric
// it reports reads the top 10 only, and the engine summarizes each result
// it returns, so a deeper search would ask the model summarizer for the
// summaries of results nothing reads (about a hundred a search at
// eval.DefaultDepth). The engine's retrieval depth is its own setting, so
// the top 10 are those of the deeper search.
const ablationDepth = 10

// perspectiveAblation runs the first k of the validation tasks whose target
// the trained engine ranks among the judged (on the others the two cannot
// differ) with the judge replacing the learned order, reading extractive
// summaries and reading its own perspective-guided ones.
func perspectiveAblation(ctx context.Context, d *eval.Dataset, catalog []string, trained *hmpps.Model, learned *eval.EngineMethod,
	validation []eval.Task, j judgeSpec, cfg config, k int, bar *progressBar) (*perspectiveResult, error) {
	n := cfg.modelEval.candidates
	var tasks []eval.Task
	for _, t := range validation {
		if len(tasks) == k {
			break
		}
		t.Candidates = eval.CatalogCandidates(catalog, t.History)
		ls, err := learned.Score(ctx, t)
		if err != nil {
			return nil, err
		}
		if i := slices.Index(t.Candidates, t.Target); i >= 0 && ls.Scores[i] > float64(learned.Depth-n) {
			tasks = append(tasks, t)
		}
	}
	if len(tasks) == 0 {
		return nil, nil
	}
	extractive, err := eval.NewEngine(ctx, d.Products, judgeOptions(cfg, j, trained, false)...)
	if err != nil {
		return nil, err
	}
	defer extractive.Close()
	written, err := eval.NewEngine(ctx, d.Products, judgeOptions(cfg, j, trained, true)...)
	if err != nil {
		return nil, err
	}
	defer written.Close()
	a := j.Model + ", " + rowReplace
	b := j.Model + ", " + rowPersp
	// The judge reorders the learned top n only, and the target is among
	// them on these tasks, so it stays within max(n, ablationDepth).
	depth := max(n, ablationDepth)
	methods := []eval.Method{
		&eval.EngineMethod{Label: a, Engine: extractive, Depth: depth},
		&timedEngine{EngineMethod: eval.EngineMethod{Label: b, Engine: written, Depth: depth}},
	}
	label := fmt.Sprintf("%s, %d validation searches whose target the trained engine ranks in its top %d, %s", d.Name, len(tasks), n, j)
	rep, err := eval.EvaluateCatalog(ctx, catalog, tasks, methods, eval.Options{Label: label, BootstrapSamples: cfg.bootstrap,
		Seed: cfg.seed, Concurrency: 1, Progress: func(p eval.Progress) { bar.update("summaries/"+j.Model, p) }})
	if err != nil {
		return nil, err
	}
	c, err := rep.Compare(b, a, eval.NDCG10)
	if err != nil {
		return nil, err
	}
	res := &perspectiveResult{Report: rep, Comparison: eval.NamedComparison{A: b, B: a, Comparison: c},
		SecondsPerSearch: methods[1].(*timedEngine).seconds()}
	res.Samples = perspectiveSamples(ctx, d, tasks[:min(3, len(tasks))], j, cfg)
	return res, nil
}

// perspectiveSamples asks the judge, as the engine's summarizer, for the
// perspectives of a few queries and the summary of each target around
// them, under the word budget the judge read its summaries with.
func perspectiveSamples(ctx context.Context, d *eval.Dataset, tasks []eval.Task, j judgeSpec, cfg config) []perspectiveSample {
	p, err := summarize.NewPerspective(summarize.PerspectiveConfig{Client: ollamacall.NewClient(cfg.ollamaHost, nil), Model: j.Model,
		Timeout: 10 * time.Minute})
	if err != nil {
		return []perspectiveSample{{Error: err.Error()}}
	}
	var out []perspectiveSample
	for _, t := range tasks {
		s := perspectiveSample{Query: t.Query}
		persp, _, err := p.Perspectives(ctx, t.Query)
		s.Perspectives = persp
		if err != nil {
			s.Error = err.Error()
		}
		if prod, ok := d.Product(t.Target); ok && err == nil {
			s.Product = prod.Title
			sum, err := p.Summarize(ctx, t.Query, summarize.Document{ID: prod.ID, Title: prod.Title, Text: prod.Title + ". " + prod.Description},
				cfg.modelEval.summaryWords)
			s.Summary = sum.Text
			if err != nil {
				s.Error = err.Error()
			}
		}
		out = append(out, s)
	}
	return out
}

// timedEngine is an EngineMethod that measures its searches' wall time.
type timedEngine struct {
	eval.EngineMethod
	took     time.Duration
	searches int
}

// Score implements eval.Method; Evaluate runs it one task at a time here.
func (m *timedEngine) Score(ctx context.Context, t eval.Task) (eval.Scored, error) {
	start := time.Now()
	sc, err := m.EngineMethod.Score(ctx, t)
	m.took += time.Since(start)
	m.searches++
	return sc, err
}

func (m *timedEngine) seconds() float64 {
	if m.searches == 0 {
		return 0
	}
	return m.took.Seconds() / float64(m.searches)
}
