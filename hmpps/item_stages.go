package hmpps

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"hmpps/retrieval"
	"hmpps/summarize"
)

// The stages a search runs after retrieval, each over the items it reads;
// Search and the training export share them.

// keepHistory runs stage one over the history entries and returns the kept
// ones as items, with their relevance.
func (e *Engine) keepHistory(qvec []float32, history []*entry, k int) ([]item, error) {
	if len(history) == 0 {
		return nil, nil
	}
	f := e.cfg.history
	if k > 0 {
		f.K = k
	}
	hist := make([]retrieval.HistoryItem, len(history))
	for i, h := range history {
		hist[i] = retrieval.HistoryItem{ID: h.product.ID, Vector: h.vector}
	}
	kept, err := f.Filter(qvec, nil, hist)
	if err != nil {
		return nil, fmt.Errorf("hmpps: history filter: %w", err)
	}
	out := make([]item, len(kept))
	for i, k := range kept {
		out[i] = item{en: history[k.Index], relevance: k.Score}
	}
	return out, nil
}

// read prepares what the reranker reads of each item: its picture, then its
// summary around the query.
func (e *Engine) read(ctx context.Context, query string, items []*item) error {
	entries := make([]*entry, len(items))
	for i, it := range items {
		entries[i] = it.en
		it.read = true
	}
	for i, pic := range e.modelImages(ctx, entries) {
		items[i].picture = pic
	}
	e.summarize(ctx, query, items)
	if err := ctx.Err(); err != nil {
		return err
	}
	// A model the server does not have is a configuration error: falling
	// back to extractive summaries would hide it behind degraded results.
	for i := range items {
		if err := items[i].summary.err; errors.Is(err, summarize.ErrModelNotFound) {
			return fmt.Errorf("hmpps: summarize: %w", err)
		}
	}
	return nil
}

// summarize sets each item's summary, with up to the configured concurrency
// of summaries at a time. A summarizer error falls back to the offline
// extractive summary of the same text and is kept on the item for read to
// judge; only a cancelled ctx stops the work.
func (e *Engine) summarize(ctx context.Context, query string, items []*item) {
	if e.cfg.summarizer == nil {
		for _, it := range items {
			it.summary.text = it.en.text()
		}
		return
	}
	// Workers take the next item until none is left: as many goroutines as
	// the concurrency allows, not one per item.
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(items) || ctx.Err() != nil {
				return
			}
			e.summarizeItem(ctx, query, items[i])
		}
	}
	workers := min(e.cfg.concurrency, len(items))
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// summarizeItem sets it.summary.
func (e *Engine) summarizeItem(ctx context.Context, query string, it *item) {
	doc := e.document(it)
	s, err := e.cfg.summarizer.Summarize(ctx, query, doc, e.cfg.summaryWords)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		e.cfg.logger.WarnContext(ctx, "summarizer failed; using extractive summary", "product", doc.ID, "err", err)
		s, _ = summarize.Extractive{}.Summarize(ctx, query, doc, e.cfg.summaryWords)
		it.summary.degraded = "summarize: " + err.Error()
		it.summary.err = err
	}
	it.summary.text, it.summary.usage = s.Text, s.Usage
	if it.summary.text == "" {
		it.summary.text = it.en.product.Title
	}
}
