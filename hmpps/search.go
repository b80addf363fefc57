package hmpps

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"hmpps/internal/tokenize"
	"hmpps/rerank"
	"hmpps/retrieval"
	"hmpps/summarize"
)

// Search runs one personalized search: it embeds the query, takes the
// candidates (the request's, or the index's best matches), keeps the history
// items relevant to the query (stage one), summarizes history and candidates
// around the query, and reranks the candidates for this user.
//
// The order is deterministic: results are sorted by Score descending, then
// RetrievalScore descending, then ID ascending, so exact ties come out in the
// same order on every run and every machine. The candidates retrieved from
// the index are its best matches with the same tie-break (score, then ID),
// and stage one keeps, among history items of equal relevance, the one the
// request lists first (ad-hoc History before HistoryIDs). Scores are float
// computations whose last bits may differ between architectures, so two
// candidates a rounding error apart are near-ties, not ties.
//
// Bad input (an empty query, an unknown ID, a history product that cannot be
// embedded, an invalid filter) returns an error wrapping ErrInvalidRequest,
// ErrNotFound or the stage's own sentinel. A stage that fails on a valid
// request falls back to its offline twin and the response is marked Degraded.
func (e *Engine) Search(ctx context.Context, req Request) (*Response, error) {
	start := time.Now()
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	topN, err := e.validate(&req)
	if err != nil {
		return nil, err
	}
	resp := &Response{}

	// Embed the query and any history given as full products.
	t := time.Now()
	qvec, err := e.queryVector(ctx, req.Query)
	if err != nil {
		return nil, err
	}
	adhoc, err := e.prepare(ctx, req.History)
	if err != nil {
		return nil, fmt.Errorf("hmpps: history: %w", err)
	}
	resp.Timings.Embed = time.Since(t)

	t = time.Now()
	history, err := e.lookup(req.HistoryIDs)
	if err != nil {
		return nil, fmt.Errorf("hmpps: history: %w", err)
	}
	history = dedupe(append(adhoc, history...))
	candidates, err := e.candidates(ctx, qvec, &req)
	if err != nil {
		return nil, err
	}
	if req.ExcludeHistory {
		candidates = withoutHistory(candidates, history)
	}
	resp.Timings.Retrieve = time.Since(t)
	resp.Candidates = len(candidates)
	if len(candidates) == 0 {
		resp.Timings.Total = time.Since(start)
		return resp, nil
	}

	// Stage one: keep the history items relevant to the query.
	t = time.Now()
	kept, err := e.filterHistory(qvec, history, req.HistoryK)
	if err != nil {
		return nil, err
	}
	resp.Timings.HistoryFilter = time.Since(t)
	resp.History = make([]KeptItem, len(kept))
	for i, k := range kept {
		resp.History[i] = KeptItem{ID: k.entry.product.ID, Title: k.entry.product.Title, Score: k.score}
	}

	// Summaries of everything the reranker will read.
	t = time.Now()
	images, sums, err := e.readable(ctx, req.Query, kept, candidates)
	if err != nil {
		return nil, err
	}
	resp.Timings.Summarize = time.Since(t)

	rreq := rerank.Request{Query: req.Query, QueryVector: qvec}
	for i, k := range kept {
		it := e.item(k.entry, sums[i].text, images[i].data)
		it.Relevance = k.score
		rreq.History = append(rreq.History, it)
	}
	for i, c := range candidates {
		rreq.Candidates = append(rreq.Candidates, e.item(c, sums[len(kept)+i].text, images[len(kept)+i].data))
	}

	t = time.Now()
	scores, rerankErr := e.rerank(ctx, rreq, resp)
	if rerankErr != nil {
		return nil, rerankErr
	}
	resp.Timings.Rerank = time.Since(t)

	resp.Results = make([]Result, len(candidates))
	for i, c := range candidates {
		s := scores[i]
		sum := sums[len(kept)+i]
		resp.Usage = resp.Usage.Add(sum.usage)
		r := Result{
			ID:              c.product.ID,
			Product:         c.product.clone(),
			Score:           s.Score,
			RetrievalScore:  retrieval.Dot64(qvec, c.vector),
			PreferenceScore: rerank.PreferenceScore(c.vector, rreq.History),
			RerankScore:     s.Score,
			Summary:         sum.text,
			Degraded:        s.Degraded || sum.degraded != "" || images[len(kept)+i].degraded != "",
		}
		r.DegradedReason = joinReasons(joinReasons(images[len(kept)+i].degraded, sum.degraded), s.Reason)
		resp.Degraded = resp.Degraded || r.Degraded
		resp.Results[i] = r
	}
	for i := range kept {
		resp.Usage = resp.Usage.Add(sums[i].usage)
		resp.Degraded = resp.Degraded || sums[i].degraded != "" || images[i].degraded != ""
	}
	// The documented order: Score, then RetrievalScore, both descending,
	// then ID ascending; IDs are unique, so the order is total.
	slices.SortStableFunc(resp.Results, func(a, b Result) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.RetrievalScore, a.RetrievalScore); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if len(resp.Results) > topN {
		resp.Results = resp.Results[:topN]
	}
	resp.Timings.Total = time.Since(start)
	return resp, nil
}

// validate checks the request and returns the number of results to return.
func (e *Engine) validate(req *Request) (int, error) {
	if len(tokenize.Words(req.Query)) == 0 {
		return 0, ErrEmptyQuery
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

// queryVector embeds the query into the fused space (see retrieval.Fusion).
func (e *Engine) queryVector(ctx context.Context, query string) ([]float32, error) {
	vecs, err := e.cfg.textEmbedder.Embed(ctx, []string{query})
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

// candidates returns the request's candidates that pass its filter, or the
// index's best matches for the query.
func (e *Engine) candidates(ctx context.Context, qvec []float32, req *Request) ([]*entry, error) {
	if len(req.CandidateIDs) > 0 {
		all, err := e.lookup(req.CandidateIDs)
		if err != nil {
			return nil, fmt.Errorf("hmpps: candidates: %w", err)
		}
		out := all[:0]
		for _, en := range all {
			if len(req.Filter) == 0 || req.Filter.Match(en.product.metadata()) {
				out = append(out, en)
			}
		}
		return out, nil
	}
	if e.cfg.retrieveK == 0 {
		return nil, nil
	}
	hits, err := e.ix.Search(ctx, qvec, e.cfg.retrieveK, req.Filter)
	if err != nil {
		return nil, fmt.Errorf("hmpps: retrieve: %w", err)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]*entry, 0, len(hits))
	for _, h := range hits {
		// A product deleted since the index answered is skipped.
		if en, ok := e.products[h.ID]; ok {
			out = append(out, en)
		}
	}
	return out, nil
}

// keptEntry is a history entry that stage one kept, with its relevance.
type keptEntry struct {
	entry *entry
	score float32
}

// filterHistory runs stage one over the history entries.
func (e *Engine) filterHistory(qvec []float32, history []*entry, k int) ([]keptEntry, error) {
	if len(history) == 0 {
		return nil, nil
	}
	f := e.cfg.history
	if k > 0 {
		f.K = k
	}
	items := make([]retrieval.HistoryItem, len(history))
	for i, h := range history {
		items[i] = retrieval.HistoryItem{ID: h.product.ID, Vector: h.vector}
	}
	kept, err := f.Filter(qvec, nil, items)
	if err != nil {
		return nil, fmt.Errorf("hmpps: history filter: %w", err)
	}
	out := make([]keptEntry, len(kept))
	for i, k := range kept {
		out[i] = keptEntry{entry: history[k.Index], score: k.Score}
	}
	return out, nil
}

// readable prepares the pictures and summaries of what the reranker reads:
// the kept history, then the candidates, in that order in both slices.
func (e *Engine) readable(ctx context.Context, query string, kept []keptEntry, candidates []*entry) ([]modelImage, []summary, error) {
	items := make([]*entry, 0, len(kept)+len(candidates))
	for _, k := range kept {
		items = append(items, k.entry)
	}
	items = append(items, candidates...)
	images := e.modelImages(ctx, items)
	sums := e.summarize(ctx, query, items, images)
	return images, sums, ctx.Err()
}

// summary is one summarized item; degraded says why the fallback was used.
type summary struct {
	text     string
	usage    retrieval.Usage
	degraded string
}

// summarize summarizes items concurrently, each with its picture as the
// model stages see it (images). A summarizer error falls back to the offline
// extractive summary of the same text, so a search never fails because of
// it; only a cancelled ctx stops the work.
func (e *Engine) summarize(ctx context.Context, query string, items []*entry, images []modelImage) []summary {
	out := make([]summary, len(items))
	if e.cfg.summarizer == nil {
		for i, it := range items {
			out[i].text = it.text
		}
		return out
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.concurrency)
	for i, it := range items {
		g.Go(func() error {
			doc := summarize.Document{ID: it.product.ID, Title: it.product.Title, Text: it.product.summaryText(), Image: images[i].data}
			s, err := e.cfg.summarizer.Summarize(gctx, query, doc, e.cfg.summaryWords)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				e.cfg.logger.WarnContext(gctx, "summarizer failed; using extractive summary", "product", it.product.ID, "err", err)
				s, _ = summarize.Extractive{}.Summarize(gctx, query, doc, e.cfg.summaryWords)
				out[i].degraded = "summarize: " + err.Error()
			}
			out[i].text, out[i].usage = s.Text, s.Usage
			if out[i].text == "" {
				out[i].text = it.product.Title
			}
			return nil
		})
	}
	_ = g.Wait() // the only error is ctx's, which the caller checks
	return out
}

// item turns an entry into what a reranker reads: its text, its vector and
// its picture. A summary gets the product's header (title, brand, category
// path) in front: summaries leave those out, and a model cannot place a
// product, or match a query about its category, without them. The full
// text already starts with them.
func (e *Engine) item(en *entry, text string, image []byte) rerank.Item {
	if h := en.product.header(); text != en.text && h != "" {
		if text == en.product.Title {
			text = h // an empty summary fell back to the title
		} else {
			text = h + " " + text
		}
	}
	return rerank.Item{ID: en.product.ID, Text: text, Vector: en.vector, Image: image}
}

// rerank scores the candidates with the configured reranker and, when it
// fails or answers out of shape, with the offline preference reranker.
func (e *Engine) rerank(ctx context.Context, req rerank.Request, resp *Response) ([]rerank.Score, error) {
	res, err := e.cfg.reranker.Rerank(ctx, req)
	if err == nil && len(res.Scores) != len(req.Candidates) {
		err = fmt.Errorf("returned %d scores for %d candidates", len(res.Scores), len(req.Candidates))
	}
	resp.Usage = resp.Usage.Add(res.Usage)
	if err == nil {
		return res.Scores, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if _, offline := e.cfg.reranker.(rerank.Preference); offline {
		return nil, fmt.Errorf("hmpps: rerank: %w", err)
	}
	e.cfg.logger.WarnContext(ctx, "reranker failed; using preference reranker", "err", err)
	res, ferr := rerank.Preference{}.Rerank(ctx, req)
	if ferr != nil {
		return nil, fmt.Errorf("hmpps: rerank: %w (fallback: %w)", err, ferr)
	}
	for i := range res.Scores {
		res.Scores[i].Degraded = true
		res.Scores[i].Reason = "rerank: " + err.Error()
	}
	return res.Scores, nil
}

// withoutHistory returns the candidates that are not in history.
func withoutHistory(candidates, history []*entry) []*entry {
	bought := make(map[string]bool, len(history))
	for _, h := range history {
		bought[h.product.ID] = true
	}
	out := candidates[:0]
	for _, c := range candidates {
		if !bought[c.product.ID] {
			out = append(out, c)
		}
	}
	return out
}

// dedupe drops repeated purchases of the same product, keeping the first.
func dedupe(entries []*entry) []*entry {
	seen := make(map[string]bool, len(entries))
	out := entries[:0]
	for _, en := range entries {
		if !seen[en.product.ID] {
			seen[en.product.ID] = true
			out = append(out, en)
		}
	}
	return out
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
