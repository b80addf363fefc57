// Package rerank orders a search's candidates by how likely this user is to
// buy each one for this query. The Reranker interface is the seam: the offline
// Preference reranker combines the candidate's similarity to the query with
// its similarity to the user's kept history; model-backed rerankers plug in
// behind the same interface and fall back to Preference per candidate.
package rerank

import (
	"context"

	"hmpps/retrieval"
)

// Item is a product as a reranker sees it.
type Item struct {
	// ID is the product's ID.
	ID string
	// Text is the product's text as it should be shown to a model: usually a
	// query-aware summary, otherwise title and description.
	Text string
	// Vector is the product's fused multimodal vector (see retrieval.VectorFusion);
	// it may be nil for a reranker that does not use vectors.
	Vector []float32
	// Image holds the product's prepared image bytes, if any.
	Image []byte
	// Relevance is the stage-one score of a history item (see
	// retrieval.HistoryFilter); it is ignored on candidates.
	Relevance float32
	// Lexical is a candidate's lexical match with the query, as a share of
	// the best among the request's candidates (the hmpps engine's BM25F
	// score over the largest one), in [0, 1]; 0 when unknown. It is
	// ignored on history items.
	Lexical float64
}

// Request is one reranking call: a query, the user's kept history and the
// candidates to score.
type Request struct {
	// Query is the user's query text.
	Query string
	// QueryVector is the query's vector in the same space as the items'
	// vectors (see retrieval.VectorFusion.Query).
	QueryVector []float32
	// History holds the history items stage one kept, most relevant first.
	// It may be empty: then there is nothing to personalize with.
	History []Item
	// Candidates are the items to score.
	Candidates []Item
}

// Score is a reranker's judgement of one candidate.
type Score struct {
	// ID is the candidate's ID.
	ID string
	// Score is higher for candidates the user is more likely to buy; a model
	// reranker reports a probability in [0, 1].
	Score float64
	// Degraded is true when the reranker could not score this candidate its
	// own way and fell back to a simpler score.
	Degraded bool
	// Reason says why the candidate is degraded.
	Reason string
	// Judged is true for a candidate a model reranker asked its model
	// about: with a limit on how many it judges (MLLM.MaxCandidates), the
	// others are not, and keep their offline order below.
	Judged bool
	// Verdict is the model's answer on a judged candidate; nil when it was
	// not judged, or gave no usable answer (then it is Degraded).
	Verdict *Verdict
}

// Result is what a Reranker returns: one Score per candidate, in the
// candidates' order, and the model usage it took.
type Result struct {
	Scores []Score
	Usage  retrieval.Usage
	// Notes say what a model reranker did differently from what the
	// request asked for, such as pictures left out for a text-only model,
	// or candidates beyond its limit kept in their offline order.
	Notes []string
}

// Reranker scores candidates. Implementations return one Score per candidate
// in request order and must be safe for concurrent use.
type Reranker interface {
	Rerank(ctx context.Context, req Request) (Result, error)
}

// Selective is implemented by a Reranker that reads the Text and Image of
// only some of a request's candidates, such as a model reranker that
// judges the best few by an offline score and keeps the rest in that
// order. Selected returns the indexes in req.Candidates of the ones it
// reads, ascending, from what Rerank would decide them by (the vectors and
// the kept history, not the texts), so a caller that makes texts at a cost,
// such as model-written summaries, makes them for these candidates only and
// leaves the others' Text and Image empty in the Request it passes to
// Rerank.
type Selective interface {
	Reranker
	Selected(ctx context.Context, req Request) ([]int, error)
}

// ContentReader is implemented by a Reranker that says whether it reads the
// Text and Image of the items it is given. One that reads only vectors, such
// as Preference, needs no summaries or pictures, so a caller that makes them
// at a cost (the hmpps engine) makes none for it; and, being an offline
// ranker itself, it has nothing simpler to fall back to, so its failure is an
// error rather than a reason to degrade. A Reranker without the method is
// taken to read both (see ReadsContent).
type ContentReader interface {
	Reranker
	ReadsContent() bool
}

// ReadsContent reports whether r reads its items' Text and Image: true
// unless r is a ContentReader that says otherwise.
func ReadsContent(r Reranker) bool {
	cr, ok := r.(ContentReader)
	return !ok || cr.ReadsContent()
}

// Fallbacker is implemented by a Reranker that scores with an offline twin
// what it cannot score itself, such as MLLM. WithFallback returns the
// reranker with f as that twin, or the reranker as it is when it was given a
// twin of its own; it never modifies the receiver.
type Fallbacker interface {
	Reranker
	WithFallback(f Reranker) Reranker
}

// Prompter is implemented by a Reranker that asks a model with a prompt
// rendered from a PromptTemplate, such as MLLM. A training export renders its
// records with the same template, so that a model fine-tuned on them is asked
// at search time what it learned from.
type Prompter interface {
	Reranker
	PromptTemplate() PromptTemplate
}

// Func adapts a function to the Reranker interface.
type Func func(ctx context.Context, req Request) (Result, error)

// Rerank calls f.
func (f Func) Rerank(ctx context.Context, req Request) (Result, error) { return f(ctx, req) }
