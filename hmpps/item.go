package hmpps

import (
	"hmpps/rerank"
	"hmpps/retrieval"
	"hmpps/summarize"
)

// item is one product on its way through a search, or a training export:
// a history item that stage one kept or a candidate, with what each stage
// found out about it. The stages fill it in order; nothing is kept in
// slices beside it.
type item struct {
	en *entry
	// relevance is stage one's score of a history item.
	relevance float32
	// picture is what the model stages see of the product.
	picture modelImage
	// summary is what the reranker reads of the product's text.
	summary summary
	// read says whether picture and summary are set: a search reads only
	// the items its reranker reads, and then the results.
	read bool
	// retrieval is the candidate's similarity to the query.
	retrieval float64
	// lexical is the candidate's BM25F score for the query, from the
	// engine's lexical index (0 for a history item).
	lexical float64
	// fused is the candidate's score in the fused retrieval lists (0 for
	// a candidate the request named).
	fused float64
	// score is the reranker's verdict on a candidate.
	score rerank.Score
	// learned is a trained model's score of a candidate (0 without one).
	learned float64
}

// summary is one summarized item; degraded says why the fallback was used.
type summary struct {
	text     string
	usage    retrieval.Usage
	degraded string
	// err is the summarizer's error behind degraded, kept so that read can
	// tell a missing model (an error for the caller) from a passing fault.
	err error
}

// degradedReason joins why the item's picture, summary and score were
// degraded, or returns "" when none was.
func (it *item) degradedReason() string {
	return joinReasons(joinReasons(it.picture.degraded, it.summary.degraded), it.score.Reason)
}

// degraded reports whether any stage fell back for this item.
func (it *item) degraded() bool {
	return it.picture.degraded != "" || it.summary.degraded != "" || it.score.Degraded
}

// document returns what the summarizer reads of the item, its text
// prepared for the extractive summaries (see Engine.prepared).
func (e *Engine) document(it *item) summarize.Document {
	p := &it.en.product
	text := it.en.summaryText()
	return summarize.Document{ID: p.ID, Title: p.Title, Text: text, Image: it.picture.data, Prepared: e.prepared(it.en, text)}
}

// rerankItem turns the item into what a reranker reads: its vector and
// relevance and, if it was read, its summary and picture. A summary gets
// the product's header (title, brand, category path) in front: summaries
// leave those out, and a model cannot place a product, or match a query
// about its category, without them. The full text already starts with them.
func (it *item) rerankItem() rerank.Item {
	en := it.en
	out := rerank.Item{ID: en.product.ID, Vector: en.vector, Relevance: it.relevance}
	if !it.read {
		return out
	}
	text := it.summary.text
	if h := en.header(); h != "" && text != en.text() {
		if text == en.product.Title {
			text = h // an empty summary fell back to the title
		} else {
			text = h + " " + text
		}
	}
	out.Text, out.Image = text, it.picture.data
	return out
}

// pointers returns a pointer to each of items, in order.
func pointers(items []item) []*item {
	out := make([]*item, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
