package hmpps

import (
	"hmpps/rerank"
	"hmpps/summarize"
)

// plan is what the engine does with its configured stages, decided once in
// New from the optional interfaces they implement, so that no search asks
// what type a stage is.
type plan struct {
	// readsContent says the reranker reads summaries and pictures (see
	// rerank.ReadsContent). Without, a search makes them for its results
	// only, after ranking, and a failing reranker is an error: it is the
	// offline ranker, with nothing simpler to fall back to.
	readsContent bool
	// learnedRanks says a trained model's stage two ranks the candidates by
	// itself: a model is loaded with stage two on, in place of a reranker
	// that reads vectors only.
	learnedRanks bool
	// fallbacker is the reranker when it takes an offline twin (see
	// rerank.Fallbacker); with a model, each search gives it the learned
	// score as that twin. Nil otherwise.
	fallbacker rerank.Fallbacker
	// template renders the prompts of a training export: the reranker's
	// own when it is a rerank.Prompter.
	template rerank.PromptTemplate
	// preparer prepares each product's text once for the extractive
	// summaries: the configured summarizer when it is a summarize.Preparer,
	// else the offline fallback's.
	preparer summarize.Preparer
	// verdict is a calibrated model's combination of its learned score
	// with the reranker's verdicts, when the reranker is the judge it was
	// fit for and the fit is trusted (see planVerdict); nil otherwise.
	verdict *verdict
	// notes are said in every search's Response.Notes, such as a judge
	// the calibration did not trust and that is therefore not asked.
	notes []string
}

// newPlan decides c's plan; c's stages and model are set.
func newPlan(c *config) plan {
	p := plan{readsContent: rerank.ReadsContent(c.reranker), template: rerank.DefaultPromptTemplate,
		preparer: summarize.Extractive{}}
	p.learnedRanks = c.model != nil && !c.model.DisableStageTwo && !p.readsContent
	if f, ok := c.reranker.(rerank.Fallbacker); ok {
		p.fallbacker = f
	}
	if pr, ok := c.reranker.(rerank.Prompter); ok {
		p.template = pr.PromptTemplate()
	}
	if pr, ok := c.summarizer.(summarize.Preparer); ok {
		p.preparer = pr
	}
	p.planVerdict(c)
	return p
}
