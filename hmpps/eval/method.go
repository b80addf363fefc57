package eval

import "context"

// Method is a ranking method under evaluation. Score returns one score per
// candidate of the task, in the task's order; higher ranks first. A method
// must not look at Task.Target, and must be safe for concurrent use: Evaluate
// scores several tasks at once.
type Method interface {
	// Name labels the method in reports.
	Name() string
	// Score scores the task's candidates.
	Score(ctx context.Context, t Task) (Scored, error)
}

// Scored is a method's answer for one task.
type Scored struct {
	// Scores holds one score per candidate, in the task's order.
	Scores []float64
	// Prompt, when not nil, is the size of what a model reranker would read
	// for this task; methods without a prompt leave it nil.
	Prompt *PromptSize
	// Degraded is true when the method fell back to a simpler scorer for
	// part of the task (a model call failed); reports count such tasks.
	Degraded bool
}

// MethodFunc adapts a name and a function to the Method interface, for
// methods that need no state.
type MethodFunc struct {
	// Label is returned by Name.
	Label string
	// Func scores a task.
	Func func(ctx context.Context, t Task) (Scored, error)
}

// Name returns f.Label.
func (f MethodFunc) Name() string { return f.Label }

// Score calls f.Func.
func (f MethodFunc) Score(ctx context.Context, t Task) (Scored, error) { return f.Func(ctx, t) }
