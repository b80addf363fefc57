package hmpps

import (
	"cmp"
	"context"
	"slices"
	"time"

	"hmpps/rerank"
	"hmpps/retrieval"
)

// search is one Search call on its way through the stages. Each stage reads
// what the ones before it left in the items and adds its own part.
type search struct {
	e    *Engine
	req  *Request
	resp *Response
	// err is the first stage's error; once it is set, no stage runs.
	err  error
	qvec []float32
	// history is the request's history, before stage one.
	history []*entry
	// items are the history items stage one kept, then the candidates;
	// kept and candidates are the two parts.
	items, kept, candidates []item
	// rr is the reranker of this search and fallback its offline twin.
	rr, fallback rerank.Reranker
	// ranked is what the reranker was asked.
	ranked rerank.Request
	// topN is the number of results the request asked for, and best the
	// best candidates, at most topN, in the documented order.
	topN int
	best []*item
	// learned is the trained model's view of the search; nil without a
	// model.
	learned *learned
}

// stage runs one stage unless an earlier one failed, and records its time.
func (s *search) stage(ctx context.Context, took *time.Duration, run func(context.Context) error) {
	if s.err != nil {
		return
	}
	t := time.Now()
	s.err = run(ctx)
	*took += time.Since(t)
}

// embed embeds the query and any history given as full products, and
// looks up the rest of the history.
func (s *search) embed(ctx context.Context) error {
	qvec, err := s.e.queryVector(ctx, s.req.Query, &s.resp.Usage)
	if err != nil {
		return err
	}
	s.qvec = qvec
	history, usage, err := s.e.history(ctx, s.req.History, s.req.HistoryIDs)
	s.resp.Usage = s.resp.Usage.Add(usage)
	if err != nil {
		return err
	}
	s.history = history
	return nil
}

// retrieve finds the candidates.
func (s *search) retrieve(ctx context.Context) error {
	candidates, fused, err := s.e.candidates(ctx, s.qvec, s.req, s.history)
	if err != nil {
		return err
	}
	// A trained model's third source: what was bought with the history,
	// added to what retrieval found.
	if m := s.e.cfg.model; len(s.req.CandidateIDs) == 0 && m.neighbors() > 0 {
		candidates, err = s.e.addNeighbors(ctx, m.collab.table.Without(), s.history, candidates, s.req.Filter, m.neighbors())
		if err != nil {
			return err
		}
		fused = append(fused, make([]float64, len(candidates)-len(fused))...)
	}
	s.candidates = make([]item, len(candidates))
	ids := make([]string, len(candidates))
	for i, en := range candidates {
		ids[i] = en.product.ID
	}
	// A candidate deleted since it was looked up scores 0.
	lexical := s.e.lex.Score(s.req.Query, ids, make([]float64, 0, len(ids)))
	for i, en := range candidates {
		s.candidates[i] = item{en: en, retrieval: retrieval.Dot64(s.qvec, en.vector), lexical: lexical[i]}
		if fused != nil {
			s.candidates[i].fused = fused[i]
		}
	}
	s.resp.Candidates = len(candidates)
	return nil
}

// keepHistory is stage one: it keeps the history items relevant to the
// query, by the learned attention when a model is loaded, else by the
// configured filter.
func (s *search) keepHistory(context.Context) error {
	cands := make([]*entry, len(s.candidates))
	lex := make([]float64, len(s.candidates))
	for i := range s.candidates {
		cands[i], lex[i] = s.candidates[i].en, s.candidates[i].lexical
	}
	kept, learned, err := s.e.stageOne(s.req.Query, s.qvec, s.history, cands, lex, s.req.HistoryK)
	if err != nil {
		return err
	}
	s.learned = learned
	s.items = append(kept, s.candidates...)
	s.kept, s.candidates = s.items[:len(kept)], s.items[len(kept):]
	// The reranker of this search, and its offline twin: the learned
	// score's when a model is loaded and a model reranker judges (with the
	// offline one, the learned score ranks by itself).
	plan := &s.e.cfg.plan
	s.rr, s.fallback = s.e.cfg.reranker, rerank.Reranker(rerank.Preference{})
	if s.learned != nil && !plan.learnedRanks {
		s.fallback = s.learned.ranker(s.candidates)
		if plan.fallbacker != nil {
			s.rr = plan.fallbacker.WithFallback(s.fallback)
		}
	}
	s.resp.Personalized = len(s.kept) > 0
	s.resp.History = make([]KeptItem, len(s.kept))
	for i, k := range s.kept {
		s.resp.History[i] = KeptItem{ID: k.en.product.ID, Title: k.en.product.Title, Score: k.relevance}
	}
	return nil
}

// read prepares the pictures and summaries of what the reranker reads:
// nothing for one that reads vectors only (see rerank.ReadsContent); for a
// rerank.Selective one, the kept history and the candidates it selects; for
// any other, the kept history and every candidate.
func (s *search) read(ctx context.Context) error {
	if !s.e.cfg.plan.readsContent {
		return nil
	}
	items := pointers(s.items)
	if sel, ok := s.rr.(rerank.Selective); ok {
		// Without a selection (an invalid vector, say), every candidate is
		// read, and the reranker's own error will tell.
		if chosen, err := sel.Selected(ctx, s.request()); err == nil {
			items = items[:len(s.kept)]
			for _, i := range chosen {
				if i >= 0 && i < len(s.candidates) {
					items = append(items, &s.candidates[i])
				}
			}
		}
	}
	return s.e.read(ctx, s.req.Query, items)
}

// readResults summarizes the results that the reranker did not read: all
// of them for an offline reranker, whose other candidates' summaries would
// go nowhere.
func (s *search) readResults(ctx context.Context) error {
	var unread []*item
	for _, it := range s.best {
		if !it.read {
			unread = append(unread, it)
		}
	}
	if len(unread) == 0 {
		return nil
	}
	return s.e.read(ctx, s.req.Query, unread)
}

// request returns what the reranker reads: the query, the kept history and
// the candidates, each with its summary and picture if they were read.
func (s *search) request() rerank.Request {
	req := rerank.Request{
		Query:       s.req.Query,
		QueryVector: s.qvec,
		History:     make([]rerank.Item, len(s.kept)),
		Candidates:  make([]rerank.Item, len(s.candidates)),
	}
	for i := range s.kept {
		req.History[i] = s.kept[i].rerankItem()
	}
	best := 0.0
	for i := range s.candidates {
		best = max(best, s.candidates[i].lexical)
	}
	for i := range s.candidates {
		req.Candidates[i] = s.candidates[i].rerankItem()
		if best > 0 {
			req.Candidates[i].Lexical = s.candidates[i].lexical / best
		}
	}
	return req
}

// rerank scores the candidates for this user.
func (s *search) rerank(ctx context.Context) error {
	s.ranked = s.request()
	if s.e.cfg.plan.learnedRanks {
		s.learned.rankLearned(s.candidates)
		s.resp.Notes = append(s.resp.Notes, s.e.cfg.plan.notes...)
		s.rank()
		return nil
	}
	scores, err := s.e.rerank(ctx, s.rr, s.fallback, s.ranked, s.resp)
	if err != nil {
		return err
	}
	for i := range s.candidates {
		s.candidates[i].score = scores[i]
	}
	s.combineVerdicts()
	s.rank()
	return nil
}

// rank puts the topN best candidates in s.best.
func (s *search) rank() {
	best := make([]*item, len(s.candidates))
	for i := range s.candidates {
		best[i] = &s.candidates[i]
		if s.learned != nil {
			best[i].learned = s.learned.scores[i]
		}
	}
	// The documented order: Score, then LearnedScore, then RetrievalScore,
	// all descending, then ID ascending; IDs are unique, so the order is
	// total.
	slices.SortStableFunc(best, func(a, b *item) int {
		if c := cmp.Compare(b.score.Score, a.score.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.learned, a.learned); c != 0 {
			return c
		}
		if c := cmp.Compare(b.retrieval, a.retrieval); c != 0 {
			return c
		}
		return cmp.Compare(a.en.product.ID, b.en.product.ID)
	})
	s.best = best[:min(s.topN, len(best))]
}

// respond fills the response: usage and degradation over every item, and
// the best candidates as results, the only ones whose product is cloned
// and whose extras are computed.
func (s *search) respond() {
	if s.err != nil {
		return
	}
	resp := s.resp
	for i := range s.items {
		it := &s.items[i]
		resp.Usage = resp.Usage.Add(it.summary.usage)
		resp.Degraded = resp.Degraded || it.degraded()
	}
	resp.Results = make([]Result, len(s.best))
	for i, it := range s.best {
		resp.Results[i] = Result{
			ID:              it.en.product.ID,
			Product:         it.en.rec.product(),
			Score:           it.score.Score,
			RetrievalScore:  it.retrieval,
			LexicalScore:    it.lexical,
			PreferenceScore: rerank.PreferenceScore(it.en.vector, s.ranked.History),
			FusedScore:      it.fused,
			LearnedScore:    it.learned,
			Verdict:         it.score.Verdict,
			Summary:         it.summary.text,
			Degraded:        it.degraded(),
			DegradedReason:  it.degradedReason(),
		}
	}
}
