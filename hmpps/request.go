package hmpps

import (
	"time"

	"hmpps/rerank"
	"hmpps/retrieval"
)

// Request is one personalized search: who is searching (their purchase
// history), what for (the query), and optionally which candidates to rank.
type Request struct {
	// Query is the search text. It must contain at least one word and at
	// most Limits.QueryBytes bytes (DefaultMaxQueryBytes).
	Query string
	// History holds the user's past purchases as full products; they need
	// not be in the catalog. Items are embedded on the fly. History and
	// HistoryIDs together hold at most Limits.History items
	// (DefaultMaxHistory).
	History []Product
	// HistoryIDs names past purchases that are in the catalog. Unknown IDs
	// fail the request with an *UnknownIDsError naming them all, which
	// wraps ErrNotFound.
	HistoryIDs []string
	// CandidateIDs are the products to rank, e.g. from the caller's own
	// retriever. When empty, the engine retrieves the best matches for the
	// query under Filter, by default from both its vector and its lexical
	// index (see WithRetrieval). Unknown IDs fail the request with an
	// *UnknownIDsError naming them all, which wraps ErrNotFound. At most
	// Limits.Candidates IDs (DefaultMaxCandidates).
	CandidateIDs []string
	// Filter restricts candidates by metadata ("brand", "category" and the
	// attribute keys). It applies to retrieved and to given candidates.
	Filter retrieval.Filter
	// TopN is how many results to return. If zero, it defaults to the
	// engine's TopN (10).
	TopN int
	// ExcludeHistory drops candidates that are in the user's history
	// (History and HistoryIDs, matched by ID), for services that do not show
	// people what they already bought. If false, a product the user bought
	// can come back as a result, often near the top: it matches their
	// history best.
	ExcludeHistory bool
	// HistoryK overrides how many history items stage one keeps. If zero, the
	// engine's history filter setting applies.
	HistoryK int
}

// Response is the outcome of a Search.
type Response struct {
	// Results are the ranked candidates, best first, at most TopN: by Score
	// descending, ties broken by LearnedScore (with a model), then
	// RetrievalScore, both descending, then by ID ascending (see
	// Engine.Search).
	Results []Result
	// History holds the history items stage one kept for this query, most
	// relevant first; of equally relevant items, the one the request lists
	// first.
	History []KeptItem
	// Personalized is true when the results were ranked with the user's
	// history: stage one kept at least one history item for this query. It
	// is false when the request gave no history, when none of it was
	// relevant enough to the query to keep (see WithHistoryFilter and
	// Request.HistoryK), or when there were no candidates; the results are
	// then ranked by the query alone, the same for every user.
	Personalized bool
	// Degraded is true when any stage fell back to a simpler method for any
	// candidate; the results are still usable.
	Degraded bool
	// Timings is where the time went.
	Timings Timings
	// Usage counts model calls and tokens, summed over all stages: the
	// embeddings of the query and of ad-hoc History (with an embedder that
	// reports them, retrieval.UsageEmbedder), summaries, perspectives and
	// reranking. Engine.Usage adds up every search's, and indexing's.
	Usage retrieval.Usage
	// Candidates is the number of candidates that were scored.
	Candidates int
	// Notes say where a model stage worked differently from what its
	// configuration suggests without degrading any result: for example a
	// reranking model without vision that was sent texts and captions but no
	// pictures, or candidates beyond OllamaConfig.RerankCandidates that kept
	// their offline order. Empty when there is nothing to say.
	Notes []string
}

// Result is one ranked candidate with every stage's score.
type Result struct {
	// ID is the product's ID.
	ID string
	// Product is the catalog entry.
	Product Product
	// Score is the final score the results are sorted by: the reranker's,
	// or, with a model calibrated for the model reranker (see Calibrate),
	// the learned combination of the learned score and the model's
	// verdict, the candidates it did not judge below in the learned order.
	Score float64
	// RetrievalScore is the cosine similarity between the query and the
	// product's text in the embedding space.
	RetrievalScore float64
	// LexicalScore is the BM25F relevance of the product's text (title,
	// brand, category path, then attributes, description and caption) to
	// the query, over the engine's catalog (see lexical.Index and
	// WithLexical): 0 when no query word is in the text, unbounded above,
	// comparable between the results of one search.
	LexicalScore float64
	// PreferenceScore is the relevance-weighted mean similarity between the
	// product and the kept history items (0 with no history).
	PreferenceScore float64
	// FusedScore is the candidate's reciprocal-rank fusion score in
	// retrieval (see WithRetrieval and retrieval.RankFusion): how high the
	// lists that found it placed it. 0 when the request named the
	// candidates.
	FusedScore float64
	// LearnedScore is the trained model's score (see WithModel), on no
	// fixed scale; 0 without a model. With the offline reranker it is the
	// Score.
	LearnedScore float64
	// Verdict is what a model reranker answered about the product: the
	// log-odds of yes and the mass of the answer on yes or no. Nil when no
	// model judged it (the offline reranker, a candidate beyond
	// OllamaConfig.RerankCandidates, or no usable answer).
	Verdict *rerank.Verdict
	// Summary is the query-aware summary of the product: the one the
	// reranker read, or, with an offline reranker, which reads vectors
	// only, the same summary made for the results alone.
	Summary string
	// Degraded is true when a stage fell back for this product.
	Degraded bool
	// DegradedReason says which stage fell back and why.
	DegradedReason string
}

// KeptItem is a history item that stage one kept.
type KeptItem struct {
	// ID is the history product's ID.
	ID string
	// Title is its title, for display.
	Title string
	// Score is its stage-one relevance to the query.
	Score float32
}

// Timings is the wall-clock time each stage of one search took.
type Timings struct {
	Embed         time.Duration // embedding the query and the ad-hoc history
	Retrieve      time.Duration // finding and loading candidates
	HistoryFilter time.Duration // stage one
	Summarize     time.Duration // summaries of history and candidates (of the results alone with an offline reranker)
	Rerank        time.Duration // the reranker
	Total         time.Duration // the whole Search call
}
