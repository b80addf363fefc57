// Package summarize rewrites a product's long text into a short one that keeps
// what the query cares about. The Summarizer interface is the seam: the
// offline Extractive summarizer picks the sentences most similar to the query
// under a word budget; model-backed summarizers plug in behind it.
package summarize

import (
	"context"

	"hmpps/internal/ollamacall"
)

// Document is the text of one product to summarize.
type Document struct {
	// ID identifies the product; caching summarizers key on it.
	ID string
	// Title is the product's title; it is context, not part of the budget.
	Title string
	// Text is the product's long text; it may contain HTML.
	Text string
	// Image holds the product's prepared image bytes, if any, for summarizers
	// that can read images.
	Image []byte
	// Prepared, if not nil, is Text as Extractive.Prepare returned it:
	// Extractive then reads it instead of parsing Text again. Other
	// summarizers ignore it.
	Prepared *Prepared
}

// Summary is a summarizer's output for one document.
type Summary struct {
	// Text is the summary, plain text.
	Text string
	// Usage is the model work the summary took.
	Usage Usage
}

// Summarizer summarizes one document for one query in at most maxWords
// words. Implementations must be safe for concurrent use.
type Summarizer interface {
	Summarize(ctx context.Context, query string, doc Document, maxWords int) (Summary, error)
}

// Preparer is implemented by a Summarizer that reads a text faster when it
// was prepared once beforehand, such as Extractive: a caller that summarizes
// the same catalog again and again keeps what Prepare returns and passes it
// as Document.Prepared.
type Preparer interface {
	Summarizer
	Prepare(text string) *Prepared
}

// Usage is the model work of one summary: the same type as
// Usage, so that the engine adds every stage's work up.
type Usage = ollamacall.Usage

// Func adapts a function to the Summarizer interface.
type Func func(ctx context.Context, query string, doc Document, maxWords int) (Summary, error)

// Summarize calls f.
func (f Func) Summarize(ctx context.Context, query string, doc Document, maxWords int) (Summary, error) {
	return f(ctx, query, doc, maxWords)
}
