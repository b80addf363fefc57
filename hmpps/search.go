package hmpps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hmpps/rerank"
	"hmpps/retrieval"
)

// Search runs one personalized search: it embeds the query, takes the
// candidates (the request's, or the best matches of the vector and lexical
// indexes, see WithRetrieval), keeps the history items relevant to the query
// (stage one), summarizes history and candidates around the query, and
// reranks the candidates for this user. An offline reranker reads vectors
// only, so with one the summaries are made for the results alone, after
// ranking (see WithReranker).
//
// With a trained model (WithModel), stage one keeps the history items of
// highest learned attention, and stage two is the learned score unless a
// model reranker is configured (see WithModel).
//
// The order is deterministic: results are sorted by Score descending, then
// LearnedScore (with a model) and RetrievalScore descending, then ID
// ascending, so exact ties come out in the
// same order on every run and every machine. The candidates retrieved from
// each index are its best matches with the same tie-break (score, then ID),
// fused lists break ties by ID too, and stage one keeps, among history items of equal relevance, the one the
// request lists first (ad-hoc History before HistoryIDs). Scores are float
// computations whose last bits may differ between architectures, so two
// candidates a rounding error apart are near-ties, not ties.
//
// Bad input (an empty query, a request over the engine's Limits, an unknown
// ID, a history product that cannot be embedded, an invalid filter) returns
// an error wrapping ErrInvalidRequest (ErrRequestTooLarge for a limit),
// ErrNotFound (an *UnknownIDsError naming every unknown ID) or the stage's
// own sentinel, such as retrieval.ErrInvalidVector. A stage that fails on a
// valid request falls back to its offline twin and the response is marked
// Degraded, except for a model the server does not have: that is a
// configuration error, returned wrapping retrieval.ErrModelNotFound.
func (e *Engine) Search(ctx context.Context, req Request) (*Response, error) {
	start := time.Now()
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	topN, err := e.validate(&req)
	if err != nil {
		return nil, err
	}
	s := &search{e: e, req: &req, resp: &Response{}, topN: topN}
	t := &s.resp.Timings
	s.stage(ctx, &t.Embed, s.embed)
	s.stage(ctx, &t.Retrieve, s.retrieve)
	if len(s.candidates) > 0 {
		s.stage(ctx, &t.HistoryFilter, s.keepHistory)
		s.stage(ctx, &t.Summarize, s.read)
		s.stage(ctx, &t.Rerank, s.rerank)
		s.stage(ctx, &t.Summarize, s.readResults)
		s.respond()
	}
	e.usage.addSearch(s.resp.Usage)
	if s.err != nil {
		return nil, s.err
	}
	t.Total = time.Since(start)
	return s.resp, nil
}

// validate checks the request and returns the number of results to return.
func (e *Engine) validate(req *Request) (int, error) {
	if err := e.cfg.limits.check(req); err != nil {
		return 0, err
	}
	if err := checkQuery(req.Query); err != nil {
		return 0, err
	}
	if req.TopN < 0 {
		return 0, fmt.Errorf("%w: TopN must not be negative, got %d", ErrInvalidRequest, req.TopN)
	}
	if req.HistoryK < 0 {
		return 0, fmt.Errorf("%w: HistoryK must not be negative, got %d", ErrInvalidRequest, req.HistoryK)
	}
	if err := req.Filter.Validate(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	seen := make(map[string]bool, len(req.CandidateIDs))
	for _, id := range req.CandidateIDs {
		if seen[id] {
			return 0, fmt.Errorf("%w: candidate %q given twice: %w", ErrInvalidRequest, id, ErrDuplicateID)
		}
		seen[id] = true
	}
	for i := range req.History {
		if err := req.History[i].validate(); err != nil {
			return 0, fmt.Errorf("%w: history item %d: %w", ErrInvalidRequest, i, err)
		}
	}
	if req.TopN == 0 {
		return e.cfg.topN, nil
	}
	return req.TopN, nil
}

// queryVector embeds the query into the fused space (see retrieval.VectorFusion),
// adding the embedder's model work to usage when it is not nil.
func (e *Engine) queryVector(ctx context.Context, query string, usage *retrieval.Usage) ([]float32, error) {
	vecs, u, err := retrieval.EmbedWithUsage(ctx, e.cfg.textEmbedder, []string{query})
	if usage != nil {
		*usage = usage.Add(u)
	}
	if err != nil {
		return nil, fmt.Errorf("hmpps: embed query: %w", err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("hmpps: embed query: embedder returned %d vectors for 1 text", len(vecs))
	}
	if err := retrieval.CheckVector(vecs[0], e.cfg.textEmbedder.Dimension()); err != nil {
		return nil, fmt.Errorf("hmpps: embed query: %w", err)
	}
	q, err := e.cfg.fusion.Query(vecs[0], e.cfg.imageDim())
	if err != nil {
		return nil, fmt.Errorf("hmpps: embed query: %w", err)
	}
	return q, nil
}

// rerank scores the candidates with rr and, when it fails or answers out of
// shape, with fallback (the offline preference reranker, or a trained
// model's score).
func (e *Engine) rerank(ctx context.Context, rr, fallback rerank.Reranker, req rerank.Request, resp *Response) ([]rerank.Score, error) {
	res, err := rr.Rerank(ctx, req)
	if err == nil && len(res.Scores) != len(req.Candidates) {
		err = fmt.Errorf("returned %d scores for %d candidates", len(res.Scores), len(req.Candidates))
	}
	resp.Usage = resp.Usage.Add(res.Usage)
	if err == nil {
		resp.Notes = append(resp.Notes, res.Notes...)
		return res.Scores, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// A model the server does not have is a configuration error, not a
	// passing fault: falling back would hide it behind degraded results.
	if errors.Is(err, rerank.ErrModelNotFound) {
		return nil, fmt.Errorf("hmpps: rerank: %w", err)
	}
	if !e.cfg.plan.readsContent {
		return nil, fmt.Errorf("hmpps: rerank: %w", err)
	}
	e.cfg.logger.WarnContext(ctx, "reranker failed; using the offline ranker", "err", err)
	res, ferr := fallback.Rerank(ctx, req)
	if ferr == nil && len(res.Scores) != len(req.Candidates) {
		ferr = fmt.Errorf("returned %d scores for %d candidates", len(res.Scores), len(req.Candidates))
	}
	if ferr != nil {
		return nil, fmt.Errorf("hmpps: rerank: %w (fallback: %w)", err, ferr)
	}
	for i := range res.Scores {
		res.Scores[i].Degraded = true
		res.Scores[i].Reason = "rerank: " + err.Error()
	}
	return res.Scores, nil
}

func joinReasons(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	default:
		return a + "; " + b
	}
}
