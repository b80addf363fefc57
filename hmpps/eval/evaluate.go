package eval

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Options configures Evaluate. The zero value is ready to use.
type Options struct {
	// Label names the evaluation in reports, e.g. "test, hard negatives".
	Label string
	// BootstrapSamples is the number of resamples behind each confidence
	// interval. If zero, DefaultBootstrapSamples.
	BootstrapSamples int
	// Seed fixes the bootstrap resamples.
	Seed uint64
	// Concurrency is how many tasks are scored at once. If zero, the number
	// of CPUs.
	Concurrency int
	// Progress, if set, is called after each scored task, never from two
	// goroutines at once.
	Progress func(Progress)
	// Depth, for EvaluateCatalog, is how far down a ranking of the whole
	// catalog is read: a target ranked below it counts as a miss. If zero,
	// DefaultDepth. Evaluate, whose lists are short, reads them whole.
	Depth int
}

// Progress is how far an evaluation has come.
type Progress struct {
	// Method is the name of the method being scored, the Index-th (from 0)
	// of Methods.
	Method         string
	Index, Methods int
	// Done of Total tasks of this method are scored.
	Done, Total int
}

// Report is the outcome of Evaluate.
type Report struct {
	// Label is Options.Label.
	Label string `json:"label"`
	// Tasks is the number of tasks every method ranked.
	Tasks int `json:"tasks"`
	// Depth is Options.Depth of a whole-catalog evaluation (0 for
	// candidate lists): ranks beyond it are misses, recorded as 0.
	Depth int `json:"depth,omitempty"`
	// BootstrapSamples and Seed produced the confidence intervals.
	BootstrapSamples int    `json:"bootstrap_samples"`
	Seed             uint64 `json:"seed"`
	// Methods holds one result per method, in the order given.
	Methods []MethodResult `json:"methods"`
}

// MethodResult is one method's outcome.
type MethodResult struct {
	// Name is the method's name.
	Name string `json:"name"`
	// Metrics holds each metric's mean over tasks and 95% interval.
	Metrics Summary `json:"metrics"`
	// Ranks is the target's rank in each task, in task order; every metric
	// and any paired comparison is computed from it. 0 is a miss: a target
	// ranked below the report's Depth, or one that could not be ranked (in
	// the user's history, which a whole-catalog ranking leaves out); every
	// metric counts it 0.
	Ranks []int `json:"ranks"`
	// Prompt averages the methods' PromptSize, for methods that report one.
	Prompt *PromptStats `json:"prompt,omitempty"`
	// Degraded counts tasks the method scored with a fallback.
	Degraded int `json:"degraded,omitempty"`
	// Seconds is the wall-clock time scoring took.
	Seconds float64 `json:"seconds"`
}

// Method returns the result of the method with this name.
func (r *Report) Method(name string) (*MethodResult, bool) {
	for i := range r.Methods {
		if r.Methods[i].Name == name {
			return &r.Methods[i], true
		}
	}
	return nil, false
}

// Compare runs a paired comparison of methods a and b (see Compare) with
// the report's bootstrap settings.
func (r *Report) Compare(a, b string, m Metric) (Comparison, error) {
	ra, okA := r.Method(a)
	rb, okB := r.Method(b)
	if !okA || !okB {
		return Comparison{}, fmt.Errorf("eval: compare %q with %q: method not in report %q", a, b, r.Label)
	}
	return Compare(ra.Ranks, rb.Ranks, m, r.BootstrapSamples, r.Seed)
}

// Evaluate has every method score every task and ranks each task's target
// (pessimistically on ties, see Rank). A method error stops the evaluation
// and is returned; no tasks, or a task whose target is not among its
// candidates, is an error wrapping ErrInvalidSplit.
func Evaluate(ctx context.Context, tasks []Task, methods []Method, opts Options) (*Report, error) {
	if len(tasks) == 0 {
		return nil, fmt.Errorf("%w: no tasks to evaluate", ErrInvalidSplit)
	}
	targets := make([]int, len(tasks))
	for i, t := range tasks {
		targets[i] = slices.Index(t.Candidates, t.Target)
		if targets[i] < 0 {
			return nil, fmt.Errorf("%w: user %q: target %q is not among the candidates", ErrInvalidSplit, t.User, t.Target)
		}
	}
	return evaluate(ctx, len(tasks), methods, opts, func(i int) (Task, int) { return tasks[i], targets[i] })
}

// evaluate scores n tasks with every method; task returns the i-th task and
// its target's index among its candidates (-1: not among them, a miss). A
// rank beyond opts.Depth, when it is set, is a miss (0).
func evaluate(ctx context.Context, n int, methods []Method, opts Options, task func(i int) (Task, int)) (*Report, error) {
	if opts.BootstrapSamples <= 0 {
		opts.BootstrapSamples = DefaultBootstrapSamples
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	rep := &Report{Label: opts.Label, Tasks: n, Depth: opts.Depth, BootstrapSamples: opts.BootstrapSamples, Seed: opts.Seed}
	for mi, m := range methods {
		start := time.Now()
		ranks := make([]int, n)
		prompts := make([]*PromptSize, n)
		var mu sync.Mutex
		done, degraded := 0, 0
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(opts.Concurrency)
		for i := range n {
			g.Go(func() error {
				t, target := task(i)
				s, err := m.Score(gctx, t)
				if err != nil {
					return fmt.Errorf("eval: %s: %w", m.Name(), err)
				}
				if len(s.Scores) != len(t.Candidates) {
					return fmt.Errorf("%w: %s returned %d scores for %d candidates", ErrInvalidScores, m.Name(), len(s.Scores), len(t.Candidates))
				}
				r := 0
				if target >= 0 {
					if r, err = Rank(s.Scores, target); err != nil {
						return fmt.Errorf("eval: %s: user %q: %w", m.Name(), t.User, err)
					}
					if opts.Depth > 0 && r > opts.Depth {
						r = 0
					}
				}
				ranks[i], prompts[i] = r, s.Prompt
				mu.Lock()
				defer mu.Unlock()
				done++
				if s.Degraded {
					degraded++
				}
				if opts.Progress != nil {
					opts.Progress(Progress{Method: m.Name(), Index: mi, Methods: len(methods), Done: done, Total: n})
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		rep.Methods = append(rep.Methods, MethodResult{
			Name:     m.Name(),
			Metrics:  Bootstrap(ranks, opts.BootstrapSamples, opts.Seed),
			Ranks:    ranks,
			Prompt:   promptStats(prompts),
			Degraded: degraded,
			Seconds:  time.Since(start).Seconds(),
		})
	}
	return rep, nil
}
